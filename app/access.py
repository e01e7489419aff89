"""Every HTTP request: a request id, one access log line, and its metrics (app/metrics.py).

The request id is the incoming X-Request-ID when it is well-formed (1 to 64 of A-Z a-z 0-9 . _
: -), else a new one; it is returned in the X-Request-ID response header and set for every log
line of the request (app/logs.py). The endpoints say what ran with `note_operations` and
`note_codes` (one line each where they answer); the access line and the metrics are written
once the response is sent.
"""

import logging
import re
import secrets
import time
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import REQUEST_ID
from app.metrics import ANONYMOUS, BATCH, NONE, Metrics

log = logging.getLogger("boternity.access")
SEEN = "boternity.seen"
_WELL_FORMED = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class Seen:
    """What one request ran: set by the endpoint, read when the response is sent."""

    __slots__ = ("batch", "codes", "kinds", "names", "status")

    def __init__(self) -> None:
        self.status = 500  # until a response starts
        self.batch = False
        self.kinds: list[str] = []
        self.names: list[str | None] = []
        self.codes: list[str] = []


def note_operations(scope: Scope, plans: Sequence[Any], payloads: Sequence[dict[str, Any]]) -> None:
    """The operations a GraphQL request ran (their plans) and the errors it answered."""
    seen: Seen | None = scope.get(SEEN)
    if seen is None:
        return
    seen.batch = len(plans) > 1
    for plan in plans:
        operations = plan.prepared.operations
        name = plan.name
        if name is None and len(operations) == 1:
            name = next(iter(operations))  # the one operation's own name
        kind = operations.get(name)
        seen.kinds.append(kind.value if kind is not None else "none")
        seen.names.append(name)
    for payload in payloads:
        seen.codes += [error["extensions"]["code"] for error in payload.get("errors", ())]


def note_codes(scope: Scope, codes: Sequence[str]) -> None:
    """The error codes of a request refused before any operation ran."""
    seen: Seen | None = scope.get(SEEN)
    if seen is not None:
        seen.codes += codes


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _WELL_FORMED.match(value):
            incoming: str = value.decode()
            return incoming
    return secrets.token_hex(8)


class Access:
    """The ASGI wrapper app/main.py puts around every HTTP request."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        seen = scope[SEEN] = Seen()
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            self._done(scope, seen, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _done(self, scope: Scope, seen: Seen, seconds: float) -> None:
        if seen.batch:
            kind, operation = "batch", BATCH
        elif seen.kinds:
            kind, operation = seen.kinds[0], self._metrics.operation_label(seen.names[0])
        else:
            kind, operation = "none", NONE
        outcome = seen.codes[0] if seen.codes else "OK"
        if not seen.codes and seen.status >= 400:
            outcome = f"HTTP_{seen.status}"
        self._metrics.observe(kind, operation, outcome, seen.codes, seconds)
        if log.isEnabledFor(logging.INFO):
            names = ",".join(name or ANONYMOUS for name in seen.names) or "-"
            codes = ",".join(seen.codes) or "-"
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "operation": names,
                "status": seen.status,
                "duration_ms": round(seconds * 1000, 3),
                "error_codes": codes,
            }
            log.info("%s %s %s %d %.3fms %s", *fields.values(), extra=fields)
