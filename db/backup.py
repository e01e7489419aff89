"""Backups of a SQLite deployment while the server runs, and the checks `verify` makes.

A backup is a folder: boternity.db (a consistent snapshot through SQLite's online backup API,
taken in one step so concurrent writers never restart it), content/ with exactly the content
the snapshot's versions name (each copied and its sha256 checked), and the content store's
owner record and download secret when present.

While a backup runs it keeps <data dir>/content/backup.lock fresh: a server then leaves content
whose last version was deleted in place (db/content.py) and its sweep waits, so every file the
snapshot names is still there to copy; what is left behind is swept after the grace period.
"""

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from db.content import ContentStore, fsync_dir

REFERENCED = (
    "SELECT sha256, max(size_bytes) AS size_bytes FROM bot_file_versions GROUP BY sha256 "
    "ORDER BY sha256"
)
TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
CHUNK = 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Summary:
    rows: int
    files: int
    bytes: int


@contextmanager
def backup_lock(store: ContentStore) -> Iterator[Callable[[], None]]:
    """Hold content/backup.lock while the backup runs; yields a function that keeps it fresh."""
    store.root.mkdir(parents=True, exist_ok=True)
    lock = store.root / ContentStore.BACKUP_LOCK
    lock.write_text(str(os.getpid()))
    try:
        yield lambda: os.utime(lock)
    finally:
        lock.unlink(missing_ok=True)


def snapshot(database: Path, target: Path) -> int:
    """Copy the database into target (online backup API, one step); its row count."""
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        tables = [name for (name,) in copy.execute(TABLES)]
        count = 'SELECT count(*) FROM "{}"'  # table names come from sqlite_master
        rows = sum(copy.execute(count.format(name)).fetchone()[0] for name in tables)
    return int(rows)


def referenced(database: Path) -> list[tuple[str, int]]:
    """(sha256, size) of every content the database's versions name."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return [(sha256, int(size)) for sha256, size in conn.execute(REFERENCED)]


def copy_content(
    source: ContentStore, target: ContentStore, wanted: list[tuple[str, int]], progress: Progress
) -> int:
    """Copy each named content (sha256 checked), fsynced; the bytes copied."""
    total = sum(size for _, size in wanted)
    done = 0
    for sha256, size in wanted:
        path = target.path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with source.path(sha256).open("rb") as reader, path.open("xb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        if digest.hexdigest() != sha256 or path.stat().st_size != size:
            raise OSError(f"the stored content {sha256} does not match its sha256 or size")
        done += size
        progress(done, total)
    for folder in {sha256[:2] for sha256, _ in wanted}:
        fsync_dir(target.root / folder)
    return done


def integrity_problems(database: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        found += [f"foreign key: {row}" for row in conn.execute("PRAGMA foreign_key_check")]
    return [f"database: {problem}" for problem in found if problem != "ok"]


def content_problems(database: Path, store: ContentStore) -> list[str]:
    """Every named content present with its size and sha256; no unnamed content older than the
    grace period."""
    problems = []
    wanted = referenced(database)
    for sha256, size in wanted:
        path = store.path(sha256)
        if not path.is_file():
            problems.append(f"content {sha256}: missing")
        elif path.stat().st_size != size:
            problems.append(f"content {sha256}: {path.stat().st_size} bytes, not {size}")
        elif _sha256(path) != sha256:
            problems.append(f"content {sha256}: its bytes do not match its sha256")
    named = {sha256 for sha256, _ in wanted}
    cutoff = time.time() - store.grace_seconds
    for folder in store.folders():
        for sha256 in sorted(set(store.aged(folder, cutoff)) - named):
            problems.append(f"content {sha256}: unreferenced, older than the grace period")
    return problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
