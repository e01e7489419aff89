"""The console script `boternity-graphql`: serve, migrate, export-schema, api-key, copy-data.

Each subcommand is one `Command` in COMMANDS: its name, help, the settings it takes as flags
(all others come from the environment or their defaults), its own arguments, and the function
that runs it. Every bad setting, unusable database and refused action ends with one line on
stderr and exit code 2, never a traceback.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from importlib.metadata import version

from app import backup, cli_keys, copy_data, logs
from app.cli_db import DATABASE_SETTINGS, CommandError, migrated
from app.cli_serve import serve
from app.settings import add_flags, load_settings
from db.copy_data import CopyError
from db.errors import MigrationError, SettingsError
from db.settings import Settings

ALL_SETTINGS = tuple(spec.name for spec in fields(Settings))


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command without arguments of its own."""


@dataclass(frozen=True)
class Command:
    """A subcommand. `run` gets the parsed arguments and the settings (None when the command
    takes no settings) and returns the exit status. A command with `subcommands` only groups
    them (`api-key create`)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings | None], int] | None = None
    settings: tuple[str, ...] = ()
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    subcommands: tuple["Command", ...] = ()


def _migrate(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None

    async def run() -> list[str]:
        async with migrated(settings) as (_, applied):
            return applied

    applied = asyncio.run(run())
    print(f"applied {len(applied)} migration(s){': ' if applied else ''}{', '.join(applied)}")
    return 0


def _export_schema(args: argparse.Namespace, settings: Settings | None) -> int:
    from resolvers import build_schema

    print(build_schema().as_str())
    return 0


def _with_settings(
    run: Callable[[argparse.Namespace, Settings], int],
) -> Callable[[argparse.Namespace, Settings | None], int]:
    def checked(args: argparse.Namespace, settings: Settings | None) -> int:
        assert settings is not None
        return run(args, settings)

    return checked


COMMANDS: tuple[Command, ...] = (
    Command(
        "serve",
        "Migrate, then serve GraphQL (and GraphiQL) at /graphql.",
        _with_settings(serve),
        ALL_SETTINGS,
    ),
    Command("migrate", "Apply pending database migrations.", _migrate, DATABASE_SETTINGS),
    Command("export-schema", "Print the GraphQL schema (SDL).", _export_schema),
    Command(
        "api-key",
        "Create, list or revoke API keys.",
        subcommands=(
            Command(
                "create",
                "Create a key; it is printed once.",
                _with_settings(cli_keys.create),
                DATABASE_SETTINGS,
                cli_keys.add_create_arguments,
            ),
            Command(
                "list",
                "List keys (never the keys themselves).",
                _with_settings(cli_keys.listing),
                DATABASE_SETTINGS,
            ),
            Command(
                "revoke",
                "Revoke a key by name.",
                _with_settings(cli_keys.revoke),
                DATABASE_SETTINGS,
                cli_keys.add_revoke_arguments,
            ),
        ),
    ),
    Command(
        "backup",
        "Back up the database and its file content while the server runs.",
        _with_settings(backup.backup),
        (*DATABASE_SETTINGS, "content_grace_seconds"),
        backup.add_backup_arguments,
    ),
    Command(
        "restore",
        "Restore a backup into an empty data dir.",
        _with_settings(backup.restore),
        DATABASE_SETTINGS,
        backup.add_restore_arguments,
    ),
    Command(
        "verify",
        "Check the database and every file's content; exit 1 with a list when one fails.",
        _with_settings(backup.verify),
        (*DATABASE_SETTINGS, "content_grace_seconds"),
    ),
    Command(
        "copy-data",
        "Copy a SQLite deployment into an empty PostgreSQL database.",
        copy_data.run,
        arguments=copy_data.add_arguments,
    ),
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="boternity-graphql", description="GraphQL API for Boternity's storage layer."
    )
    top.add_argument(
        "--version", action="version", version=f"%(prog)s {version('boternity-graphql')}"
    )
    _add_commands(top, COMMANDS, "command")
    return top


def _add_commands(parser: argparse.ArgumentParser, commands: Sequence[Command], dest: str) -> None:
    group = parser.add_subparsers(dest=dest, required=True)
    for command in commands:
        sub = group.add_parser(command.name, help=command.help, description=command.help)
        if command.subcommands:
            _add_commands(sub, command.subcommands, f"{dest}_{command.name}")
            continue
        command.arguments(sub)
        add_flags(sub, command.settings)
        sub.set_defaults(handler=command)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Command = args.handler
    assert command.run is not None
    try:
        settings = None
        if command.settings:
            settings = load_settings(flags=vars(args))
            logs.configure(settings.log_level, settings.log_format)
        return command.run(args, settings)
    except (SettingsError, MigrationError, CommandError, CopyError) as error:
        print(f"boternity-graphql: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
