"""`boternity-graphql backup DEST`, `restore SRC` and `verify` (db/backup.py does the work).

backup writes beside DEST (.DEST.partial-PID) and renames it into place, so DEST is either a
complete backup or absent; progress goes to stderr on a terminal; the last line is the summary
(rows, files, bytes, seconds). restore fills an empty data dir (a non-empty one is refused).
verify exits 0 when every check holds, 1 with the list of problems otherwise. On PostgreSQL,
where content lives in the database, backup and restore drive pg_dump and pg_restore.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.cli_db import CommandError
from db.backend import url_scheme
from db.backup import (
    Summary,
    backup_lock,
    content_problems,
    copy_content,
    integrity_problems,
    referenced,
    snapshot,
)
from db.connection import sqlite_path
from db.content import ContentStore, fsync_dir
from db.content_owner import OWNER_FILE, Owner, check_owner, read_owner, write_owner
from db.postgres import redacted
from db.settings import Settings

DATABASE = "boternity.db"
SECRET_FILE = "secret.key"  # noqa: S105 (a file name)
_BAR = 30


def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, help="Where to write the backup (must not exist).")


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="A backup written by `backup`.")


class _Bar:
    """A progress bar on stderr when it is a terminal; keeps the backup lock fresh."""

    def __init__(self, what: str, touch: Callable[[], None] | None = None) -> None:
        self._what = what
        self._touch = touch
        self._shown = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self._touch is not None:
            self._touch()
        if self._shown:
            filled = _BAR if total == 0 else _BAR * done // total
            bar = "#" * filled + "-" * (_BAR - filled)
            end = "\n" if done >= total else ""
            print(f"\r{self._what} [{bar}] {done}/{total} bytes", end=end, file=sys.stderr)


def _is_postgres(settings: Settings) -> bool:
    return url_scheme(settings.database_url) != "sqlite"


def backup(args: argparse.Namespace, settings: Settings) -> int:
    dest: Path = args.dest.absolute()
    if dest.exists():
        raise CommandError(f"{dest} exists already; give a path that does not")
    if _is_postgres(settings):
        return _pg_backup(dest, settings)
    database = sqlite_path(settings.database_url)
    if not database.is_file():
        raise CommandError(f"there is no database at {database}")
    store = ContentStore(settings.data_dir, settings.content_grace_seconds)
    check_owner(store, database)
    started = time.monotonic()
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    try:
        partial.mkdir(parents=True)
        with backup_lock(store) as touch:
            rows = snapshot(database, partial / DATABASE)
            wanted = referenced(partial / DATABASE)
            size = copy_content(store, ContentStore(partial), wanted, _Bar("content", touch))
        for name in (f"content/{OWNER_FILE}", SECRET_FILE):
            if (settings.data_dir / name).is_file():
                shutil.copy2(settings.data_dir / name, partial / name)
        fsync_dir(partial / "content")
        fsync_dir(partial)
        partial.rename(dest)
        fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _summary("backed up", Summary(rows, len(wanted), size), started, f"to {dest}")
    return 0


def restore(args: argparse.Namespace, settings: Settings) -> int:
    source: Path = args.source.absolute()
    if _is_postgres(settings):
        return _pg_restore(source, settings)
    if not (source / DATABASE).is_file():
        raise CommandError(f"{source} is not a backup (it has no {DATABASE})")
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()):
        raise CommandError(f"the data dir {data_dir} is not empty; restore into an empty one")
    database = sqlite_path(settings.database_url)
    if database.exists():
        raise CommandError(f"there is a database at {database} already")
    started = time.monotonic()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        rows = snapshot(source / DATABASE, database)
        wanted = referenced(database)
        target = ContentStore(data_dir)
        size = copy_content(ContentStore(source), target, wanted, _Bar("content"))
        recorded = read_owner(ContentStore(source))
        if recorded is not None:
            write_owner(target, Owner(recorded.identity, str(database)))
        if (source / SECRET_FILE).is_file():
            shutil.copy2(source / SECRET_FILE, data_dir / SECRET_FILE)
    except BaseException:
        for entry in data_dir.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        database.unlink(missing_ok=True)
        raise
    _summary("restored", Summary(rows, len(wanted), size), started, f"into {data_dir}")
    return 0


def verify(args: argparse.Namespace, settings: Settings) -> int:
    if _is_postgres(settings):
        raise CommandError(
            "verify checks a SQLite deployment; on PostgreSQL content lives in the database "
            "(check a restored dump with pg_restore --list)"
        )
    database = sqlite_path(settings.database_url)
    if not database.is_file():
        raise CommandError(f"there is no database at {database}")
    store = ContentStore(settings.data_dir, settings.content_grace_seconds)
    check_owner(store, database)
    problems = integrity_problems(database) + content_problems(database, store)
    for problem in problems:
        print(problem)
    files = len(referenced(database))
    if problems:
        print(f"verify: {len(problems)} problem(s) in {database} and {store.root}")
        return 1
    print(
        f"verify: ok ({database}: integrity ok; {files} files present with their size and "
        f"sha256; no unreferenced content older than {store.grace_seconds} s)"
    )
    return 0


def _summary(verb: str, summary: Summary, started: float, where: str) -> None:
    seconds = time.monotonic() - started
    print(
        f"{verb} {summary.rows} rows, {summary.files} files, {summary.bytes} bytes "
        f"in {seconds:.1f} s {where}"
    )


def _pg_backup(dest: Path, settings: Settings) -> int:
    url = settings.database_url
    if shutil.which("pg_dump") is None:
        raise CommandError(
            f"pg_dump is not installed; back up with: pg_dump --format=custom --file {dest} "
            f"'{redacted(url)}'"
        )
    started = time.monotonic()
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    try:
        _run(["pg_dump", "--format=custom", "--file", str(partial), url])
        partial.rename(dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    seconds = time.monotonic() - started
    print(
        f"backed up {redacted(url)} with pg_dump ({dest.stat().st_size} bytes) in "
        f"{seconds:.1f} s to {dest}"
    )
    return 0


def _pg_restore(source: Path, settings: Settings) -> int:
    url = settings.database_url
    if shutil.which("pg_restore") is None:
        raise CommandError(
            f"pg_restore is not installed; restore into an empty database with: pg_restore "
            f"--no-owner --exit-on-error --dbname '{redacted(url)}' {source}"
        )
    started = time.monotonic()
    _run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url, str(source)])
    print(
        f"restored {source} into {redacted(url)} with pg_restore in "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise CommandError(f"{command[0]}: {last}")
