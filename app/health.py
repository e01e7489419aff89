"""/healthz (the process is up) and /readyz (the database answers and is migrated, and the data
dir takes writes: a full disk or a read-only data dir is not ready, and ready again once it is
writable)."""

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from db.connection import Database
from db.content import ContentStore
from db.errors import MigrationError, StorageError
from db.migrate import pending


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)


async def readyz(request: Request) -> JSONResponse:
    db: Database = request.app.state.db
    store: ContentStore = request.app.state.content
    try:
        waiting = await pending(db.read())
    except MigrationError as error:
        return _unavailable(str(error))
    except Exception as error:  # any database failure means not ready; it is reported
        return _unavailable(f"database: {type(error).__name__}")
    if waiting:
        return _unavailable(f"pending migrations: {', '.join(waiting)}")
    try:
        await asyncio.to_thread(store.check_writable)
    except StorageError as error:
        return _unavailable(f"data dir {store.tmp.parent}: {error.message}")
    except OSError as error:
        return _unavailable(f"data dir {store.tmp.parent}: {error.strerror}")
    return JSONResponse({"status": "ready"})
