"""Settings from the environment and flags, in one place. Flags win over the environment.

Every field of db.settings.Settings is the environment variable BOTERNITY_<NAME> and the flag
--<name> (underscores become dashes).
"""

import argparse
import os
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from app.auth import is_loopback
from db.backend import check_url
from db.errors import SettingsError
from db.settings import Settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOG_LEVELS = {"critical", "error", "warning", "info", "debug", "trace"}


def env_name(name: str) -> str:
    return f"BOTERNITY_{name.upper()}"


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; unset flags stay None so the environment or default applies."""
    for spec in fields(Settings):
        parser.add_argument(
            flag_name(spec.name),
            dest=spec.name,
            default=None,
            help=f"{spec.metadata.get('help', '')} [{env_name(spec.name)}]",
        )


def _convert(name: str, kind: Any, raw: str) -> Any:
    text = raw.strip()
    if kind is int or kind == "int":
        try:
            value = int(text)
        except ValueError:
            raise SettingsError(f"{env_name(name)} must be a whole number, not '{raw}'") from None
        if value < 0:
            raise SettingsError(f"{env_name(name)} must not be negative")
        return value
    if kind is bool or kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(f"{env_name(name)} must be true or false, not '{raw}'")
    if kind is Path or kind == "Path":
        return Path(text).expanduser().absolute()
    if "tuple" in str(kind):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def load_settings(
    environ: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None
) -> Settings:
    """Settings from environ (default os.environ) and flags (argparse values; None = unset)."""
    environ = os.environ if environ is None else environ
    flags = flags or {}
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        raw = flags.get(spec.name)
        if raw is None:
            raw = environ.get(env_name(spec.name))
        if raw is None or (isinstance(raw, str) and raw == "" and spec.name != "database_url"):
            if spec.default is not MISSING:
                continue
            raw = None
        if raw is not None:
            values[spec.name] = (
                raw if not isinstance(raw, str) else _convert(spec.name, spec.type, raw)
            )
    data_dir = values.get("data_dir") or Path("~/.boternity").expanduser().absolute()
    values["data_dir"] = data_dir
    if not values.get("database_url"):
        values["database_url"] = f"sqlite:///{data_dir / 'boternity.db'}"
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.auth not in {"required", "disabled"}:
        raise SettingsError(f"BOTERNITY_AUTH must be required or disabled, not '{settings.auth}'")
    if settings.auth == "disabled" and not is_loopback(settings.host):
        raise SettingsError(
            f"BOTERNITY_AUTH=disabled is allowed only on a loopback host, not {settings.host}"
        )
    if settings.log_level not in _LOG_LEVELS:
        raise SettingsError(f"BOTERNITY_LOG_LEVEL must be one of {', '.join(sorted(_LOG_LEVELS))}")
    if not 0 < settings.port < 65536:
        raise SettingsError(f"BOTERNITY_PORT must be 1 to 65535, not {settings.port}")
    if not 1 <= settings.default_page_size <= settings.max_page_size:
        raise SettingsError("BOTERNITY_DEFAULT_PAGE_SIZE must be 1 to BOTERNITY_MAX_PAGE_SIZE")
    check_url(settings.database_url)


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
