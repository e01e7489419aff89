"""File downloads: the routes behind downloadUrl, and the file services the app holds (the
content store and the URL signer).

GET /files/{file_id}/content (the current version) and /files/{file_id}/versions/{n}/content
stream the exact stored bytes with Content-Type, Content-Length, ETag (the sha256), and,
because uploaded HTML or SVG must never run on the API's origin, Content-Disposition:
attachment (RFC 6266 filename* plus an ASCII fallback), X-Content-Type-Options: nosniff and
Content-Security-Policy: sandbox; no page may frame any of its answers (X-Frame-Options:
DENY, Content-Security-Policy frame-ancestors 'none'). A signed URL (exp and sig) is checked
before anything is looked up: tampered or expired is 403. Without exp and sig, the request
needs an API key (Authorization: Bearer, any scope; none when authentication is disabled), else 401.
"""

import asyncio
import contextlib
import logging
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.auth import Authenticator
from db import files as db_files
from db.backend import claim_content, download_secret, open_content_store
from db.codec import MAX_INT32, Clock, parse_uuid
from db.connection import Database
from db.content import StoredContent
from db.content_sweep import sweep
from db.errors import ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError
from db.files import DownloadRow
from db.settings import Settings
from db.signing import UrlSigner
from schema.errors import coded_error
from schema.files import content_path

# No page may frame a download (clickjacking), and what it serves never runs as a page.
NO_FRAMING = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "sandbox; frame-ancestors 'none'",
}


def content_disposition(filename: str) -> str:
    """attachment with an ASCII fallback filename and the exact name as RFC 6266 filename*."""
    fallback = "".join(
        character if " " <= character <= "~" and character not in '"\\%' else "_"
        for character in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class FileServing:
    """The content store, the URL signer and the download routes."""

    def __init__(
        self, db: Database, settings: Settings, clock: Clock, authenticator: Authenticator
    ) -> None:
        self._db = db
        self._authenticator = authenticator
        self._settings = settings
        self._clock = clock
        self.content = open_content_store(db, settings)
        self.signer: UrlSigner | None = None
        self.sweeping: asyncio.Task[int] | None = None
        self.routes = [
            Route("/files/{file_id}/content", self._current, methods=["GET"]),
            Route(
                "/files/{file_id}/versions/{version:int}/content", self._version, methods=["GET"]
            ),
        ]

    async def start(self) -> None:
        """On start (after migrating): check the content store belongs to this database, clear
        stale interrupted uploads, load the signing secret, and start sweeping unreferenced
        content in the background (db/content_sweep.py)."""
        await claim_content(self._db, self.content)
        self.content.prepare()
        secret = await download_secret(self._db, self._settings)
        self.signer = UrlSigner(secret, self._settings.download_url_seconds)
        self.sweeping = asyncio.create_task(self._sweep())

    async def _sweep(self) -> int:
        try:
            return await sweep(self._db, self.content)
        except Exception:
            logging.getLogger("boternity.content").exception("the content sweep failed")
            return 0

    async def stop(self) -> None:
        if self.sweeping is not None:
            self.sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeping

    async def _current(self, request: Request) -> Response:
        return await self._serve(request, None)

    async def _version(self, request: Request) -> Response:
        version: int = request.path_params["version"]
        if not 1 <= version <= MAX_INT32:
            return _error(NotFoundError(f"no version {version}"), 404)
        return await self._serve(request, version)

    async def _serve(self, request: Request, version: int | None) -> Response:
        try:
            file_id = parse_uuid(request.path_params["file_id"])
        except ValidationError as error:
            return _error(NotFoundError(error.message), 404)
        refusal = await self._refusal(request, content_path(file_id, version))
        if refusal is not None:
            return refusal
        conn = self._db.read()
        row = await db_files.get_download(conn, file_id=file_id, version=version)
        content = None if row is None else await self.content.open(conn, row.sha256)
        if row is None or content is None:
            what = "file" if version is None else "file version"
            return _error(NotFoundError(f"no such {what}"), 404)
        return _content_response(content, row)

    async def _refusal(self, request: Request, path: str) -> Response | None:
        exp, sig = request.query_params.get("exp"), request.query_params.get("sig")
        if exp is None and sig is None:
            try:
                await self._authenticator.authenticate(request.headers.get("authorization"))
            except UnauthenticatedError as error:
                return _error(error, 401)
            return None
        assert self.signer is not None  # set on start
        problem = self.signer.check(path, exp, sig, self._clock())
        return None if problem is None else _error(ForbiddenError(problem), 403)


def _error(error: NotFoundError | ForbiddenError | UnauthenticatedError, status: int) -> Response:
    return JSONResponse({"errors": [coded_error(error.message, error.code)]}, status, NO_FRAMING)


def _content_response(content: StoredContent, row: DownloadRow) -> Response:
    headers = {
        "Content-Type": row.mime_type,
        "Content-Length": str(content.size_bytes),
        "ETag": f'"{row.sha256}"',
        "Content-Disposition": content_disposition(row.filename),
        "X-Content-Type-Options": "nosniff",
        **NO_FRAMING,
    }
    return StreamingResponse(content.chunks, headers=headers)
