"""The allowed hosts (app/hosts.py): which Host headers are served, and the server's own
WebSocket origins, from the settings only."""

from pathlib import Path

import pytest

from app.hosts import allowed_hosts, host_name, own_origins
from db.errors import SettingsError
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8000", "localhost"),
        ("127.0.0.1:1", "127.0.0.1"),
        ("[::1]", "[::1]"),
        ("[::1]:8000", "[::1]"),
        ("::1", "[::1]"),
        ("api.example.com", "api.example.com"),
    ],
)
def test_host_name_drops_the_port_and_case(value: str, name: str) -> None:
    assert host_name(value) == name


def test_default_is_the_loopback_names_and_the_bind_host(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, auth="required", host="10.1.2.3")
    assert allowed_hosts(settings) == {"localhost", "127.0.0.1", "[::1]", "10.1.2.3"}


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_bind_address_is_not_a_host_name(tmp_path: Path, host: str) -> None:
    settings = make_settings(tmp_path, auth="required", host=host)
    assert allowed_hosts(settings) == {"localhost", "127.0.0.1", "[::1]"}


def test_the_setting_replaces_the_default(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, auth="required", allowed_hosts="API.example.com, ::1")
    assert allowed_hosts(settings) == {"api.example.com", "[::1]"}


def test_with_authentication_disabled_only_loopback_names_are_allowed(tmp_path: Path) -> None:
    assert allowed_hosts(make_settings(tmp_path)) == {"localhost", "127.0.0.1", "[::1]"}
    assert allowed_hosts(make_settings(tmp_path, allowed_hosts="localhost")) == {"localhost"}
    for listed in ("evil.example", "*", "localhost,10.0.0.1"):
        with pytest.raises(SettingsError, match="disabled answers only to loopback names"):
            make_settings(tmp_path, allowed_hosts=listed)


def test_an_entry_that_is_a_url_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="is not a host name"):
        make_settings(tmp_path, auth="required", allowed_hosts="https://api.example.com")


def test_own_origins_are_the_allowed_hosts_on_the_bind_port(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allowed_hosts="localhost,[::1]", port="8123")
    assert own_origins(settings) == {
        "http://localhost:8123",
        "https://localhost:8123",
        "http://[::1]:8123",
        "https://[::1]:8123",
    }
    everyone = make_settings(tmp_path, auth="required", allowed_hosts="*", port="80")
    assert own_origins(everyone) == set()
