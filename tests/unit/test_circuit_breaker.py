"""The circuit breaker's pure rules: every transition of reference D.1 and every case of E.8,
table-driven. Times are offsets in seconds from T0."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from db.codec import MAX_INT32, MAX_INT64
from db.errors import ValidationError
from resolvers.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerConfig,
    BreakerState,
    CallOutcome,
    effective,
    is_available,
    record_call,
)
from resolvers.provider_health import breaker_config
from tests.conftest import make_settings

T0 = datetime(2026, 2, 12, 22, 4, 12, 123456, tzinfo=UTC)
CONFIG = BreakerConfig()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail(error: str = "provider error: timeout", **fields: Any) -> CallOutcome:
    return CallOutcome(success=False, error=error, **fields)


def ok(**fields: Any) -> CallOutcome:
    return CallOutcome(success=True, **fields)


UP = BreakerState(uptime_since=at(-100))
CLOSED_2 = replace(UP, consecutive_failures=2, total_calls=5, total_failures=2, last_error="e2")
OPENED = BreakerState(
    circuit_state=OPEN,
    consecutive_failures=3,
    last_error="e3",
    total_calls=3,
    total_failures=3,
    opened_at=T0,
)
HALF = replace(OPENED, circuit_state=HALF_OPEN)
LIMITED = replace(UP, rate_limited_until=at(5))


# (start state, outcome, offset of the call, the fields that change)
TRANSITIONS = [
    pytest.param(
        UP,
        fail(),
        0,
        {
            "consecutive_failures": 1,
            "total_calls": 1,
            "total_failures": 1,
            "last_error": "provider error: timeout",
        },
        id="closed-0-failure-counts",
    ),
    pytest.param(
        CLOSED_2,
        fail("e"),
        0,
        {
            "circuit_state": OPEN,
            "consecutive_failures": 3,
            "total_calls": 6,
            "total_failures": 3,
            "last_error": "e",
            "opened_at": T0,
            "uptime_since": None,
        },
        id="closed-2-third-failure-opens",
    ),
    pytest.param(
        CLOSED_2,
        ok(),
        0,
        {"consecutive_failures": 0, "total_calls": 6, "last_error": None},
        id="closed-success-resets-count-keeps-uptime-clears-error",
    ),
    pytest.param(
        BreakerState(),
        ok(),
        0,
        {"total_calls": 1, "uptime_since": T0},
        id="closed-without-uptime-success-starts-uptime",
    ),
    pytest.param(
        BreakerState(),
        fail("x"),
        0,
        {
            "consecutive_failures": 1,
            "total_calls": 1,
            "total_failures": 1,
            "last_error": "x",
            "uptime_since": T0,
        },
        id="closed-without-uptime-failure-starts-uptime",
    ),
    pytest.param(
        OPENED,
        fail("e4"),
        10,
        {"consecutive_failures": 4, "total_calls": 4, "total_failures": 4, "last_error": "e4"},
        id="open-failure-before-cooldown-keeps-opened-at",
    ),
    pytest.param(
        OPENED,
        fail("e4"),
        29.999999,
        {"consecutive_failures": 4, "total_calls": 4, "total_failures": 4, "last_error": "e4"},
        id="open-failure-just-before-cooldown-stays-open",
    ),
    pytest.param(
        OPENED,
        ok(),
        10,
        {
            "circuit_state": CLOSED,
            "consecutive_failures": 0,
            "total_calls": 4,
            "last_error": None,
            "opened_at": None,
            "uptime_since": at(10),
        },
        id="open-success-before-cooldown-closes",
    ),
    pytest.param(
        OPENED,
        ok(),
        30,
        {
            "circuit_state": CLOSED,
            "consecutive_failures": 0,
            "total_calls": 4,
            "last_error": None,
            "opened_at": None,
            "uptime_since": at(30),
        },
        id="open-past-cooldown-success-closes",
    ),
    pytest.param(
        OPENED,
        fail("e4"),
        30,
        {
            "consecutive_failures": 4,
            "total_calls": 4,
            "total_failures": 4,
            "last_error": "e4",
            "opened_at": at(30),
        },
        id="open-past-cooldown-failure-reopens-now",
    ),
    pytest.param(
        HALF,
        ok(),
        1,
        {
            "circuit_state": CLOSED,
            "consecutive_failures": 0,
            "total_calls": 4,
            "last_error": None,
            "opened_at": None,
            "uptime_since": at(1),
        },
        id="half-open-success-closes-and-restarts-uptime",
    ),
    pytest.param(
        HALF,
        fail("e4"),
        1,
        {
            "circuit_state": OPEN,
            "consecutive_failures": 4,
            "total_calls": 4,
            "total_failures": 4,
            "last_error": "e4",
            "opened_at": at(1),
        },
        id="half-open-failure-reopens",
    ),
    pytest.param(
        replace(UP, last_latency_ms=100),
        ok(latency_ms=250),
        0,
        {"total_calls": 1, "last_latency_ms": 250},
        id="success-keeps-latency",
    ),
    pytest.param(
        replace(UP, last_latency_ms=100),
        fail("e", latency_ms=900),
        0,
        {
            "consecutive_failures": 1,
            "total_calls": 1,
            "total_failures": 1,
            "last_error": "e",
            "last_latency_ms": 900,
        },
        id="failure-keeps-latency",
    ),
    pytest.param(
        replace(UP, last_latency_ms=100),
        ok(),
        0,
        {"total_calls": 1},
        id="call-without-latency-keeps-last-latency",
    ),
    pytest.param(
        UP,
        ok(retry_after_ms=5000),
        0,
        {"total_calls": 1, "rate_limited_until": at(5)},
        id="retry-after-under-max-sets-limit",
    ),
    pytest.param(
        UP,
        fail("rate limited (retry after Some(60000)ms)", retry_after_ms=60000),
        0,
        {
            "consecutive_failures": 1,
            "total_calls": 1,
            "total_failures": 1,
            "last_error": "rate limited (retry after Some(60000)ms)",
            "rate_limited_until": at(5),
        },
        id="retry-after-over-max-is-capped",
    ),
    pytest.param(
        UP,
        ok(retry_after_ms=MAX_INT64),
        0,
        {"total_calls": 1, "rate_limited_until": at(5)},
        id="retry-after-max-long-is-capped",
    ),
    pytest.param(
        UP,
        fail("rate limited (retry after None)", rate_limited=True),
        0,
        {
            "consecutive_failures": 1,
            "total_calls": 1,
            "total_failures": 1,
            "last_error": "rate limited (retry after None)",
            "rate_limited_until": at(5),
        },
        id="rate-limited-without-retry-after-waits-max",
    ),
    pytest.param(
        UP, ok(retry_after_ms=0), 0, {"total_calls": 1}, id="retry-after-zero-sets-no-limit"
    ),
    pytest.param(
        LIMITED,
        ok(),
        1,
        {"total_calls": 1},
        id="call-during-rate-limit-keeps-it",
    ),
    pytest.param(
        LIMITED,
        ok(),
        5,
        {"total_calls": 1, "rate_limited_until": None},
        id="call-after-rate-limit-clears-it",
    ),
    pytest.param(
        LIMITED,
        ok(retry_after_ms=1000),
        1,
        {"total_calls": 1, "rate_limited_until": at(2)},
        id="new-retry-after-replaces-limit",
    ),
    pytest.param(
        OPENED,
        fail("e4", retry_after_ms=2000),
        10,
        {
            "consecutive_failures": 4,
            "total_calls": 4,
            "total_failures": 4,
            "last_error": "e4",
            "rate_limited_until": at(12),
        },
        id="rate-limit-leaves-open-circuit-open",
    ),
]


@pytest.mark.parametrize(("start", "outcome", "offset", "changes"), TRANSITIONS)
def test_record_call_applies_transition(
    start: BreakerState, outcome: CallOutcome, offset: float, changes: dict[str, Any]
) -> None:
    after = record_call(start, outcome, now=at(offset), config=CONFIG)
    assert after == replace(start, **changes)


# (stored state, offset of the read, config, effective circuit state, rate limit read, available)
READS = [
    pytest.param(UP, 0, CONFIG, CLOSED, None, True, id="closed-is-available"),
    pytest.param(HALF, 0, CONFIG, HALF_OPEN, None, True, id="half-open-is-available"),
    pytest.param(OPENED, 0, CONFIG, OPEN, None, False, id="open-is-unavailable"),
    pytest.param(OPENED, 29.999999, CONFIG, OPEN, None, False, id="open-before-cooldown"),
    pytest.param(OPENED, 30, CONFIG, HALF_OPEN, None, True, id="open-at-cooldown-is-half-open"),
    pytest.param(
        OPENED,
        0,
        BreakerConfig(cooldown_seconds=0),
        HALF_OPEN,
        None,
        True,
        id="open-with-zero-cooldown-is-half-open",
    ),
    pytest.param(LIMITED, 0, CONFIG, CLOSED, at(5), False, id="rate-limited-is-unavailable"),
    pytest.param(LIMITED, 4.999999, CONFIG, CLOSED, at(5), False, id="rate-limit-last-moment"),
    pytest.param(LIMITED, 5, CONFIG, CLOSED, None, True, id="rate-limit-passed-reads-as-none"),
    pytest.param(
        replace(OPENED, rate_limited_until=at(40)),
        31,
        CONFIG,
        HALF_OPEN,
        at(40),
        False,
        id="half-open-but-rate-limited-is-unavailable",
    ),
]


@pytest.mark.parametrize(
    ("stored", "offset", "config", "circuit_state", "limited_until", "available"), READS
)
def test_read_computes_effective_state(
    stored: BreakerState,
    offset: float,
    config: BreakerConfig,
    circuit_state: str,
    limited_until: datetime | None,
    available: bool,
) -> None:
    now = at(offset)
    assert effective(stored, now=now, config=config) == replace(
        stored, circuit_state=circuit_state, rate_limited_until=limited_until
    )
    assert is_available(stored, now=now, config=config) is available


def run(calls: list[tuple[float, CallOutcome]], config: BreakerConfig) -> BreakerState:
    state = BreakerState()
    for offset, outcome in calls:
        state = record_call(state, outcome, now=at(offset), config=config)
    return state


ZERO_COOLDOWN = BreakerConfig(cooldown_seconds=0)
THREE_FAILURES = [(0, fail("down")), (0, fail("down")), (0, fail("500"))]

# E.8 of the reference, by number: (calls, config, read offset, expected fields, available)
REFERENCE_CASES = [
    pytest.param([], CONFIG, 0, {"circuit_state": CLOSED, "total_calls": 0}, True, id="e8-2"),
    pytest.param(THREE_FAILURES[:2], CONFIG, 0, {"circuit_state": CLOSED}, True, id="e8-3-two"),
    pytest.param(THREE_FAILURES, CONFIG, 0, {"circuit_state": OPEN}, False, id="e8-3-three"),
    pytest.param(
        [*THREE_FAILURES[:2], (0, ok())],
        CONFIG,
        0,
        {"circuit_state": CLOSED, "consecutive_failures": 0},
        True,
        id="e8-4",
    ),
    pytest.param(
        [(0, ok(retry_after_ms=5000))],
        BreakerConfig(max_rate_limit_wait_ms=10000),
        0,
        {"rate_limited_until": at(5)},
        False,
        id="e8-5",
    ),
    # E.8 6: the caller decides which errors are failover errors and records only those; the
    # server does not classify, so every recorded failure counts alike.
    pytest.param(
        [(0, fail("authentication failed")), (0, fail("invalid request: x")), (0, fail("z"))],
        CONFIG,
        0,
        {"circuit_state": OPEN, "total_failures": 3},
        False,
        id="e8-6",
    ),
    pytest.param(
        [(0, ok())],
        CONFIG,
        0,
        {"circuit_state": CLOSED, "total_calls": 1, "uptime_since": T0},
        True,
        id="e8-7",
    ),
    pytest.param(THREE_FAILURES, ZERO_COOLDOWN, 0, {"circuit_state": HALF_OPEN}, True, id="e8-8"),
    pytest.param(
        [*THREE_FAILURES, (1, ok())],
        ZERO_COOLDOWN,
        1,
        {"circuit_state": CLOSED, "consecutive_failures": 0, "uptime_since": at(1)},
        True,
        id="e8-9",
    ),
    pytest.param(
        [*THREE_FAILURES, (1, fail("down"))],
        BreakerConfig(cooldown_seconds=1),
        1,
        {"circuit_state": OPEN, "uptime_since": None, "opened_at": at(1)},
        False,
        id="e8-10",
    ),
    pytest.param(
        [(0, ok(retry_after_ms=0))],
        CONFIG,
        0,
        {"rate_limited_until": None},
        True,
        id="e8-11",
    ),
    pytest.param(
        [(0, ok(retry_after_ms=10000))],
        BreakerConfig(max_rate_limit_wait_ms=2000),
        0,
        {"rate_limited_until": at(2)},
        False,
        id="e8-12",
    ),
    pytest.param(
        [(0, fail("rate limited (retry after None)", rate_limited=True))],
        CONFIG,
        0,
        {"rate_limited_until": at(5)},
        False,
        id="e8-13",
    ),
    pytest.param(
        [(0, fail("stream error: broken pipe"))],
        CONFIG,
        0,
        {"total_calls": 1, "total_failures": 1, "last_error": "stream error: broken pipe"},
        True,
        id="e8-14",
    ),
    pytest.param(
        [(0, ok())],
        CONFIG,
        0,
        {"total_calls": 1, "total_failures": 0, "last_error": None},
        True,
        id="e8-15",
    ),
    pytest.param(
        THREE_FAILURES,
        CONFIG,
        0,
        {"circuit_state": OPEN, "last_error": "500", "total_failures": 3, "uptime_since": None},
        False,
        id="e8-16",
    ),
    pytest.param(THREE_FAILURES, ZERO_COOLDOWN, 0, {"circuit_state": HALF_OPEN}, True, id="e8-17"),
]


@pytest.mark.parametrize(("calls", "config", "read_at", "expected", "available"), REFERENCE_CASES)
def test_reference_case_gives_reference_state(
    calls: list[tuple[float, CallOutcome]],
    config: BreakerConfig,
    read_at: float,
    expected: dict[str, Any],
    available: bool,
) -> None:
    seen = effective(run(calls, config), now=at(read_at), config=config)
    assert {field: getattr(seen, field) for field in expected} == expected
    assert is_available(seen, now=at(read_at), config=config) is available


def test_defaults_are_the_references() -> None:  # E.8 1 (success_threshold was dead config)
    assert (CONFIG.failure_threshold, CONFIG.cooldown_seconds, CONFIG.max_rate_limit_wait_ms) == (
        3,
        30,
        5000,
    )
    assert BreakerState() == BreakerState(
        circuit_state=CLOSED,
        consecutive_failures=0,
        last_error=None,
        last_latency_ms=None,
        total_calls=0,
        total_failures=0,
        uptime_since=None,
        opened_at=None,
        rate_limited_until=None,
    )


def test_settings_defaults_are_the_breaker_defaults(tmp_path: Path) -> None:
    assert breaker_config(make_settings(tmp_path)) == CONFIG


def test_failure_threshold_setting_applies() -> None:
    state = run([(0, fail("down"))], BreakerConfig(failure_threshold=1))
    assert (state.circuit_state, state.opened_at) == (OPEN, T0)


@pytest.mark.parametrize(
    ("start", "outcome", "message"),
    [
        (replace(UP, total_calls=MAX_INT64), ok(), "totalCalls would pass its maximum"),
        (
            replace(UP, total_calls=1, total_failures=MAX_INT64),
            fail(),
            "totalFailures would pass its maximum",
        ),
        (
            replace(OPENED, consecutive_failures=MAX_INT32),
            fail(),
            "consecutiveFailures would pass its maximum",
        ),
    ],
)
def test_record_call_past_counter_maximum_is_refused(
    start: BreakerState, outcome: CallOutcome, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        record_call(start, outcome, now=T0, config=CONFIG)
