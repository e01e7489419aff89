"""Subscriptions shared per distinct selection: the subscriptions of every socket that send the
same document, operation name and variables are one feed, which runs the subscription once,
encodes each event's payload once, and hands it to each subscriber, through the outbox of its
socket (one writer task per socket, however many subscriptions it has).

- An event costs one execution and one encoding per distinct selection, and then one frame
  per subscriber (its id around the encoded payload), however many subscribe.
- A feed wakes its subscribers' writers a few at a time, with the event loop running
  between, so a burst of frames never holds up a request (a mutation is acknowledged without
  waiting for its events to reach anyone).
- A subscriber whose client reads slowly falls behind alone: past subscription_queue events
  waiting in its socket's outbox it ends with PAYLOAD_TOO_LARGE (as the broker ends a reader that
  falls behind, db/broker.py) and the others go on.
- The feed ends (its subscribers get its errors, or complete) when the subscription ends;
  the last subscriber to leave ends the subscription.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing, suppress
from typing import Any

import orjson
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types.execution import ExecutionResult

from app.engine.strawberry_adapter import never_ran
from app.responses import encode
from db.broker import SubscriptionOverflowError
from schema.errors import coded_error

WAKE_CHUNK = 16  # subscribers woken per turn of the event loop
_log = logging.getLogger("boternity.websocket")

Results = AsyncGenerator[Any, None]
Start = Callable[[], Awaitable[Results]]
# ("next", encoded payload), ("error", formatted errors) or ("complete", None)
Item = tuple[str, Any]
_COMPLETE: Item = ("complete", None)


def selection_key(query: str, name: str | None, variables: dict[str, Any] | None) -> str:
    """What makes two subscriptions the same: document, operation name, variables."""
    try:
        values = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # an integer beyond 64 bits
        values = json.dumps(variables, sort_keys=True)
    return json.dumps([query, name, values])


def _payload(result: ExecutionResult) -> orjson.Fragment:
    """The `next` payload, as Strawberry's handler builds it, encoded once."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return orjson.Fragment(encode(payload))


class Outbox:
    """One socket's frames waiting to be sent, in order, by one task (woken once per burst,
    not once per subscription)."""

    def __init__(self) -> None:
        self._items: deque[tuple[Member, Item]] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def put(self, member: "Member", item: Item) -> None:
        self._items.append((member, item))
        self._ready.set()
        if self._task is None:
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                while self._items:
                    member, item = self._items.popleft()
                    await member.deliver(item)
        except WebSocketDisconnected:
            return  # the socket is gone: its operations are being cleaned up

    async def close(self) -> None:
        """Stop sending (the socket is closing) and wait for the writer to end."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task


class Member:
    """One subscriber: at most `limit` of its items wait in its socket's outbox."""

    def __init__(
        self, feed: "Feed", limit: int, outbox: Outbox, send: Callable[[Item], Awaitable[None]]
    ) -> None:
        self._feed = feed
        self._limit = limit
        self._outbox = outbox
        self._send = send
        self._pending = 0
        self._ended = False
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def offer(self, item: Item) -> None:
        if self._ended:
            return
        if item[0] != "next":
            self._ended = True
        elif self._pending >= self._limit:
            self._ended = True
            self._feed.leave(self)
            overflow = SubscriptionOverflowError(
                f"this subscription fell more than {self._limit} events behind and was ended; "
                "subscribe again and re-read the current state"
            )
            error = coded_error(overflow.message, overflow.code)
            self._put(("next", orjson.Fragment(encode({"data": None, "errors": [error]}))))
            item = _COMPLETE
        self._put(item)

    def _put(self, item: Item) -> None:
        self._pending += 1
        self._outbox.put(self, item)

    async def deliver(self, item: Item) -> None:
        """Send one item (its socket's outbox calls this, in order)."""
        self._pending -= 1
        if self.finished.done():  # completed by the client, or its socket closed
            return
        if item[0] != "next":
            self.finished.set_result(None)
        await self._send(item)

    def leave(self) -> None:
        """No more items, not even those waiting in the outbox."""
        self._ended = True
        if not self.finished.done():
            self.finished.cancel()
        self._feed.leave(self)


class Feed:
    def __init__(self, feeds: "Feeds", key: str, start: Start, queue_size: int) -> None:
        self._feeds = feeds
        self._key = key
        self._queue_size = queue_size
        self.members: dict[Member, None] = {}
        self._task = asyncio.create_task(self._run(start))

    def join(self, outbox: Outbox, send: Callable[[Item], Awaitable[None]]) -> Member:
        member = Member(self, self._queue_size, outbox, send)
        self.members[member] = None
        return member

    def leave(self, member: Member) -> None:
        self.members.pop(member, None)
        if not self.members:
            self._feeds.forget(self._key, self)
            self._task.cancel()

    async def _run(self, start: Start) -> None:
        try:
            results = await start()
            async with aclosing(results):
                async for result in results:
                    if never_ran(result):  # only ever the first result
                        errors = [error.formatted for error in result.errors or ()]
                        await self._broadcast(("error", errors))
                        return
                    await self._broadcast(("next", _payload(result)))
        except Exception:  # Strawberry turns resolver errors into results: this is a bug
            _log.exception("a subscription feed failed")
        finally:
            self._feeds.forget(self._key, self)
            for member in tuple(self.members):
                member.offer(_COMPLETE)  # after an error: ignored

    async def _broadcast(self, item: Item) -> None:
        members = tuple(self.members)
        for start in range(0, len(members), WAKE_CHUNK):
            if start:
                await asyncio.sleep(0)  # let requests run between the chunks
            for member in members[start : start + WAKE_CHUNK]:
                member.offer(item)


class Feeds:
    """The feeds of this process, by selection."""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._feeds: dict[str, Feed] = {}

    def join(
        self, key: str, start: Start, outbox: Outbox, send: Callable[[Item], Awaitable[None]]
    ) -> Member:
        """Join the feed of this selection, starting it (with start()) when there is none;
        its items go through the outbox to send()."""
        feed = self._feeds.get(key)
        if feed is None:
            feed = Feed(self, key, start, self._queue_size)
            self._feeds[key] = feed
        return feed.join(outbox, send)

    def forget(self, key: str, feed: Feed) -> None:
        if self._feeds.get(key) is feed:
            del self._feeds[key]

    @property
    def members(self) -> int:
        """How many subscribers every feed has now."""
        return sum(len(feed.members) for feed in self._feeds.values())
