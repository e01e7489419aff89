"""Settings from the environment and flags, in one place; flags win."""

from pathlib import Path

import pytest

from app.settings import load_settings
from db.errors import SettingsError


def test_load_settings_defaults_put_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={"BOTERNITY_DATA_DIR": str(tmp_path)})
    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path}/boternity.db"
    assert (settings.host, settings.port, settings.auth) == ("127.0.0.1", 8000, "required")
    assert (settings.max_depth, settings.max_tokens, settings.max_aliases) == (15, 2000, 30)
    assert (settings.max_batch, settings.max_page_size, settings.default_page_size) == (10, 500, 50)
    assert settings.max_body_bytes == 8 * 1024 * 1024


def test_load_settings_without_data_dir_uses_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings(environ={})
    assert settings.data_dir == tmp_path / ".boternity"


def test_load_settings_flags_win_over_environment(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"BOTERNITY_DATA_DIR": str(tmp_path), "BOTERNITY_PORT": "9000"},
        flags={"port": "9100", "host": None},
    )
    assert (settings.port, settings.host) == (9100, "127.0.0.1")


def test_load_settings_parses_lists_and_booleans(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "BOTERNITY_DATA_DIR": str(tmp_path),
            "BOTERNITY_CORS_ORIGINS": "https://a.example, https://b.example",
            "BOTERNITY_INTROSPECTION": "off",
        }
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.introspection is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BOTERNITY_PORT": "http"}, "BOTERNITY_PORT must be a whole number, not 'http'"),
        ({"BOTERNITY_PORT": "70000"}, "BOTERNITY_PORT must be 1 to 65535, not 70000"),
        ({"BOTERNITY_GRAPHIQL": "maybe"}, "BOTERNITY_GRAPHIQL must be true or false, not 'maybe'"),
        (
            {"BOTERNITY_AUTH": "sometimes"},
            "BOTERNITY_AUTH must be required or disabled, not 'sometimes'",
        ),
        (
            {"BOTERNITY_DATABASE_URL": "mysql://x/y"},
            "unknown database URL scheme 'mysql' in BOTERNITY_DATABASE_URL"
            " (use sqlite:///path or postgresql://user@host/database)",
        ),
    ],
)
def test_load_settings_bad_value_is_one_line_error(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"BOTERNITY_DATA_DIR": str(tmp_path), **environ})
    assert str(raised.value) == message


def test_word_settings_match_case_insensitively_and_keep_their_canonical_spelling(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        environ={"BOTERNITY_DATA_DIR": str(tmp_path), "BOTERNITY_AUTH": "Disabled"},
        flags={"log_level": "DEBUG", "broker": "Memory", "sqlite_synchronous": "extra"},
    )
    assert (settings.auth, settings.log_level) == ("disabled", "debug")
    assert (settings.broker, settings.sqlite_synchronous) == ("memory", "EXTRA")


@pytest.mark.parametrize(("value", "refused"), [("1", False), ("0", True)])
def test_max_page_size_is_at_least_one(tmp_path: Path, value: str, refused: bool) -> None:
    environ = {"BOTERNITY_DATA_DIR": str(tmp_path), "BOTERNITY_DEFAULT_PAGE_SIZE": "1"}
    if refused:
        with pytest.raises(SettingsError, match=r"^--max-page-size must be at least 1, not 0$"):
            load_settings(environ=environ, flags={"max_page_size": value})
    else:
        assert load_settings(environ=environ, flags={"max_page_size": value}).max_page_size == 1
