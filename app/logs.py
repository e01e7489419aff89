"""Logging: one handler on stderr, text or JSON lines (BOTERNITY_LOG_FORMAT), every line of a
request carrying its request id (app/access.py sets it; a line outside any request has "-").

Nothing here logs a key, a variable value or a signed URL's signature: the access line names
the path without its query string and the operation by name, and uvicorn's own access log
(which prints query strings) is off (app/cli_serve.py).
"""

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
FORMATS = ("text", "json")
# fields an access line adds to its record (logging's `extra`), in the order they are printed
ACCESS_FIELDS = ("method", "path", "operation", "status", "duration_ms", "error_codes")
_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message, and an access
    line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        line.update(
            {name: getattr(record, name) for name in ACCESS_FIELDS if hasattr(record, name)}
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, log_format: str) -> None:
    """Route every logger (uvicorn's too) to one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper().replace("TRACE", "DEBUG"))
    logging.getLogger("databases").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
