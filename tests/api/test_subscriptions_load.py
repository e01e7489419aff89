"""A slow consumer never blocks writers or other subscribers: one subscription that never reads
while 10,000 KV events flow through the real mutation path (setKvMany through the ASGI app),
with two subscriptions that read everything. The writer finishes (bounded) while the slow one
has read nothing, both readers get every event in order, and the slow one is ended with
SubscriptionOverflowError. How fast the writer is with and without subscribers is measured by
the benchmark (bench/ws_fanout.py), not here: a wall-clock ratio in a test fails on a busy
machine."""

import asyncio

import pytest
from starlette.applications import Starlette

from db.broker import MemoryBroker, SubscriptionOverflowError
from tests.conftest import GraphQL

EVENTS = 10_000
BATCH = 100  # setKvMany entries per mutation
TAG = "loaded"
WRITER_BOUND_S = 120  # far above the time it takes; a writer blocked by the slow one never ends
SET_MANY = "mutation($b: ID!, $e: [KvSetInput!]!) { setKvMany(botId: $b, entries: $e) { key } }"


async def write_events(gql: GraphQL, bot_id: str, tag: str) -> None:
    """Write EVENTS keys named after `tag`, BATCH per mutation."""
    for batch in range(EVENTS // BATCH):
        entries = [{"key": f"{tag}-k{batch:03}-{n:03}", "value": tag} for n in range(BATCH)]
        await gql(SET_MANY, {"b": bot_id, "e": entries})


async def read_events(broker: MemoryBroker, topic: str, tag: str) -> list[str]:
    """The keys written under `tag`. With PostgreSQL's broker the last events of an earlier run
    may still be on their way (NOTIFY is delivered after commit, asynchronously): skip them."""
    keys = []
    async for change in broker.subscribe(topic):
        if not change.key.startswith(f"{tag}-"):
            continue
        keys.append(change.key)
        if len(keys) == EVENTS:
            break
    return keys


async def test_never_reading_subscription_blocks_neither_the_writer_nor_other_subscribers(
    app: Starlette, gql: GraphQL
) -> None:
    data = await gql('mutation { createBot(input: {name: "load"}) { id } }')
    bot_id: str = data["createBot"]["id"]
    await write_events(gql, bot_id, "warm-up")
    broker = app.state.broker
    topic = f"kv/{bot_id}"
    slow = broker.subscribe(topic)  # never read until the writer is done
    readers = [asyncio.create_task(read_events(broker, topic, TAG)) for _ in range(2)]
    await asyncio.sleep(0)  # the readers subscribe
    assert broker.subscriber_count(topic) == 3
    async with asyncio.timeout(WRITER_BOUND_S):
        await write_events(gql, bot_id, TAG)
    async with asyncio.timeout(10):
        received = await asyncio.gather(*readers)
    expected = [
        f"{TAG}-k{batch:03}-{n:03}" for batch in range(EVENTS // BATCH) for n in range(BATCH)
    ]
    assert received == [expected, expected]
    with pytest.raises(SubscriptionOverflowError):
        await anext(slow)
