"""Who is calling: API keys sent as `Authorization: Bearer <key>` (or in the WebSocket
connection_init payload), checked against their SHA-256 hashes.

Scopes: read (queries, subscriptions, downloads), write (read plus every mutation), admin
(write plus what later needs it). A key found valid is remembered for auth_cache_ms (default
1 s), so a revocation takes effect within that time; last-used times are written at most once a
minute per key.
"""

import ipaddress
import time
from dataclasses import dataclass

from db import api_keys
from db.codec import Clock, format_timestamp
from db.connection import Database
from db.errors import ForbiddenError, UnauthenticatedError
from db.settings import Settings

_TOUCH_EVERY_SECONDS = 60.0
MAKE_KEY = "make one with boternity-graphql api-key create --name NAME --scope read"


@dataclass(frozen=True)
class Principal:
    name: str
    scope: str
    key_id: str | None = None  # None when authentication is disabled

    @property
    def can_write(self) -> bool:
        return self.scope in ("write", "admin")

    def require_write(self) -> None:
        if not self.can_write:
            raise ForbiddenError(
                f"the API key '{self.name}' has scope {self.scope}; mutations need write"
            )


AUTH_DISABLED = Principal(name="(authentication disabled)", scope="admin")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._required = settings.auth == "required"
        self._cache_seconds = settings.auth_cache_ms / 1000
        self._clock = clock
        self._valid: dict[str, tuple[Principal, str, float]] = {}
        self._touched: dict[str, float] = {}

    @property
    def required(self) -> bool:
        return self._required

    async def active_key_ids(self, key_ids: list[str]) -> set[str]:
        """Which of these keys are still active; the others (revoked or deleted) are
        forgotten at once, so they no longer pass for the rest of auth_cache_ms."""
        active = await api_keys.active_key_ids(self._db.read(), ids=key_ids)
        gone = set(key_ids) - active
        if gone:
            for token in [token for token, cached in self._valid.items() if cached[1] in gone]:
                del self._valid[token]
        return active

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller, from an Authorization header value; UNAUTHENTICATED when no valid key."""
        if not self._required:
            return AUTH_DISABLED
        token = bearer_token(authorization)
        if token is None:
            raise UnauthenticatedError(
                f"an API key is required: send the header Authorization: Bearer <key>; {MAKE_KEY}"
            )
        now = time.monotonic()
        cached = self._valid.get(token)
        if cached is not None and now - cached[2] < self._cache_seconds:
            return cached[0]
        row = await api_keys.get_active_key(self._db.read(), secret=token)
        if row is None:
            self._valid.pop(token, None)
            raise UnauthenticatedError(f"the API key is not valid (unknown or revoked); {MAKE_KEY}")
        principal = Principal(name=row.name, scope=row.scope, key_id=row.id)
        if len(self._valid) > 10_000:
            self._valid.clear()
        self._valid[token] = (principal, row.id, now)
        if now - self._touched.get(row.id, -_TOUCH_EVERY_SECONDS) >= _TOUCH_EVERY_SECONDS:
            self._touched[row.id] = now
            async with self._db.write() as conn:
                await api_keys.touch_api_key(conn, id=row.id, now=format_timestamp(self._clock()))
        return principal
