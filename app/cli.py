"""The console script `boternity-graphql`: serve, migrate, export-schema, api-key, copy-data.

Bad settings and refused migrations end with one line on stderr and exit code 2, never a
traceback.
"""

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from app import copy_data
from app.settings import add_flags, load_settings, prepare_data_dir
from db import api_keys
from db.codec import format_timestamp, new_id, system_clock
from db.connection import Database
from db.copy_data import CopyError
from db.errors import MigrationError, SettingsError
from db.migrate import migrate
from db.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boternity-graphql", description="GraphQL API for Boternity's storage layer."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Migrate, then serve GraphQL at /graphql.")
    add_flags(serve)
    migrate_cmd = commands.add_parser("migrate", help="Apply pending database migrations.")
    add_flags(migrate_cmd)
    commands.add_parser("export-schema", help="Print the GraphQL schema (SDL).")
    keys = commands.add_parser("api-key", help="Create, list or revoke API keys.")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="Create a key; it is printed once.")
    create.add_argument("--name", required=True, help="A unique name for the key.")
    create.add_argument("--scope", required=True, choices=api_keys.SCOPES)
    add_flags(create)
    listing = key_commands.add_parser("list", help="List keys (never the keys themselves).")
    add_flags(listing)
    revoke = key_commands.add_parser("revoke", help="Revoke a key by name.")
    revoke.add_argument("name", help="The key's name.")
    add_flags(revoke)
    copy_data.add_parser(commands)
    return parser


class CommandError(Exception):
    """The command cannot do what was asked; the message is one line."""


@asynccontextmanager
async def _migrated(settings: Settings) -> AsyncIterator[tuple[Database, list[str]]]:
    """The database, migrated first (the names of migrations applied now come along)."""
    from app.main import open_database

    prepare_data_dir(settings)
    db = open_database(settings)
    await db.connect()
    try:
        yield db, await migrate(db, system_clock)
    finally:
        await db.disconnect()


async def _migrate(settings: Settings) -> list[str]:
    async with _migrated(settings) as (_, applied):
        return applied


async def _active_keys(settings: Settings) -> int:
    async with _migrated(settings) as (db, _):
        return await api_keys.count_active_keys(db.read())


async def _api_key(settings: Settings, args: argparse.Namespace) -> int:
    now = format_timestamp(system_clock())
    async with _migrated(settings) as (db, _):
        if args.key_command == "create":
            name = args.name.strip()
            if not name or "\x00" in name or len(name.encode()) > 255:
                raise CommandError("the key name must be 1 to 255 bytes without NUL")
            secret = api_keys.new_secret()
            async with db.write() as conn:
                row = await api_keys.create_api_key(
                    conn, id=new_id(), name=name, scope=args.scope, secret=secret, now=now
                )
            if row is None:
                raise CommandError(f"an API key named '{name}' exists already")
            print(f"Created API key '{name}' with scope {args.scope}. It is shown only once:")
            print(secret)
        elif args.key_command == "list":
            print(f"{'NAME':<24} {'SCOPE':<6} {'CREATED':<33} {'LAST USED':<33} REVOKED")
            for key in await api_keys.list_api_keys(db.read()):
                print(
                    f"{key.name:<24} {key.scope:<6} {key.created_at:<33} "
                    f"{key.last_used_at or '-':<33} {key.revoked_at or '-'}"
                )
        else:
            async with db.write() as conn:
                revoked = await api_keys.revoke_api_key(conn, name=args.name, now=now)
            if not revoked:
                raise CommandError(f"no active API key named '{args.name}'")
            print(f"Revoked API key '{args.name}'.")
    return 0


def _serve(settings: Settings) -> None:
    import uvicorn

    from app.main import create_app

    applied = asyncio.run(_migrate(settings))
    for name in applied:
        print(f"applied migration {name}", file=sys.stderr)
    if settings.auth == "required" and asyncio.run(_active_keys(settings)) == 0:
        print(
            "boternity-graphql: no API keys yet; every request will be refused until you create "
            "one:\n    boternity-graphql api-key create --name admin --scope admin",
            file=sys.stderr,
        )
    print(
        f"boternity-graphql: GraphiQL at http://{settings.host}:{settings.port}/graphql "
        f"(data in {settings.data_dir})",
        file=sys.stderr,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        loop="uvloop",
        http="httptools",
        server_header=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from resolvers import build_schema

        print(build_schema().as_str())
        return 0
    if args.command == "copy-data":
        try:
            return asyncio.run(copy_data.run(args))
        except (SettingsError, MigrationError, CopyError) as error:
            print(f"boternity-graphql: error: {error}", file=sys.stderr)
            return 2
    try:
        settings = load_settings(flags=vars(args))
        logging.basicConfig(level=settings.log_level.upper().replace("TRACE", "DEBUG"))
        logging.getLogger("databases").setLevel(logging.WARNING)
        if args.command == "migrate":
            applied = asyncio.run(_migrate(settings))
            print(
                f"applied {len(applied)} migration(s){': ' if applied else ''}{', '.join(applied)}"
            )
        elif args.command == "serve":
            _serve(settings)
        elif args.command == "api-key":
            return asyncio.run(_api_key(settings, args))
    except (SettingsError, MigrationError, CommandError) as error:
        print(f"boternity-graphql: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
