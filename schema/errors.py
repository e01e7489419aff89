"""The error shape: every error carries extensions.code.

Expected errors (DomainError) keep their message and code. GraphQL's own parse and validation
errors keep their message (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED); variable coercion
errors are BAD_USER_INPUT. A StorageError (disk full, data dir not writable) is
INTERNAL_SERVER_ERROR with its message and extensions.reason: the operator must know. Anything
else is masked as INTERNAL_SERVER_ERROR and logged with its traceback server-side.
"""

import logging
from typing import Any

from graphql import GraphQLError

from db.errors import DomainError, StorageError

logger = logging.getLogger("boternity.graphql")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Internal server error"


def _domain_cause(error: BaseException | None) -> DomainError | None:
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, DomainError):
            return error
        error = getattr(error, "original_error", None) or error.__cause__
        seen += 1
    return None


def error_code(error: GraphQLError, phase_code: str) -> str:
    """The code of an error raised in a phase whose default code is phase_code."""
    preset = (error.extensions or {}).get("code")
    if isinstance(preset, str):
        return preset
    cause = _domain_cause(error.original_error)
    if cause is not None:
        return cause.code
    return phase_code


def format_error(error: GraphQLError, phase_code: str = INTERNAL) -> dict[str, Any]:
    """The JSON a client sees for one error."""
    code = error_code(error, phase_code)
    message = error.message
    storage = _domain_cause(error.original_error)
    if isinstance(storage, StorageError):
        logger.error("storage: %s", message)
    elif code == INTERNAL:
        message = MASKED_MESSAGE
        cause = error.original_error or error
        logger.error(
            "unexpected error at %s: %s",
            ".".join(str(part) for part in error.path or []) or "-",
            error.message,
            exc_info=(type(cause), cause, cause.__traceback__),
        )
    formatted: dict[str, Any] = {"message": message}
    if error.locations is not None:
        formatted["locations"] = [
            {"line": location.line, "column": location.column} for location in error.locations
        ]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = {"code": code}
    if isinstance(storage, StorageError):
        formatted["extensions"]["reason"] = storage.reason
    return formatted


def coded_error(message: str, code: str) -> dict[str, Any]:
    """An error outside GraphQL execution (transport, limits)."""
    return {"message": message, "extensions": {"code": code}}


def storage_error_json(error: StorageError) -> dict[str, Any]:
    """A StorageError outside GraphQL execution (an upload being received)."""
    return {"message": error.message, "extensions": {"code": error.code, "reason": error.reason}}
