"""The console script: one-line errors for bad settings, migrate, export-schema."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "boternity-graphql"


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "BOTERNITY_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=environ, timeout=60, check=False
    )


def test_migrate_applies_then_reports_nothing_to_do(tmp_path: Path) -> None:
    first = run("migrate", data_dir=tmp_path / "data")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied ")
    assert "0001_bots.sql" in first.stdout
    second = run("migrate", data_dir=tmp_path / "data")
    assert second.stdout == "applied 0 migration(s)\n"


def test_unwritable_data_dir_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run("migrate", data_dir=blocker / "data")
    assert result.returncode == 2
    assert result.stderr.startswith("boternity-graphql: error: cannot create the data dir ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_url_scheme_is_one_line_error(tmp_path: Path) -> None:
    result = run("serve", data_dir=tmp_path, BOTERNITY_DATABASE_URL="mongodb://x")
    assert result.returncode == 2
    assert result.stderr == (
        "boternity-graphql: error: unknown database URL scheme 'mongodb' in "
        "BOTERNITY_DATABASE_URL (use sqlite:///path or postgresql://user@host/database)\n"
    )


def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = run("export-schema", data_dir=tmp_path)
    assert result.returncode == 0
    committed = (Path(__file__).parents[2] / "schema.graphql").read_text()
    assert result.stdout == committed


def test_api_key_create_prints_key_once_and_list_never_shows_it(tmp_path: Path) -> None:
    created = run("api-key", "create", "--name", "ci", "--scope", "write", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert len(key) == 43
    listed = run("api-key", "list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert key not in listed.stdout
    assert listed.stdout.splitlines()[1].split()[:2] == ["ci", "write"]


def test_api_key_create_twice_with_one_name_is_refused(tmp_path: Path) -> None:
    run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    again = run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    assert again.returncode == 2
    assert again.stderr == "boternity-graphql: error: an API key named 'ci' exists already\n"


def test_api_key_revoke_marks_it_revoked(tmp_path: Path) -> None:
    run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    revoked = run("api-key", "revoke", "ci", data_dir=tmp_path)
    assert revoked.stdout == "Revoked API key 'ci'.\n"
    listed = run("api-key", "list", data_dir=tmp_path)
    assert listed.stdout.splitlines()[1].split()[-1] != "-"
    missing = run("api-key", "revoke", "ci", data_dir=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "boternity-graphql: error: no active API key named 'ci'\n"


def test_serve_with_auth_disabled_on_public_host_is_refused(tmp_path: Path) -> None:
    result = run("serve", "--host", "0.0.0.0", data_dir=tmp_path, BOTERNITY_AUTH="disabled")
    assert result.returncode == 2
    assert result.stderr == (
        "boternity-graphql: error: BOTERNITY_AUTH=disabled is allowed only on a loopback host, "
        "not 0.0.0.0\n"
    )


def test_unreachable_postgresql_is_one_line_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://bob:s3cret@127.0.0.1:1/nowhere"
    result = run("migrate", data_dir=tmp_path, BOTERNITY_DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "boternity-graphql: error: cannot connect to the PostgreSQL database "
        "postgresql://bob:***@127.0.0.1:1/nowhere: "
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stderr
