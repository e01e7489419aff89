"""The console script `boternity-graphql`: serve, migrate, export-schema.

Bad settings and refused migrations end with one line on stderr and exit code 2, never a
traceback.
"""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from app.settings import add_flags, load_settings, prepare_data_dir
from db.codec import system_clock
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
    return parser


async def _migrate(settings: Settings) -> list[str]:
    from app.main import open_database

    prepare_data_dir(settings)
    db = open_database(settings)
    await db.connect()
    try:
        return await migrate(db, system_clock)
    finally:
        await db.disconnect()


def _serve(settings: Settings) -> None:
    import uvicorn

    from app.main import create_app

    applied = asyncio.run(_migrate(settings))
    for name in applied:
        print(f"applied migration {name}", file=sys.stderr)
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
    try:
        settings = load_settings(flags=vars(args))
        logging.basicConfig(level=settings.log_level.upper().replace("TRACE", "DEBUG"))
        if args.command == "migrate":
            applied = asyncio.run(_migrate(settings))
            print(
                f"applied {len(applied)} migration(s){': ' if applied else ''}{', '.join(applied)}"
            )
        elif args.command == "serve":
            _serve(settings)
    except (SettingsError, MigrationError) as error:
        print(f"boternity-graphql: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
