"""`boternity-graphql copy-data --from sqlite:///... --to postgresql://...`: move a deployment
from SQLite to PostgreSQL (db/copy_data.py does the copying). Progress goes to stderr, one bar
per table and one for the file content; the tally of both sides goes to stdout. Exit status 0
when every count matches, 1 when one does not, 2 when the copy could not run (nothing written).
"""

import argparse
import asyncio
import sys
from pathlib import Path

from db.backend import url_scheme
from db.codec import system_clock
from db.connection import Database, sqlite_path
from db.content import ContentStore
from db.copy_data import CONTENT, CopyError, Tally, copy_data
from db.migrate import migrate
from db.postgres import SCHEMES as POSTGRES_SCHEMES
from db.postgres import PostgresDatabase
from db.settings import Settings

_BAR = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, help="sqlite:////path/boternity.db")
    parser.add_argument(
        "--to", dest="target", required=True, help="postgresql://user@host:5432/database"
    )
    parser.add_argument(
        "--content-dir",
        type=Path,
        help="The data dir holding content/ (default: the SQLite file's folder).",
    )


def progress(what: str, done: int, total: int) -> None:
    filled = _BAR if total == 0 else _BAR * done // total
    unit = " bytes" if what == CONTENT else " rows"
    end = "\n" if done >= total else ""
    bar = "#" * filled + "-" * (_BAR - filled)
    print(f"\r{what:<24} [{bar}] {done}/{total}{unit}", end=end, file=sys.stderr, flush=True)


def report(tallies: list[Tally]) -> bool:
    """Print the tally; whether every count matches."""
    print(f"{'TABLE':<24} {'SOURCE':>12} {'TARGET':>12}")
    for tally in tallies:
        print(f"{tally.what:<24} {tally.source:>12} {tally.target:>12}  {_verdict(tally)}")
        if tally.source_bytes is not None:
            line = f"{tally.what + ' bytes':<24} {tally.source_bytes:>12} {tally.target_bytes:>12}"
            print(line)
    return all(tally.matches for tally in tallies)


def _verdict(tally: Tally) -> str:
    return "ok" if tally.matches else "MISMATCH"


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    """The command (settings are not used: both databases are given as flags)."""
    return asyncio.run(_copy(args))


async def _copy(args: argparse.Namespace) -> int:
    if url_scheme(args.source) != "sqlite" or url_scheme(args.target) not in POSTGRES_SCHEMES:
        raise CopyError("copy-data copies from a sqlite:/// URL to a postgresql:// URL")
    path = sqlite_path(args.source)
    if not path.is_file():
        raise CopyError(f"there is no SQLite database at {path}")
    source = Database(args.source, readers=1)
    target = PostgresDatabase(args.target, pool_size=2)
    await source.connect()
    try:
        await target.connect()
        try:
            await migrate(target, system_clock)
            store = ContentStore(args.content_dir or path.parent)
            tallies = await copy_data(source, target, store, progress)
        finally:
            await target.disconnect()
    finally:
        await source.disconnect()
    return 0 if report(tallies) else 1
