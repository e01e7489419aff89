"""File content in the database, for PostgreSQL: every API process sees every file.

Content is stored once per sha256: a file_contents row (its size) and its bytes in 1 MiB
file_content_chunks rows, written in the upload's own transaction, so content and its version
commit together or not at all and a crash leaves nothing behind (there is nothing to sweep).
Uploads are staged on the local disk first (the request's temp file under <data dir>/tmp, as
with SQLite) and copied in chunk by chunk, so memory stays bounded. The largest file is the
file size limit (50 MiB by default).

Locks (the order is in db/files.py): an upload inserts the content row, or share-locks it when
it exists; a delete locks the content rows its versions name FOR UPDATE, then deletes those no
other version names (`release`). Downloads read one chunk per statement on the pool,
outside any transaction: a download racing the delete of the last version naming its content
ends early.
"""

import asyncio
from collections.abc import AsyncIterator

from db.connection import Conn, WriteConn
from db.content import ContentScope, ContentStore, StagedFile, StoredContent
from db.errors import ConflictError

CHUNK_BYTES = 1024 * 1024
_CLAIM_ATTEMPTS = 3

CLAIM_CONTENT = """
INSERT INTO file_contents (sha256, size_bytes) VALUES (:sha256, :size_bytes)
ON CONFLICT (sha256) DO NOTHING
RETURNING sha256
"""
SHARE_CONTENT = "SELECT sha256 FROM file_contents WHERE sha256 = :sha256 FOR SHARE"
INSERT_CHUNK = """
INSERT INTO file_content_chunks (sha256, chunk_index, data) VALUES (:sha256, :chunk_index, :data)
"""
CONTENT_SIZE = "SELECT size_bytes FROM file_contents WHERE sha256 = :sha256"
CHUNK = "SELECT data FROM file_content_chunks WHERE sha256 = :sha256 AND chunk_index = :chunk_index"


class DatabaseContentStore(ContentStore):
    """Content in file_contents / file_content_chunks; the data dir holds only staged uploads."""

    def prepare(self) -> None:
        """Create the temp folder and remove uploads a crashed process left there longer than
        the grace period ago (other processes may share this data dir)."""
        self._clear_stale_uploads()

    async def add(self, conn: WriteConn, staged: StagedFile) -> None:
        """Store staged content in the transaction, or share-lock it when it is stored."""
        params = {"sha256": staged.sha256, "size_bytes": staged.size_bytes}
        for _ in range(_CLAIM_ATTEMPTS):
            if await conn.fetch_one(CLAIM_CONTENT, params) is not None:
                await self._copy_in(conn, staged)
                return
            if await conn.fetch_one(SHARE_CONTENT, {"sha256": staged.sha256}) is not None:
                return
            # deleted by a transaction that committed in between: claim it again
        raise ConflictError("the file's content was being deleted concurrently; try again")

    async def _copy_in(self, conn: WriteConn, staged: StagedFile) -> None:
        with staged.path.open("rb") as handle:
            index = 0
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                await conn.execute(
                    INSERT_CHUNK, {"sha256": staged.sha256, "chunk_index": index, "data": chunk}
                )
                index += 1

    async def release(self, conn: WriteConn, scope: ContentScope, params: dict[str, str]) -> None:
        """Lock the content the scope's versions name (in hash order) until the transaction
        ends, so uploads sharing it wait and the check sees every version naming it, then
        delete the content no other version names (chunks cascade). Both in SQL: no list of
        hashes, whatever the number of versions."""
        await conn.execute(
            f"SELECT sha256 FROM file_contents WHERE sha256 IN ({scope.named}) "  # noqa: S608 (constant texts)
            "ORDER BY sha256 FOR UPDATE",
            params,
            slow=True,
        )
        await conn.execute(
            f"DELETE FROM file_contents WHERE sha256 IN ({scope.unnamed})",  # noqa: S608 (constant texts)
            params,
            slow=True,
        )

    async def open(self, conn: Conn, sha256: str) -> StoredContent | None:
        size: int | None = await conn.fetch_val(CONTENT_SIZE, {"sha256": sha256})
        if size is None:
            return None
        return StoredContent(size, self._chunks(conn, sha256, size))

    async def _chunks(self, conn: Conn, sha256: str, size: int) -> AsyncIterator[bytes]:
        for index in range(-(-size // CHUNK_BYTES)):
            chunk: bytes | None = await conn.fetch_val(
                CHUNK, {"sha256": sha256, "chunk_index": index}
            )
            if chunk is None:
                return  # deleted meanwhile: the response ends short of its Content-Length
            yield chunk

    def folders(self) -> list[str]:
        """Nothing to sweep: content rows commit and go with the versions naming them."""
        return []
