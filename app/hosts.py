"""Which Host headers the server answers to, and which origins are its own (DNS rebinding).

A page on an attacker's name that resolves to 127.0.0.1 reaches the server with the
attacker's name in the Host header (and its own origin in Origin), so every request and every
WebSocket handshake whose Host names no allowed host is refused with HTTP 400 before anything
else runs, whatever its route. The allowed hosts are `allowed_hosts` (host names or
addresses, without port; `*` allows any), by default the loopback names and the bind host;
with authentication disabled only the loopback names, whatever the setting says
(app/settings.py refuses anything else). The port of the Host header is not compared.

The WebSocket origin check (app/websocket.py) takes the server's own origins from these
names and the bind port, never from the request's Host.
"""

import ipaddress
import logging

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.http.websocket_origin import normalize_origin

from app.responses import RequestError, error_response, negotiate
from db.settings import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
ANY = "*"
_WILDCARD_ADDRESSES = ("0.0.0.0", "[::]")  # noqa: S104 (names to leave out, not to bind)
_REMEMBERED = 1000  # distinct allowed Host values remembered (the check is then one lookup)
_log = logging.getLogger("boternity.hosts")


def host_name(value: str) -> str:
    """The host of a Host header or setting entry, lower-case, without port; an IPv6 address
    in brackets (as a Host header carries it)."""
    text = value.strip().lower()
    if text.startswith("["):
        return text[: text.find("]") + 1] if "]" in text else text
    if text.count(":") > 1:  # an IPv6 address without brackets (a setting entry)
        return f"[{ipaddress.IPv6Address(text)}]" if _is_ipv6(text) else text
    return text.partition(":")[0]


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The host names the server answers to (ANY: every one)."""
    if settings.allowed_hosts:
        names = {host_name(entry) for entry in settings.allowed_hosts}
    else:
        names = {*LOOPBACK_NAMES, host_name(settings.host)} - set(_WILDCARD_ADDRESSES)
    if settings.auth == "disabled":
        names &= set(LOOPBACK_NAMES)
    return frozenset(names)


def own_origins(settings: Settings) -> frozenset[str]:
    """The origins of pages this server serves: an allowed host on the bind port."""
    origins = set()
    for name in allowed_hosts(settings) - {ANY}:
        for scheme in ("http", "https"):
            origin = normalize_origin(f"{scheme}://{name}:{settings.port}")
            if origin is not None:
                origins.add(origin)
    return frozenset(origins)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class HostCheck:
    """Refuses (HTTP 400) an HTTP request or WebSocket handshake whose Host is not allowed."""

    def __init__(self, settings: Settings) -> None:
        self._names = allowed_hosts(settings)
        self._seen: set[str] = set()

    def allows(self, scope: Scope) -> bool:
        if ANY in self._names:
            return True
        host = _header(scope, b"host")
        if host is None:
            return False
        if host in self._seen:
            return True
        if host_name(host) not in self._names:
            return False
        if len(self._seen) < _REMEMBERED:
            self._seen.add(host)
        return True

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = _header(scope, b"host")
        _log.warning("refused a request for the Host %r (not in BOTERNITY_ALLOWED_HOSTS)", host)
        message = (
            "a Host header is required"
            if host is None
            else f"the Host '{host[:100]}' is not one this server answers to; the operator "
            "lists the names clients use in BOTERNITY_ALLOWED_HOSTS"
        )
        accept = _header(scope, b"accept")
        response = error_response(negotiate(accept), RequestError(400, message))
        if scope["type"] == "http":
            await response(scope, receive, send)
        elif "websocket.http.response" in scope.get("extensions", {}):
            await WebSocket(scope, receive, send).send_denial_response(response)
        else:  # a server without the denial extension answers 403 to a close before accept
            await WebSocket(scope, receive, send).close(1008)
