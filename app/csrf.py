"""CSRF protection exactly as Apollo Server's csrfPrevention decides it.

A browser sends a cross-site request without a CORS preflight only when it is "simple": GET or
POST, with no Content-Type or one of text/plain, application/x-www-form-urlencoded and
multipart/form-data, and no custom header. So a request passes when it carries a Content-Type
that is something else (a value that does not parse as a MIME type counts: browsers preflight
it too), or a non-empty X-Apollo-Operation-Name, Apollo-Require-Preflight or
GraphQL-Require-Preflight header. Apollo Client's GET queries (Content-Type: application/json)
pass; a POST with no Content-Type at all needs the header.
"""

import re

from starlette.datastructures import Headers

PREFLIGHT_HEADERS = (
    "x-apollo-operation-name",
    "apollo-require-preflight",
    "graphql-require-preflight",
)
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_WHITESPACE = " \t\r\n"


def essence(content_type: str) -> str | None:
    """type/subtype of a Content-Type value, in lower case, as the WHATWG MIME type parser
    reads it (Apollo uses it); None when it does not parse."""
    kind, slash, rest = content_type.strip(_WHITESPACE).partition("/")
    subtype = rest.split(";", 1)[0].rstrip(_WHITESPACE)
    if not slash or not _TOKEN.fullmatch(kind) or not _TOKEN.fullmatch(subtype):
        return None
    return f"{kind}/{subtype}".lower()


def passes(headers: Headers) -> bool:
    """Whether a browser must have preflighted this request (so CORS already vetted it)."""
    content_type = headers.get("content-type")
    if content_type is not None and essence(content_type) not in SIMPLE_TYPES:
        return True
    return any(headers.get(name) for name in PREFLIGHT_HEADERS)


REFUSAL = (
    "this request could be a cross-site request forgery (CSRF): send it with a non-empty "
    "GraphQL-Require-Preflight (or Apollo-Require-Preflight, X-Apollo-Operation-Name) header, "
    "or with Content-Type: application/json"
)
