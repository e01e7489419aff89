"""Live-update events: a broker fans committed changes out to the subscriptions of a topic.

Writers hand their events over inside the write transaction (`publish_after`, `complete_after`);
a broker delivers them once it commits, in commit order, and never one of a rolled-back
transaction (the memory broker from `conn.after_commit`, which runs under the SQLite write lock
in commit order). Publishing never waits: each subscription has its own bounded queue,
and a subscription whose reader falls `queue_size` events behind is ended with
SubscriptionOverflowError (PAYLOAD_TOO_LARGE) the next time it is read: its client resubscribes
and re-reads the current state. Writers and the other subscribers are never slowed.

`Broker` is the interface; `MemoryBroker` serves one process (the embedded default);
db/postgres_broker.py carries events between processes with PostgreSQL LISTEN/NOTIFY. The
`broker` setting chooses (db/backend.py). Events are `Change`s whose rows are frozen
dataclasses of plain values (str, int, bool, None, decoded JSON), so such a broker can encode
them.
"""

import asyncio
from dataclasses import dataclass
from typing import Protocol

from db.connection import WriteConn
from db.errors import PayloadTooLargeError


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change: `key` names what changed within its topic (a KV key, a provider
    name, a draft's session id, an audit entry's id); `row` is it as committed (a db row
    dataclass), or None when it was deleted."""

    key: str
    row: object | None


class SubscriptionOverflowError(PayloadTooLargeError):
    """The subscription's reader fell too far behind; it was ended."""


class Subscription(Protocol):
    """One subscriber's events, read with `async for`; the iteration ends when the topic is
    completed or the broker closes. `close()` unsubscribes (idempotent)."""

    def __aiter__(self) -> "Subscription": ...

    async def __anext__(self) -> Change: ...

    def close(self) -> None: ...


class Broker(Protocol):
    def publish_after(self, conn: WriteConn, topic: str, event: Change) -> None:
        """Publish the event to the topic once conn's transaction commits (never if it rolls
        back); never waits."""

    def complete_after(self, conn: WriteConn, topic: str) -> None:
        """End the topic's subscriptions once conn's transaction commits."""

    def subscribe(self, topic: str) -> Subscription:
        """A subscription that receives the topic's events published from now on."""

    def subscriber_count(self, topic: str) -> int:
        """How many subscriptions the topic has in this process now."""

    async def start(self) -> None:
        """Begin delivering events (the database is connected)."""

    async def close(self) -> None:
        """End every subscription (server shutdown); later subscriptions end at once."""


class MemorySubscription:
    def __init__(self, broker: "MemoryBroker", topic: str, limit: int) -> None:
        self._broker = broker
        self.topic = topic
        self._limit = limit
        self._queue: asyncio.Queue[Change | None] = asyncio.Queue()
        self._failure: SubscriptionOverflowError | None = None

    def __aiter__(self) -> "MemorySubscription":
        return self

    async def __anext__(self) -> Change:
        if self._failure is None:
            event = await self._queue.get()
            if event is not None and self._failure is None:
                return event
        if self._failure is not None:
            raise self._failure
        self._queue.put_nowait(None)  # stay ended for any later read
        raise StopAsyncIteration

    def close(self) -> None:
        self._broker.forget(self)

    def offer(self, event: Change) -> bool:
        """Queue the event; False (and the subscription fails) when the queue is full."""
        if self._queue.qsize() >= self._limit:
            self._failure = SubscriptionOverflowError(
                f"this subscription fell more than {self._limit} events behind and was ended; "
                "subscribe again and re-read the current state"
            )
            self.end()
            return False
        self._queue.put_nowait(event)
        return True

    def end(self) -> None:
        """No more events: the reader gets those queued, then the iteration ends."""
        self._queue.put_nowait(None)


class MemoryBroker:
    """The in-process broker: one process's subscribers, one bounded queue each."""

    def __init__(self, *, queue_size: int) -> None:
        self._queue_size = queue_size
        self._topics: dict[str, dict[MemorySubscription, None]] = {}
        self._closed = False

    def publish_after(self, conn: WriteConn, topic: str, event: Change) -> None:
        conn.after_commit(lambda: self.publish(topic, event))

    def complete_after(self, conn: WriteConn, topic: str) -> None:
        conn.after_commit(lambda: self.complete(topic))

    def publish(self, topic: str, event: Change) -> None:
        """Hand the event to every subscription of the topic now."""
        subscribers = self._topics.get(topic)
        if not subscribers:
            return
        for subscription in tuple(subscribers):
            if not subscription.offer(event):
                self.forget(subscription)

    def complete(self, topic: str) -> None:
        """End every subscription of the topic after the events already queued for it."""
        for subscription in self._topics.pop(topic, {}):
            subscription.end()

    def complete_all(self) -> None:
        for topic in list(self._topics):
            self.complete(topic)

    def subscribe(self, topic: str) -> MemorySubscription:
        subscription = MemorySubscription(self, topic, self._queue_size)
        if self._closed:
            subscription.end()
        else:
            self._topics.setdefault(topic, {})[subscription] = None
        return subscription

    def subscriber_count(self, topic: str) -> int:
        """How many subscriptions the topic has now."""
        return len(self._topics.get(topic, ()))

    def forget(self, subscription: MemorySubscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is not None:
            subscribers.pop(subscription, None)
            if not subscribers:
                del self._topics[subscription.topic]

    async def start(self) -> None:
        """Nothing to start: events are handed over in this process."""

    async def close(self) -> None:
        self._closed = True
        self.complete_all()
