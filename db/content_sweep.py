"""Removing content no version names (left by a crash between storing content and committing
its row, on SQLite where content is files).

Content is removed only when this database names nothing with its sha256 AND the file is older
than the grace period, so content another process (or this one) is about to commit is never
touched; the content store must belong to this database (db/content_owner.py, checked first).
The sweep runs in the background after start, one two-character folder per write transaction
(about 1/256 of the content each), so neither start-up nor any step grows with the whole table.
Every removal is logged with its sha256 and size.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from db.connection import Database
from db.content import ContentStore

log = logging.getLogger("boternity.content")

NAMED_IN_RANGE = """
SELECT DISTINCT sha256 FROM bot_file_versions WHERE sha256 >= :low AND sha256 < :high
"""


async def sweep(db: Database, store: ContentStore, now: Callable[[], float] = time.time) -> int:
    """Remove unnamed content older than the store's grace period; how many files went."""
    removed = 0
    for folder in await asyncio.to_thread(store.folders):
        cutoff = now() - store.grace_seconds
        aged = await asyncio.to_thread(store.aged, folder, cutoff)
        if not aged:
            continue
        async with db.write() as conn:
            # checked under the write lock: a backup that starts later snapshots this state
            if store.backup_running():
                log.info("content sweep stopped: a backup is running (the next start sweeps)")
                return removed
            high = folder[0] + chr(ord(folder[1]) + 1)
            rows = await conn.fetch_all(NAMED_IN_RANGE, {"low": folder, "high": high})
            unnamed = sorted(set(aged) - {row["sha256"] for row in rows})
            store.remove(unnamed)
        for sha256 in unnamed:
            log.info("removed unreferenced content sha256=%s size=%d", sha256, aged[sha256])
        removed += len(unnamed)
    log.info("content sweep finished: %d unreferenced file(s) removed", removed)
    return removed
