"""The open WebSockets of this process: caps on sockets and operations, globally and per API
key, and a periodic re-check of their keys, so a revoked (or deleted) key's sockets close.

- max_websockets sockets at once: one more is closed with 1013 (Try Again Later) as soon as
  it is accepted; max_websockets_per_key per key: one more is closed with 4429 at its
  connection_init.
- max_subscriptions_total operations at once over every socket, max_subscriptions_per_key
  over one key's sockets (and max_subscriptions per socket, app/websocket.py): one more gets
  an error message (BAD_USER_INPUT) and the socket stays open.
- Every ws_key_check_ms the keys of the open sockets are looked up again (one query); the
  sockets of a key revoked or deleted since are closed with 4401, and the key is forgotten by
  the authenticator, so its HTTP requests stop at once too. This works the same on every
  backend and across processes (the CLI revokes in its own process).
With authentication disabled every socket counts as one key.
"""

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Protocol

from app.auth import Authenticator, Principal
from db.settings import Settings

TRY_AGAIN_LATER = 1013
TOO_MANY = 4429
UNAUTHORIZED = 4401
_log = logging.getLogger("boternity.websocket")


class Socket(Protocol):
    principal: Principal | None

    @property
    def operations(self) -> Mapping[str, object]: ...

    async def close(self, code: int, reason: str) -> None: ...


def _key(principal: Principal) -> str:
    return principal.key_id or principal.name


class Sockets:
    def __init__(self, settings: Settings, authenticator: Authenticator) -> None:
        self._settings = settings
        self._authenticator = authenticator
        self._open: set[Socket] = set()
        self._by_key: dict[str, set[Socket]] = {}
        self._checking: asyncio.Task[None] | None = None

    def admit(self, socket: Socket) -> str | None:
        """Count an accepted socket in; the close reason when there are too many."""
        limit = self._settings.max_websockets
        if len(self._open) >= limit:
            return f"Try again later: the server holds its most WebSockets ({limit})"
        self._open.add(socket)
        return None

    def admit_key(self, socket: Socket, principal: Principal) -> str | None:
        """Count an authenticated socket in for its key; the close reason when the key has
        too many."""
        sockets = self._by_key.setdefault(_key(principal), set())
        limit = self._settings.max_websockets_per_key
        if len(sockets) >= limit:
            return f"Too many WebSockets: at most {limit} per API key"
        sockets.add(socket)
        return None

    def leave(self, socket: Socket) -> None:
        self._open.discard(socket)
        if socket.principal is not None:
            sockets = self._by_key.get(_key(socket.principal))
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del self._by_key[_key(socket.principal)]

    def operation_refusal(self, principal: Principal) -> str | None:
        """Why one more operation may not start for this key, or None."""
        per_key = self._settings.max_subscriptions_per_key
        mine = self._by_key.get(_key(principal), ())
        if sum(len(socket.operations) for socket in mine) >= per_key:
            return f"at most {per_key} subscriptions per API key"
        total = self._settings.max_subscriptions_total
        if sum(len(socket.operations) for socket in self._open) >= total:
            return f"the server holds its most subscriptions ({total}); try again later"
        return None

    @property
    def count(self) -> int:
        return len(self._open)

    async def start(self) -> None:
        self._checking = asyncio.create_task(self._check_keys())

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()

    async def _check_keys(self) -> None:
        while True:
            await asyncio.sleep(self._settings.ws_key_check_ms / 1000)
            try:
                await self.close_revoked()
            except Exception as error:  # the database is away for a moment: check next time
                _log.warning("could not check the keys of open WebSockets: %s", error)

    async def close_revoked(self) -> None:
        """Close the sockets of keys revoked or deleted since they connected."""
        keyed = [key for key in self._by_key if key]
        if not keyed or not self._authenticator.required:
            return
        active = await self._authenticator.active_key_ids(keyed)
        for key in set(keyed) - active:
            for socket in tuple(self._by_key.get(key, ())):
                with suppress(RuntimeError, OSError):  # it is closing already
                    await socket.close(UNAUTHORIZED, "Unauthorized: the API key was revoked")
