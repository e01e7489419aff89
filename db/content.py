"""File content, stored once per sha256 under the data dir (content-addressed).

Layout: <data dir>/content/ab/cdef... (the hex sha256 split after two characters) and
<data dir>/tmp for uploads in progress (cleared on start). Content appears whole or not at all:
an upload is written to a temp file while its size and sha256 are computed, fsynced, then
linked into place under its hash and the directory fsynced, before the metadata transaction
commits. The database says which content is referenced; this module only moves bytes.
"""

import asyncio
import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class StagedFile:
    """An uploaded file, complete and fsynced in the temp dir, with its size and sha256."""

    path: Path
    size_bytes: int
    sha256: str


class ContentWriter:
    """A temp file being written: it counts and hashes the bytes as they arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: BinaryIO = path.open("xb")

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> StagedFile:
        """Flush and fsync (blocking: run it in a thread) and describe the complete file."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return StagedFile(self.path, self.size, self._hash.hexdigest())

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class ContentStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "content"
        self.tmp = data_dir / "tmp"

    def prepare(self) -> None:
        """Create the folders and remove what uploads interrupted by a crash left in tmp."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp.iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)

    def new_writer(self) -> ContentWriter:
        return ContentWriter(self.tmp / f"{uuid.uuid4().hex}.part")

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    async def add(self, staged: StagedFile) -> bool:
        """Put staged content in place under its hash; True when this call created it (False
        when the same content was already stored)."""
        return await asyncio.to_thread(self._add, staged)

    def _add(self, staged: StagedFile) -> bool:
        target = self.path(staged.sha256)
        if target.exists():
            return False
        if not target.parent.exists():
            target.parent.mkdir(exist_ok=True)
            _fsync_dir(self.root)
        try:
            # a hard link appears atomically and leaves the temp file for other uses of the same
            # upload in the request; the request removes its temp files when it ends
            os.link(staged.path, target)
        except FileExistsError:
            return False
        _fsync_dir(target.parent)
        return True

    def open(self, sha256: str) -> BinaryIO | None:
        """The content opened for reading, or None when it is not stored."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            return None

    def remove(self, hashes: Iterable[str]) -> None:
        for sha256 in hashes:
            self.path(sha256).unlink(missing_ok=True)

    def stored(self) -> Iterator[tuple[str, list[str]]]:
        """Every stored hash, grouped by its two-character folder."""
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and len(folder.name) == 2:
                hashes = [folder.name + entry.name for entry in folder.iterdir()]
                yield folder.name, [sha256 for sha256 in hashes if _SHA256.match(sha256)]


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
