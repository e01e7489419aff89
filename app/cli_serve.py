"""`boternity-graphql serve`: migrate, bind the socket, say where it serves, then serve.

The start-up line is printed once the socket is bound, so it never names an address the
server could not take; a port in use is a one-line error (exit 2) like any bad setting.
"""

import argparse
import asyncio
import errno
import socket
import sys

from app.cli_db import CommandError, migrated, same_database
from app.settings import sources
from db import api_keys
from db.postgres import redacted
from db.settings import Settings


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.main import create_app

    listener = _bind(settings, args)  # first: a port in use changes nothing
    applied, keys = asyncio.run(_prepare(settings))
    for name in applied:
        print(f"applied migration {name}", file=sys.stderr)
    if settings.auth == "required" and keys == 0:
        print(
            "boternity-graphql: no API keys yet; every request will be refused until you create "
            "one:\n    boternity-graphql api-key create --name admin --scope admin"
            f"{same_database(settings, args)}",
            file=sys.stderr,
        )
    print(f"boternity-graphql: {startup_line(settings)}", file=sys.stderr, flush=True)
    config = uvicorn.Config(
        create_app(settings),
        log_level=settings.log_level,
        loop="uvloop",
        http="httptools",
        server_header=False,
        access_log=False,  # app/access.py logs each request (uvicorn's line shows query strings)
        log_config=None,  # app/logs.py configured logging
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


async def _prepare(settings: Settings) -> tuple[list[str], int]:
    async with migrated(settings) as (db, applied):
        return applied, await api_keys.count_active_keys(db.read())


def _bind(settings: Settings, args: argparse.Namespace) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((settings.host, settings.port))
    except OSError as error:
        listener.close()
        given = sources(flags=vars(args))
        hint = " (choose another with {})".format(given.get("port", "--port"))
        if error.errno != errno.EADDRINUSE:
            hint = ""
        raise CommandError(
            f"cannot listen on {_authority(settings)}: {error.strerror or error}{hint}"
        ) from None
    listener.set_inheritable(True)
    return listener


def _authority(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{host}:{settings.port}"


def startup_line(settings: Settings) -> str:
    """Where the server answers and with what: its URL, authentication, database, data dir."""
    url = f"http://{_authority(settings)}/graphql"
    what = "GraphQL and GraphiQL" if settings.graphiql else "GraphQL (GraphiQL off)"
    auth = "authentication required" if settings.auth == "required" else "authentication OFF"
    return (
        f"{what} at {url}; {auth}; database {redacted(settings.database_url)}; "
        f"data dir {settings.data_dir}"
    )
