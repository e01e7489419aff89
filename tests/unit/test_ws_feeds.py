"""Feeds (app/ws_feeds.py): one run and one encoding per distinct selection, each subscriber
with its own bounded queue, a subscriber that never reads ended alone."""

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from strawberry.types.execution import ExecutionResult

from app.ws_feeds import WAKE_CHUNK, Feeds, Outbox, Results, selection_key


class Source:
    """A subscription whose results the test pushes; counts how often it was started."""

    def __init__(self) -> None:
        self.started = 0
        self.queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def start(self) -> Results:
        self.started += 1
        return self._results()

    async def _results(self) -> AsyncGenerator[Any, None]:
        while (value := await self.queue.get()) is not None:
            yield ExecutionResult(data={"n": value}, errors=None)


class Client:
    """A socket's subscriber: what it was sent, decoded; `blocked` stalls its socket."""

    def __init__(self, feeds: Feeds, source: Source, outbox: Outbox | None = None) -> None:
        self.received: list[Any] = []
        self.blocked = asyncio.Event()
        self.blocked.set()
        self.outbox = outbox or Outbox()
        self.member = feeds.join("same", source.start, self.outbox, self.send)

    async def send(self, item: Any) -> None:
        await self.blocked.wait()
        kind, value = item
        self.received.append((kind, None if value is None else orjson.loads(orjson.dumps(value))))

    async def wait(self, count: int) -> list[Any]:
        async with asyncio.timeout(5):
            while len(self.received) < count:  # noqa: ASYNC110 (polls what the outbox sent)
                await asyncio.sleep(0)
        return self.received


async def close_outboxes(*clients: Client) -> None:
    """As a socket does when it closes: its writer task ends."""
    for client in clients:
        await client.outbox.close()


def test_selection_key_ignores_variable_order_only() -> None:
    assert selection_key("q", None, {"a": 1, "b": 2}) == selection_key("q", None, {"b": 2, "a": 1})
    assert selection_key("q", None, None) == selection_key("q", None, {})
    assert selection_key("q", None, {"a": 1}) != selection_key("q", None, {"a": 2})
    assert selection_key("q", "A", {}) != selection_key("q", None, {})
    assert selection_key("q", None, {"a": 2**70}) != selection_key("q", None, {"a": 2**71})


async def test_subscribers_of_one_selection_share_one_run() -> None:
    feeds, source, other = Feeds(queue_size=10), Source(), Source()
    shared = Outbox()  # some subscribers share a socket
    clients = [Client(feeds, source, shared if n % 2 else None) for n in range(WAKE_CHUNK * 3)]
    alone = feeds.join("other", other.start, Outbox(), clients[0].send)
    await asyncio.sleep(0)
    await source.queue.put(1)
    await source.queue.put(None)
    received = [await client.wait(2) for client in clients]
    assert source.started == 1
    assert other.started == 1
    assert feeds.members == 1  # the finished feed's subscribers were let go
    assert received == [[("next", {"data": {"n": 1}}), ("complete", None)]] * len(clients)
    alone.leave()
    await close_outboxes(*clients)


async def test_a_subscriber_whose_socket_is_stalled_is_ended_alone() -> None:
    feeds, source = Feeds(queue_size=3), Source()
    reader, stalled = Client(feeds, source), Client(feeds, source)
    stalled.blocked.clear()
    await asyncio.sleep(0)
    for value in range(5):  # the reader takes each event before the next is published
        await source.queue.put(value)
        await reader.wait(value + 1)
    assert reader.received == [("next", {"data": {"n": value}}) for value in range(5)]
    assert feeds.members == 1
    stalled.blocked.set()
    overflow = await stalled.wait(6)
    # event 0 was being written when the socket stalled; 1 to 3 waited; 4 was one too many
    assert overflow[:4] == [("next", {"data": {"n": value}}) for value in range(4)]
    assert overflow[4][1]["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert overflow[4][1]["errors"][0]["message"].startswith(
        "this subscription fell more than 3 events behind"
    )
    assert overflow[5] == ("complete", None)
    assert stalled.member.finished.done()
    reader.member.leave()
    await close_outboxes(reader, stalled)


async def test_a_subscriber_that_leaves_gets_nothing_more() -> None:
    feeds, source = Feeds(queue_size=10), Source()
    staying, leaving = Client(feeds, source), Client(feeds, source)
    leaving.blocked.clear()
    await asyncio.sleep(0)
    await source.queue.put(1)
    await staying.wait(1)
    await source.queue.put(2)
    await staying.wait(2)
    leaving.member.leave()  # the client completed it: event 1 is being written, 2 waits
    leaving.blocked.set()
    await source.queue.put(3)
    await staying.wait(3)
    assert leaving.received == [("next", {"data": {"n": 1}})]
    staying.member.leave()
    await close_outboxes(staying, leaving)


async def test_the_last_subscriber_to_leave_ends_the_run() -> None:
    feeds, source = Feeds(queue_size=2), Source()
    first, second = Client(feeds, source), Client(feeds, source)
    await asyncio.sleep(0)
    first.member.leave()
    assert feeds.members == 1
    second.member.leave()
    assert feeds.members == 0
    again = Client(feeds, source)  # a new run
    await asyncio.sleep(0)
    assert source.started == 2
    again.member.leave()
    await close_outboxes(first, second, again)
