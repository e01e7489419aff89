"""GraphQL responses over HTTP, as the GraphQL-over-HTTP specification has them: the media type
negotiated from Accept, the status codes that go with it, and the one function every answer of
/graphql goes through (results and errors of every layer alike).

| the request                                            | graphql-response+json | json |
|--------------------------------------------------------|-----------------------|------|
| executed (data present, field errors included)         | 200                   | 200  |
| parse, validation, variables, operation choice, limits | 400                   | 200  |
| malformed body or parameters, CSRF                     | 400                   | 400  |
| no or bad API key / a scope that does not allow it     | 401 / 403             | same |
| mutation over GET / body too large / not JSON          | 405 / 413 / 415       | same |

application/json answers every well-formed GraphQL request with 200, as the specification
recommends (a 4xx could come from any proxy); refusals of the HTTP request itself keep their
status in both, as the specification allows for authentication and authorization.
"""

import json
from typing import Any

import orjson
from starlette.responses import Response

from schema.errors import BAD_USER_INPUT, coded_error

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_JSON_RANGES = (JSON, "application/*", "*/*")


class RequestError(Exception):
    """A request refused before anything runs: its HTTP status (kept in every media type;
    transports without one ignore it), its coded errors and any headers the status needs."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = BAD_USER_INPUT,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
        self.errors: list[dict[str, Any]] = [coded_error(message, code)]

    @property
    def error(self) -> dict[str, Any]:
        return self.errors[0]


class GraphQLRequestError(RequestError):
    """A well-formed request whose GraphQL request cannot run (its document does not parse or
    validate, is over a limit, names no runnable operation, or its variables do not coerce):
    400 in application/graphql-response+json, 200 in application/json."""

    def __init__(
        self, message: str, code: str = BAD_USER_INPUT, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(400, message, code)
        if errors is not None:
            self.errors = errors


def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header: application/graphql-response+json when the
    client ranks it first (by q, then by its own order), application/json when Accept is absent,
    prefers application/json or */*, or names nothing this server speaks (the specification lets
    a server disregard Accept and answer application/json)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept or "").split(",")):
        media, *parameters = item.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, media.strip().lower()))
    for _, _, media in sorted(ranked):
        if media == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media in _JSON_RANGES:
            return JSON
    return JSON


def encode(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:  # an integer beyond 64 bits, or a lone surrogate an error message quotes
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()  # \u escapes


def graphql_response(
    media: str, payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The one way /graphql answers: a GraphQL response (or a batch of them) in `media`."""
    return Response(encode(payload), status, headers, media_type=f"{media}; charset=utf-8")


def error_response(media: str, error: RequestError) -> Response:
    """A refused request, with the status its media type gives it (module docstring)."""
    status = error.status
    if isinstance(error, GraphQLRequestError) and media == JSON:
        status = 200
    return graphql_response(media, {"errors": error.errors}, status, error.headers)


def result_status(media: str, executed: bool) -> int:
    """The status of one operation's result: 200 once execution started; before that (the
    variables did not coerce, the document was refused) as GraphQLRequestError."""
    return 200 if executed or media == JSON else 400
