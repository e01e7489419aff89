"""Feeds (app/ws_feeds.py): one run and one encoding per distinct selection, each subscriber
with its own bounded queue, a subscriber that never reads ended alone."""

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from strawberry.types.execution import ExecutionResult

from app.ws_feeds import WAKE_CHUNK, Feeds, Member, Results, selection_key


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


async def items(member: Member, count: int) -> list[Any]:
    received = []
    async with asyncio.timeout(5):
        for _ in range(count):
            kind, value = await member.get()
            received.append((kind, None if value is None else orjson.loads(orjson.dumps(value))))
    return received


def test_selection_key_ignores_variable_order_only() -> None:
    assert selection_key("q", None, {"a": 1, "b": 2}) == selection_key("q", None, {"b": 2, "a": 1})
    assert selection_key("q", None, None) == selection_key("q", None, {})
    assert selection_key("q", None, {"a": 1}) != selection_key("q", None, {"a": 2})
    assert selection_key("q", "A", {}) != selection_key("q", None, {})
    assert selection_key("q", None, {"a": 2**70}) != selection_key("q", None, {"a": 2**71})


async def test_subscribers_of_one_selection_share_one_run() -> None:
    feeds, source, other = Feeds(queue_size=10), Source(), Source()
    members = [feeds.join("same", source.start) for _ in range(WAKE_CHUNK * 2 + 1)]
    alone = feeds.join("other", other.start)
    await asyncio.sleep(0)
    await source.queue.put(1)
    await source.queue.put(None)
    received = [await items(member, 2) for member in members]
    assert source.started == 1
    assert other.started == 1
    assert feeds.members == 1  # the finished feed's subscribers were let go
    assert received == [[("next", {"data": {"n": 1}}), ("complete", None)]] * len(members)
    alone.leave()


async def test_a_subscriber_that_never_reads_is_ended_alone() -> None:
    feeds, source = Feeds(queue_size=3), Source()
    reader, idle = feeds.join("same", source.start), feeds.join("same", source.start)
    await asyncio.sleep(0)
    read = []
    for value in range(5):  # the reader takes each event before the next is published
        await source.queue.put(value)
        read += await items(reader, 1)
    assert read == [("next", {"data": {"n": value}}) for value in range(5)]
    assert feeds.members == 1
    overflow = await items(idle, 5)
    assert overflow[:3] == [("next", {"data": {"n": value}}) for value in range(3)]
    assert overflow[3][1]["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert overflow[3][1]["errors"][0]["message"].startswith(
        "this subscription fell more than 3 events behind"
    )
    assert overflow[4] == ("complete", None)
    reader.leave()


async def test_the_last_subscriber_to_leave_ends_the_run() -> None:
    feeds, source = Feeds(queue_size=2), Source()
    first, second = feeds.join("same", source.start), feeds.join("same", source.start)
    await asyncio.sleep(0)
    first.leave()
    assert feeds.members == 1
    second.leave()
    assert feeds.members == 0
    again = feeds.join("same", source.start)  # a new run
    await asyncio.sleep(0)
    assert source.started == 2
    again.leave()
