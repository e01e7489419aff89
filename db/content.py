"""File content, stored once per sha256 under the data dir (content-addressed).

Layout: <data dir>/content/ab/cdef... (the hex sha256 split after two characters), the owner
record <data dir>/content/owner.json (db/content_owner.py) and <data dir>/tmp for uploads in
progress (what is older than the grace period is removed on start: other processes on the same
data dir may be receiving uploads now). Content appears whole or not at all:
an upload is written to a temp file while its size and sha256 are computed, fsynced, then
linked into place under its hash and the directory fsynced, before the metadata transaction
commits. The database says which content is referenced; this module only moves bytes.

`ContentStore` is the interface the files feature uses, inside its write transactions (`add`,
`release`) and for downloads (`open`); this on-disk store serves SQLite, whose single
writer orders every change. With PostgreSQL, content lives in the database instead
(db/file_contents.py), so every API process sees every file.
"""

import asyncio
import contextlib
import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from db.connection import Conn, WriteConn
from db.errors import storage_error

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class StagedFile:
    """An uploaded file, complete and fsynced in the temp dir, with its size and sha256."""

    path: Path
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ContentScope:
    """What a delete is about to remove, as SQL over its binds: `named` selects the content
    hashes its versions name, `unnamed` those no version outside the delete names."""

    named: str
    unnamed: str


@dataclass(frozen=True, slots=True)
class StoredContent:
    """Content to stream: its size and its bytes, chunk by chunk."""

    size_bytes: int
    chunks: AsyncIterator[bytes]


def create(path: Path) -> BinaryIO:
    """A new file to write (every file the store writes is opened here)."""
    return path.open("xb")


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """A disk that is full or a data dir that is not writable, as a StorageError."""
    try:
        yield
    except OSError as error:
        known = storage_error(error)
        if known is None:
            raise
        raise known from error


class ContentWriter:
    """A temp file being written: it counts and hashes the bytes as they arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._hash = hashlib.sha256()
        with _writing():
            self._file: BinaryIO = create(path)

    def write(self, data: bytes) -> None:
        with _writing():
            self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> StagedFile:
        """Flush and fsync (blocking: run it in a thread) and describe the complete file."""
        with _writing():
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        return StagedFile(self.path, self.size, self._hash.hexdigest())

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # closing flushes, and the disk may be full
            self._file.close()
        self.path.unlink(missing_ok=True)


class ContentStore:
    # held (kept fresh) by a running `boternity-graphql backup` (db/backup.py)
    BACKUP_LOCK = "backup.lock"
    BACKUP_LOCK_FRESH_S = 600

    def __init__(self, data_dir: Path, grace_seconds: int = 3600) -> None:
        self.root = data_dir / "content"
        self.tmp = data_dir / "tmp"
        # files younger than this are never removed as leftovers: another process may be
        # about to commit the row naming them
        self.grace_seconds = grace_seconds
        # content dropped by a transaction whose COMMIT is pending; a later mutation in the same
        # group commit that names it again takes it off (db/connection.py: group commit)
        self._doomed: set[str] = set()
        self._doomed_lock = threading.Lock()
        self._removals: set[asyncio.Future[None]] = set()

    def prepare(self) -> None:
        """Create the folders and remove what uploads interrupted by a crash left in tmp
        longer than the grace period ago."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._clear_stale_uploads()

    def _clear_stale_uploads(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - self.grace_seconds
        for leftover in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def new_writer(self) -> ContentWriter:
        return ContentWriter(self.tmp / f"{uuid.uuid4().hex}.part")

    def check_writable(self) -> None:
        """StorageError unless a small file can be written in the temp dir and removed
        (blocking: run it in a thread; /readyz)."""
        probe = self.tmp / f"{uuid.uuid4().hex}.probe"
        try:
            with _writing():
                handle = create(probe)
                try:
                    handle.write(b"ready?")
                    handle.flush()
                finally:
                    handle.close()
        finally:
            probe.unlink(missing_ok=True)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    async def add(self, conn: WriteConn, staged: StagedFile) -> None:
        """Store staged content under its hash for a version the transaction is writing;
        content this call created goes again if the transaction rolls back."""
        with self._doomed_lock:
            self._doomed.discard(staged.sha256)
        with _writing():
            added = await asyncio.to_thread(self._add, staged)
        if added:
            conn.on_rollback(lambda: self.remove([staged.sha256]))

    async def release(self, conn: WriteConn, scope: ContentScope, params: dict[str, str]) -> None:
        """Before the rows of `scope` are deleted: the content no other version names goes
        once the transaction commits (the SQLite writer is alone: nothing to lock). The check
        runs off the event loop; it costs the versions deleted, not the table."""
        rows = await conn.fetch_all(scope.unnamed, params, slow=True)
        if rows:
            await self.drop(conn, [row["sha256"] for row in rows])

    async def drop(self, conn: WriteConn, hashes: Iterable[str]) -> None:
        """Content no version names any more: it goes once the transaction commits, on a
        worker thread (a delete may free a million files); `settle` waits for it."""
        gone = set(hashes)
        with self._doomed_lock:
            self._doomed |= gone

        def remove_still_doomed() -> None:
            if self.backup_running():  # the sweep removes it once the backup is done
                forget()
                return
            removal = asyncio.get_running_loop().run_in_executor(None, self._remove_doomed, gone)
            self._removals.add(removal)
            removal.add_done_callback(self._removals.discard)

        def forget() -> None:
            with self._doomed_lock:
                self._doomed -= gone

        conn.after_commit(remove_still_doomed)
        conn.on_rollback(forget)

    def _remove_doomed(self, gone: set[str]) -> None:
        """Remove each file unless an upload named its content again meanwhile (`add` takes
        it off the doomed set under the same lock, then links it anew if it is gone)."""
        for sha256 in gone:
            with self._doomed_lock:
                if sha256 in self._doomed:
                    self._doomed.discard(sha256)
                    self.path(sha256).unlink(missing_ok=True)

    async def settle(self) -> None:
        """Wait until the content dropped by committed transactions is removed (a delete
        answers once its content is gone)."""
        while self._removals:
            await asyncio.gather(*self._removals)

    def _add(self, staged: StagedFile) -> bool:
        target = self.path(staged.sha256)
        if target.exists():
            return False
        if not target.parent.exists():
            target.parent.mkdir(exist_ok=True)
            fsync_dir(self.root)
        try:
            # a hard link appears atomically and leaves the temp file for other uses of the same
            # upload in the request; the request removes its temp files when it ends
            os.link(staged.path, target)
        except FileExistsError:
            return False
        fsync_dir(target.parent)
        return True

    async def open(self, conn: Conn, sha256: str) -> StoredContent | None:
        """The content to stream, or None when it is not stored."""
        try:
            handle = self.path(sha256).open("rb")
        except FileNotFoundError:
            return None
        return StoredContent(os.fstat(handle.fileno()).st_size, _read(handle))

    def backup_running(self) -> bool:
        """Whether a backup holds a fresh lock: it may be copying content a delete drops."""
        try:
            held = (self.root / self.BACKUP_LOCK).stat().st_mtime
        except FileNotFoundError:
            return False
        return held > time.time() - self.BACKUP_LOCK_FRESH_S

    def remove(self, hashes: Iterable[str]) -> None:
        for sha256 in hashes:
            self.path(sha256).unlink(missing_ok=True)

    def folders(self) -> list[str]:
        """The two-character folders content is stored in (blocking: run it in a thread)."""
        if not self.root.is_dir():
            return []
        return sorted(
            folder.name
            for folder in self.root.iterdir()
            if folder.is_dir() and len(folder.name) == 2
        )

    def aged(self, folder: str, cutoff: float) -> dict[str, int]:
        """The content of one folder last modified before `cutoff` (a time.time() value), with
        its size in bytes (blocking: run it in a thread)."""
        found: dict[str, int] = {}
        for entry in os.scandir(self.root / folder):
            sha256 = folder + entry.name
            with contextlib.suppress(FileNotFoundError):
                status = entry.stat()
                if _SHA256.match(sha256) and status.st_mtime < cutoff:
                    found[sha256] = status.st_size
        return found


async def _read(handle: BinaryIO) -> AsyncIterator[bytes]:
    with handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk


def fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
