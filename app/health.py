"""/healthz (the process is up) and /readyz (the database answers and is migrated)."""

from starlette.requests import Request
from starlette.responses import JSONResponse

from db.connection import Database
from db.errors import MigrationError
from db.migrate import pending


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    db: Database = request.app.state.db
    try:
        waiting = await pending(db.read())
    except MigrationError as error:
        return JSONResponse({"status": "unavailable", "reason": str(error)}, status_code=503)
    except Exception as error:  # any database failure means not ready; it is reported
        return JSONResponse(
            {"status": "unavailable", "reason": f"database: {type(error).__name__}"}, 503
        )
    if waiting:
        return JSONResponse(
            {"status": "unavailable", "reason": f"pending migrations: {', '.join(waiting)}"}, 503
        )
    return JSONResponse({"status": "ready"})
