"""`boternity-graphql api-key create|list|revoke`: API keys, in the database the settings name
(which must exist already: these commands never create one)."""

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from app.cli_db import CommandError, migrated, require_database
from db import api_keys
from db.codec import format_timestamp, new_id, system_clock
from db.connection import Database
from db.settings import Settings


def add_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="A unique name for the key.")
    parser.add_argument("--scope", required=True, choices=api_keys.SCOPES, help="What it may do.")


def add_revoke_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="The key's name.")


def create(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_with_database(settings, args, _create))


def listing(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_with_database(settings, args, _list))


def revoke(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_with_database(settings, args, _revoke))


_Action = Callable[[Database, argparse.Namespace], Awaitable[None]]


async def _with_database(settings: Settings, args: argparse.Namespace, action: _Action) -> int:
    require_database(settings, args)
    async with migrated(settings) as (db, _):
        await action(db, args)
    return 0


async def _create(db: Database, args: argparse.Namespace) -> None:
    name = args.name.strip()
    if not name or "\x00" in name or len(name.encode()) > 255:
        raise CommandError("the key name must be 1 to 255 bytes without NUL")
    secret = api_keys.new_secret()
    async with db.write() as conn:
        row = await api_keys.create_api_key(
            conn, id=new_id(), name=name, scope=args.scope, secret=secret, now=_now()
        )
    if row is None:
        raise CommandError(
            f"an API key named '{name}' exists already; choose another name, or revoke it first "
            f"(boternity-graphql api-key revoke {name})"
        )
    print(f"Created API key '{name}' with scope {args.scope}. It is shown only once:")
    print(secret)


async def _list(db: Database, args: argparse.Namespace) -> None:
    print(f"{'NAME':<24} {'SCOPE':<6} {'CREATED':<33} {'LAST USED':<33} REVOKED")
    for key in await api_keys.list_api_keys(db.read()):
        print(
            f"{key.name:<24} {key.scope:<6} {key.created_at:<33} "
            f"{key.last_used_at or '-':<33} {key.revoked_at or '-'}"
        )


async def _revoke(db: Database, args: argparse.Namespace) -> None:
    async with db.write() as conn:
        revoked = await api_keys.revoke_api_key(conn, name=args.name, now=_now())
    if not revoked:
        raise CommandError(f"no active API key named '{args.name}'")
    print(f"Revoked API key '{args.name}'.")


def _now() -> str:
    return format_timestamp(system_clock())
