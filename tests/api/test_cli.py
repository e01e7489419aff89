"""The console script: every bad setting and unusable database is one line on stderr and exit
2; migrate, export-schema, api-key; hints, the start-up line, --version and --help."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli_serve import startup_line
from app.settings import load_settings
from tests.server import free_port, started_server

BIN = Path(sys.executable).parent / "boternity-graphql"


def run(
    *args: str, data_dir: Path, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ.update({"BOTERNITY_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error line of a command that failed as promised: exit 2, one line, no traceback."""
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.endswith("\n")
    return result.stderr.removeprefix("boternity-graphql: error: ").removesuffix("\n")


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
    error = one_line_error(run("migrate", data_dir=blocker / "data"))
    assert error.startswith("cannot create the data dir ")


def test_unknown_url_scheme_names_the_variable_or_the_flag_given(tmp_path: Path) -> None:
    from_env = run("serve", data_dir=tmp_path, BOTERNITY_DATABASE_URL="mongodb://x")
    assert one_line_error(from_env) == (
        "unknown database URL scheme 'mongodb' in BOTERNITY_DATABASE_URL "
        "(use sqlite:///path or postgresql://user@host/database)"
    )
    from_flag = run("migrate", "--database-url", "mongodb://x", data_dir=tmp_path)
    assert one_line_error(from_flag) == (
        "unknown database URL scheme 'mongodb' in --database-url "
        "(use sqlite:///path or postgresql://user@host/database)"
    )


def test_sqlite_url_in_a_missing_folder_is_one_line_error(tmp_path: Path) -> None:
    result = run(
        "migrate", "--database-url", "sqlite:///nowhere/x.db", data_dir=tmp_path, cwd=tmp_path
    )
    assert one_line_error(result) == (
        f"cannot open the SQLite database {tmp_path}/nowhere/x.db: the folder "
        f"{tmp_path}/nowhere does not exist (sqlite:///relative/path is relative to the current "
        "folder, sqlite:////absolute/path is absolute)"
    )
    assert not (tmp_path / "nowhere").exists()


def test_a_file_that_is_not_a_database_is_one_line_error(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.db"
    garbage.write_bytes(b"these are my notes, not a database\n" * 200)
    result = run("serve", data_dir=tmp_path, BOTERNITY_DATABASE_URL=f"sqlite:///{garbage}")
    assert one_line_error(result) == (
        f"cannot open the SQLite database {garbage}: file is not a database "
        "(sqlite:///relative/path is relative to the current folder, "
        "sqlite:////absolute/path is absolute)"
    )
    assert garbage.read_bytes() == b"these are my notes, not a database\n" * 200


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--max-page-size", "0"), {}, "--max-page-size must be at least 1, not 0"),
        (
            ("--max-page-size", "10"),
            {},
            "--default-page-size (50) must not exceed --max-page-size (10)",
        ),
        (
            (),
            {"BOTERNITY_DEFAULT_PAGE_SIZE": "600"},
            "BOTERNITY_DEFAULT_PAGE_SIZE (600) must not exceed --max-page-size (500)",
        ),
        (("--port", "0"), {}, "--port must be 1 to 65535, not 0"),
        ((), {"BOTERNITY_PORT": "65536"}, "BOTERNITY_PORT must be 1 to 65535, not 65536"),
        (("--max-depth", "-1"), {}, "--max-depth must not be negative, not -1"),
        (("--max-tokens", "many"), {}, "--max-tokens must be a whole number, not 'many'"),
        (
            ("--sqlite-synchronous", "OFF"),
            {},
            "--sqlite-synchronous must be NORMAL, FULL or EXTRA, not 'OFF' "
            "(OFF can lose or corrupt committed writes on a power loss)",
        ),
        (
            ("--auth", "disabled", "--host", "0.0.0.0"),
            {},
            "--auth=disabled is allowed only on a loopback host, not 0.0.0.0",
        ),
        (
            ("--host", "0.0.0.0"),
            {"BOTERNITY_AUTH": "Disabled"},
            "BOTERNITY_AUTH=disabled is allowed only on a loopback host, not 0.0.0.0",
        ),
        (
            ("--log-level", "loud"),
            {},
            "--log-level must be critical, error, warning, info, debug or trace, not 'loud'",
        ),
        (("--graphiql", "maybe"), {}, "--graphiql must be true or false, not 'maybe'"),
        (
            ("--broker", "postgres"),
            {},
            "--broker=postgres needs a postgresql:// database URL (--database-url)",
        ),
    ],
)
def test_bad_setting_is_one_line_naming_the_flag_or_variable_given(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = run("serve", *args, data_dir=tmp_path, **env)
    assert one_line_error(result) == message
    assert not (tmp_path / "boternity.db").exists()


def test_word_settings_are_case_insensitive(tmp_path: Path) -> None:
    result = run(
        "migrate",
        "--sqlite-synchronous",
        "normal",
        "--log-level",
        "WARNING",
        data_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_port_in_use_is_one_line_error_and_no_start_up_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), data_dir=tmp_path, BOTERNITY_AUTH="disabled")
    assert one_line_error(result) == (
        f"cannot listen on 127.0.0.1:{port}: Address already in use (choose another with --port)"
    )


def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = run("export-schema", data_dir=tmp_path)
    assert result.returncode == 0
    committed = (Path(__file__).parents[2] / "schema.graphql").read_text()
    assert result.stdout == committed


def test_api_key_create_prints_key_once_and_list_never_shows_it(tmp_path: Path) -> None:
    run("migrate", data_dir=tmp_path)
    created = run("api-key", "create", "--name", "ci", "--scope", "write", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert len(key) == 43
    listed = run("api-key", "list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert key not in listed.stdout
    assert listed.stdout.splitlines()[1].split()[:2] == ["ci", "write"]


@pytest.mark.parametrize("command", [("list",), ("create", "--name", "x", "--scope", "read")])
def test_api_key_on_a_data_dir_without_database_says_so_and_creates_none(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    typo = tmp_path / "dtaa"
    result = run("api-key", *command, "--data-dir", str(typo), data_dir=tmp_path)
    assert one_line_error(result) == (
        f"there is no database at {typo}/boternity.db; create it with: "
        f"boternity-graphql migrate --data-dir {typo}"
    )
    assert not typo.exists()
    assert not (tmp_path / "boternity.db").exists()


def test_api_key_create_twice_with_one_name_is_refused(tmp_path: Path) -> None:
    run("migrate", data_dir=tmp_path)
    run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    again = run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    assert one_line_error(again) == (
        "an API key named 'ci' exists already; choose another name, or revoke it first "
        "(boternity-graphql api-key revoke ci)"
    )


def test_api_key_revoke_marks_it_revoked_and_its_name_can_be_used_again(tmp_path: Path) -> None:
    run("migrate", data_dir=tmp_path)
    first = run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    revoked = run("api-key", "revoke", "ci", data_dir=tmp_path)
    assert revoked.stdout == "Revoked API key 'ci'.\n"
    listed = run("api-key", "list", data_dir=tmp_path)
    revoked_at = listed.stdout.splitlines()[1].split()[-1]
    assert revoked_at != "-"
    missing = run("api-key", "revoke", "ci", data_dir=tmp_path)
    assert one_line_error(missing) == "no active API key named 'ci'"
    again = run("api-key", "create", "--name", "ci", "--scope", "write", data_dir=tmp_path)
    assert again.returncode == 0
    assert again.stdout.splitlines()[-1] != first.stdout.splitlines()[-1]
    rows = [line.split() for line in run("api-key", "list", data_dir=tmp_path).stdout.splitlines()]
    assert [(row[0], row[1], row[-1]) for row in rows[1:]] == [
        ("ci", "read", revoked_at),
        ("ci", "write", "-"),
    ]
    taken = run("api-key", "create", "--name", "ci", "--scope", "read", data_dir=tmp_path)
    assert one_line_error(taken) == (
        "an API key named 'ci' exists already; choose another name, or revoke it first "
        "(boternity-graphql api-key revoke ci)"
    )


def test_unreachable_postgresql_is_one_line_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://bob:s3cret@127.0.0.1:1/nowhere"
    result = run("migrate", data_dir=tmp_path, BOTERNITY_DATABASE_URL=url)
    assert one_line_error(result).startswith(
        "cannot connect to the PostgreSQL database postgresql://bob:***@127.0.0.1:1/nowhere: "
    )
    assert "s3cret" not in result.stderr


def test_version(tmp_path: Path) -> None:
    result = run("--version", data_dir=tmp_path)
    assert (result.returncode, result.stdout) == (0, "boternity-graphql 0.1.0\n")


def test_each_subcommand_help_shows_only_its_own_flags_with_defaults(tmp_path: Path) -> None:
    serve = run("serve", "--help", data_dir=tmp_path).stdout
    assert "--max-depth MAX_DEPTH" in serve
    assert "Default: 15. Env: BOTERNITY_MAX_DEPTH." in " ".join(serve.split())
    for command in (("migrate",), ("api-key", "list"), ("api-key", "create")):
        text = " ".join(run(*command, "--help", data_dir=tmp_path).stdout.split())
        assert "--data-dir DATA_DIR" in text, command
        assert "Default: ~/.boternity. Env: BOTERNITY_DATA_DIR." in text, command
        assert "--max-depth" not in text, command
        assert "--graphiql" not in text, command
    create = " ".join(run("api-key", "create", "--help", data_dir=tmp_path).stdout.split())
    assert "--scope {read,write,admin}" in create
    assert "--name NAME" not in run("api-key", "list", "--help", data_dir=tmp_path).stdout


async def test_start_up_hint_repeats_the_data_dir_and_the_line_says_how_it_serves(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    async with started_server(data_dir, {"BOTERNITY_AUTH": "required"}) as server:
        log = server.log.read_text()
    port = server.url.rsplit(":", 1)[1]
    assert (
        "boternity-graphql: no API keys yet; every request will be refused until you create "
        "one:\n    boternity-graphql api-key create --name admin --scope admin "
        f"--data-dir {data_dir}\n"
    ) in log
    assert (
        f"boternity-graphql: GraphQL and GraphiQL at http://127.0.0.1:{port}/graphql; "
        f"authentication required; database sqlite:///{data_dir}/boternity.db; "
        f"data dir {data_dir}\n"
    ) in log


def test_start_up_line_on_ipv6_without_graphiql(tmp_path: Path) -> None:
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ["BOTERNITY_DATA_DIR"] = str(tmp_path)
    args = (
        "serve",
        "--host",
        "::1",
        "--port",
        str(port),
        "--graphiql",
        "FALSE",
        "--auth",
        "disabled",
    )
    with subprocess.Popen(
        [str(BIN), *args], env=environ, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stderr is not None
            line = ""
            for line in process.stderr:  # ends when the process exits
                if "GraphQL" in line:
                    break
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert line == (
        f"boternity-graphql: GraphQL (GraphiQL off) at http://[::1]:{port}/graphql; "
        f"authentication OFF; database sqlite:///{tmp_path}/boternity.db; data dir {tmp_path}\n"
    )


def test_start_up_line_hides_the_database_password(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "BOTERNITY_DATA_DIR": str(tmp_path),
            "BOTERNITY_DATABASE_URL": "postgresql://bob:s3cret@db.example:5432/boternity",
        }
    )
    assert startup_line(settings) == (
        "GraphQL and GraphiQL at http://127.0.0.1:8000/graphql; authentication required; "
        f"database postgresql://bob:***@db.example:5432/boternity; data dir {tmp_path}"
    )
