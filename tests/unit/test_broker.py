"""The in-process broker: topics, order, completion, the overflow policy and shutdown."""

from pathlib import Path

import pytest

from db.backend import open_broker
from db.broker import Change, MemoryBroker, Subscription, SubscriptionOverflowError
from db.connection import Database
from db.errors import SettingsError
from tests.conftest import make_settings


def change(key: str) -> Change:
    return Change(key, {"value": key})


async def read(subscription: Subscription, count: int) -> list[str]:
    keys = []
    async for event in subscription:
        keys.append(event.key)
        if len(keys) == count:
            break
    return keys


async def read_all(subscription: Subscription) -> list[str]:
    return [event.key async for event in subscription]


async def test_publish_reaches_every_subscription_of_the_topic_in_order() -> None:
    broker = MemoryBroker(queue_size=10)
    first, second = broker.subscribe("t"), broker.subscribe("t")
    for key in ("a", "b", "c"):
        broker.publish("t", change(key))
    assert await read(first, 3) == ["a", "b", "c"]
    assert await read(second, 3) == ["a", "b", "c"]


async def test_publish_to_another_topic_is_not_received() -> None:
    broker = MemoryBroker(queue_size=10)
    subscription = broker.subscribe("t")
    broker.publish("other", change("x"))
    broker.publish("t", change("a"))
    assert await read(subscription, 1) == ["a"]


async def test_subscription_receives_only_events_published_after_it_subscribed() -> None:
    broker = MemoryBroker(queue_size=10)
    broker.publish("t", change("before"))
    subscription = broker.subscribe("t")
    broker.publish("t", change("after"))
    broker.complete("t")
    assert await read_all(subscription) == ["after"]


async def test_complete_ends_subscriptions_after_the_events_already_published() -> None:
    broker = MemoryBroker(queue_size=10)
    subscription = broker.subscribe("t")
    broker.publish("t", change("a"))
    broker.complete("t")
    broker.publish("t", change("late"))
    assert await read_all(subscription) == ["a"]
    assert await read_all(subscription) == []
    assert broker.subscriber_count("t") == 0


async def test_overflow_fails_only_the_full_subscription_at_its_next_read() -> None:
    broker = MemoryBroker(queue_size=2)
    slow, fast = broker.subscribe("t"), broker.subscribe("t")
    received = []
    for key in ("a", "b", "c", "d"):
        broker.publish("t", change(key))
        received += await read(fast, 1)
    assert received == ["a", "b", "c", "d"]
    with pytest.raises(SubscriptionOverflowError, match="more than 2 events behind") as raised:
        await read(slow, 1)
    assert raised.value.code == "PAYLOAD_TOO_LARGE"
    with pytest.raises(SubscriptionOverflowError):
        await read(slow, 1)
    assert broker.subscriber_count("t") == 1


async def test_queue_of_exactly_its_size_does_not_overflow() -> None:
    broker = MemoryBroker(queue_size=2)
    subscription = broker.subscribe("t")
    broker.publish("t", change("a"))
    broker.publish("t", change("b"))
    broker.complete("t")
    assert await read_all(subscription) == ["a", "b"]


async def test_close_unsubscribes_and_forgets_the_empty_topic() -> None:
    broker = MemoryBroker(queue_size=10)
    subscription = broker.subscribe("t")
    assert broker.subscriber_count("t") == 1
    subscription.close()
    subscription.close()
    assert broker.subscriber_count("t") == 0
    broker.publish("t", change("a"))


async def test_broker_close_ends_every_subscription_and_later_ones_at_once() -> None:
    broker = MemoryBroker(queue_size=10)
    first, second = broker.subscribe("t"), broker.subscribe("u")
    broker.publish("t", change("a"))
    await broker.close()
    assert await read_all(first) == ["a"]
    assert await read_all(second) == []
    assert await read_all(broker.subscribe("t")) == []


def test_open_broker_memory_is_the_default_with_sqlite(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert isinstance(open_broker(settings, Database(settings.database_url)), MemoryBroker)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"broker": "redis"}, "BOTERNITY_BROKER must be auto, memory or postgres, not 'redis'"),
        (
            {"broker": "postgres"},
            "BOTERNITY_BROKER=postgres needs a postgresql:// database URL (--database-url)",
        ),
        ({"subscription_queue": "0"}, "BOTERNITY_SUBSCRIPTION_QUEUE must be at least 1, not 0"),
    ],
)
def test_open_broker_with_bad_setting_is_refused(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        make_settings(tmp_path, **environ)
    assert str(raised.value) == message
