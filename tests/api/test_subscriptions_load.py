"""A slow consumer never slows writers or other subscribers: one subscription that never reads
while 10,000 KV events flow through the real mutation path (setKvMany through the ASGI app),
with two subscriptions that read everything. The writer's time is compared with a run without
subscribers (alternating runs, best of each, after a warm-up run)."""

import asyncio
import time

import pytest
from starlette.applications import Starlette

from db.broker import MemoryBroker, SubscriptionOverflowError
from tests.conftest import GraphQL

EVENTS = 10_000
BATCH = 100  # setKvMany entries per mutation
ROUNDS = 2
SET_MANY = "mutation($b: ID!, $e: [KvSetInput!]!) { setKvMany(botId: $b, entries: $e) { key } }"


async def write_events(gql: GraphQL, bot_id: str, round_number: int) -> float:
    """Seconds to write EVENTS keys, BATCH per mutation."""
    started = time.perf_counter()
    for batch in range(EVENTS // BATCH):
        entries = [{"key": f"k{batch:03}-{n:03}", "value": round_number} for n in range(BATCH)]
        await gql(SET_MANY, {"b": bot_id, "e": entries})
    return time.perf_counter() - started


async def read_events(broker: MemoryBroker, topic: str) -> list[str]:
    keys = []
    async for change in broker.subscribe(topic):
        keys.append(change.key)
        if len(keys) == EVENTS:
            break
    return keys


async def loaded_round(
    gql: GraphQL, broker: MemoryBroker, bot_id: str, round_number: int
) -> tuple[float, list[list[str]]]:
    topic = f"kv/{bot_id}"
    slow = broker.subscribe(topic)  # never read until the writer is done
    readers = [asyncio.create_task(read_events(broker, topic)) for _ in range(2)]
    await asyncio.sleep(0)  # the readers subscribe
    assert broker.subscriber_count(topic) == 3
    seconds = await write_events(gql, bot_id, round_number)
    async with asyncio.timeout(10):
        received = await asyncio.gather(*readers)
    with pytest.raises(SubscriptionOverflowError):
        await anext(slow)
    return seconds, list(received)


async def test_never_reading_subscription_slows_neither_the_writer_nor_other_subscribers(
    app: Starlette, gql: GraphQL
) -> None:
    data = await gql('mutation { createBot(input: {name: "load"}) { id } }')
    bot_id: str = data["createBot"]["id"]
    expected = [f"k{batch:03}-{n:03}" for batch in range(EVENTS // BATCH) for n in range(BATCH)]
    await write_events(gql, bot_id, 0)  # warm-up
    alone: list[float] = []
    loaded: list[float] = []
    for round_number in range(1, ROUNDS + 1):
        alone.append(await write_events(gql, bot_id, round_number))
        seconds, received = await loaded_round(gql, app.state.broker, bot_id, round_number)
        loaded.append(seconds)
        assert received == [expected, expected]
    rate_alone, rate_loaded = EVENTS / min(alone), EVENTS / min(loaded)
    print(
        f"\nwriter: {rate_alone:,.0f} events/s without subscribers, {rate_loaded:,.0f} events/s"
        " with one never-reading and two reading subscribers"
    )
    assert rate_loaded >= 0.8 * rate_alone
