"""The shape of graphql-transport-ws messages a client may send, as graphql-ws's PROTOCOL.md
gives it (and its reference server checks it): a message that is not one of them closes the
socket with 4400 and the reason `problem` returns, before anything else looks at it.

- connection_init, ping, pong: an optional `payload` that is an object (or null).
- subscribe: a non-empty string `id`; a `payload` object whose `query` is a string, and whose
  `operationName` (a string), `variables` and `extensions` (objects) may be null or absent.
- complete: a non-empty string `id`.
Any other `type` (the server's own connection_ack, next and error included) is invalid.
"""

from typing import Any

BAD_REQUEST = 4400
_PAYLOAD_OPTIONAL = ("connection_init", "ping", "pong")


def _object_or_null(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _id_problem(message: dict[str, Any]) -> str | None:
    ident = message.get("id")
    if not isinstance(ident, str) or not ident:
        return f"a {message['type']} message needs a non-empty string id"
    return None


def _subscribe_problem(message: dict[str, Any]) -> str | None:
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "a subscribe message needs a payload object"
    if not isinstance(payload.get("query"), str):
        return "a subscribe payload needs a query string"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "operationName must be a string or null"
    for field in ("variables", "extensions"):
        if not _object_or_null(payload.get(field)):
            return f"{field} must be an object or null"
    return None


def problem(message: object) -> str | None:
    """Why the message is not one a client may send (the close reason), or None."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "a message needs a string type"
    if kind in _PAYLOAD_OPTIONAL:
        if not _object_or_null(message.get("payload")):
            return f"the {kind} payload must be an object or null"
        return None
    if kind == "subscribe":
        return _id_problem(message) or _subscribe_problem(message)
    if kind == "complete":
        return _id_problem(message)
    return f"unknown message type '{kind[:40]}'"
