"""Settings from the environment and flags, in one place. Flags win over the environment.

Every field of db.settings.Settings is the environment variable BOTERNITY_<NAME> and the flag
--<name> (underscores become dashes). A bad value is a one-line SettingsError naming the flag
or the variable as the user gave it.
"""

import argparse
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

from app.auth import is_loopback
from app.hosts import LOOPBACK_NAMES, host_name
from db.backend import SCHEMES, url_scheme
from db.errors import SettingsError
from db.postgres import SCHEMES as POSTGRES_SCHEMES
from db.settings import Settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
SETTINGS = {spec.name: spec for spec in fields(Settings)}


def env_name(name: str) -> str:
    return f"BOTERNITY_{name.upper()}"


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def default_text(spec: "Field[Any]") -> str:
    """A setting's default as the README and --help show it."""
    if spec.name == "data_dir":
        return "~/.boternity"
    if spec.name == "database_url":
        return "sqlite:///<data dir>/boternity.db"
    if isinstance(spec.default, bool):
        return str(spec.default).lower()
    if spec.default == ():
        return "(none)"
    return "(empty)" if spec.default == "" else str(spec.default)


def add_flags(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """One flag per named setting; unset flags stay None so the environment or default applies."""
    for name in names:
        spec = SETTINGS[name]
        parser.add_argument(
            flag_name(name),
            dest=name,
            default=None,
            metavar=name.upper(),
            help=f"{spec.metadata['help']} Default: {default_text(spec)}. Env: {env_name(name)}.",
        )


def sources(
    environ: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """For each setting given, how it was given: its flag (--port) or its variable."""
    environ = os.environ if environ is None else environ
    flags = flags or {}
    given: dict[str, str] = {}
    for name in SETTINGS:
        if flags.get(name) is not None:
            given[name] = flag_name(name)
        elif environ.get(env_name(name)) not in (None, ""):
            given[name] = env_name(name)
    return given


def load_settings(
    environ: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None
) -> Settings:
    """Settings from environ (default os.environ) and flags (argparse values; None = unset)."""
    environ = os.environ if environ is None else environ
    flags = flags or {}
    given = sources(environ, flags)
    values: dict[str, Any] = {}
    for name, source in given.items():
        raw = flags.get(name)
        raw = environ[source] if raw is None else raw
        values[name] = raw if not isinstance(raw, str) else _convert(SETTINGS[name], source, raw)
    data_dir = values.get("data_dir") or Path("~/.boternity").expanduser().absolute()
    values["data_dir"] = data_dir
    if not values.get("database_url"):
        values["database_url"] = f"sqlite:///{data_dir / 'boternity.db'}"
    settings = Settings(**values)
    _check(settings, lambda name: given.get(name, flag_name(name)))
    return settings


def _convert(spec: "Field[Any]", source: str, raw: str) -> Any:
    text = raw.strip()
    kind = spec.type
    if kind is int or kind == "int":
        try:
            value = int(text)
        except ValueError:
            raise SettingsError(f"{source} must be a whole number, not '{raw}'") from None
        _check_bounds(spec, source, value)
        return value
    if kind is bool or kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(f"{source} must be true or false, not '{raw}'")
    if kind is Path or kind == "Path":
        return Path(text).expanduser().absolute()
    if "tuple" in str(kind):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    choices: tuple[str, ...] = spec.metadata["choices"]
    if choices:
        for choice in choices:
            if choice.lower() == text.lower():
                return choice
        raise SettingsError(f"{source} must be {_one_of(choices)}, not '{raw}'{_why(spec)}")
    return text


def _check_bounds(spec: "Field[Any]", source: str, value: int) -> None:
    low: int = spec.metadata["minimum"]
    high: int | None = spec.metadata["maximum"]
    if high is not None and not low <= value <= high:
        raise SettingsError(f"{source} must be {low} to {high}, not {value}")
    if value < low:
        least = "must not be negative" if low == 0 else f"must be at least {low}"
        raise SettingsError(f"{source} {least}, not {value}")


def _one_of(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + f" or {choices[-1]}"


def _why(spec: "Field[Any]") -> str:
    if spec.name == "sqlite_synchronous":
        return " (OFF can lose or corrupt committed writes on a power loss)"
    return ""


def _check(settings: Settings, named: Callable[[str], str]) -> None:
    if settings.auth == "disabled" and not is_loopback(settings.host):
        raise SettingsError(
            f"{named('auth')}=disabled is allowed only on a loopback host, not {settings.host}"
        )
    _check_hosts(settings, named)
    if settings.default_page_size > settings.max_page_size:
        raise SettingsError(
            f"{named('default_page_size')} ({settings.default_page_size}) must not exceed "
            f"{named('max_page_size')} ({settings.max_page_size})"
        )
    scheme = url_scheme(settings.database_url)
    if scheme not in SCHEMES:
        raise SettingsError(
            f"unknown database URL scheme '{scheme}' in {named('database_url')} "
            "(use sqlite:///path or postgresql://user@host/database)"
        )
    if settings.broker == "postgres" and scheme not in POSTGRES_SCHEMES:
        raise SettingsError(
            f"{named('broker')}=postgres needs a postgresql:// database URL "
            f"({named('database_url')})"
        )


def _check_hosts(settings: Settings, named: Callable[[str], str]) -> None:
    for entry in settings.allowed_hosts:
        if "/" in entry or " " in entry:
            raise SettingsError(
                f"{named('allowed_hosts')}: '{entry}' is not a host name (give names such as "
                "api.example.com, without scheme or path)"
            )
    others = {host_name(entry) for entry in settings.allowed_hosts} - set(LOOPBACK_NAMES)
    if settings.auth == "disabled" and others:
        raise SettingsError(
            f"{named('auth')}=disabled answers only to loopback names ("
            f"{', '.join(LOOPBACK_NAMES)}); {named('allowed_hosts')} lists "
            f"{', '.join(sorted(others))}"
        )


def prepare_data_dir(settings: Settings) -> None:
    """Create the data dir if missing; a one-line SettingsError when it cannot be written."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(f"cannot create the data dir {path}: {error.strerror}") from None
    if not path.is_dir():
        raise SettingsError(f"the data dir {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingsError(f"the data dir {path} is not writable")
