"""The circuit breaker's rules (reference domain.md D.1, with the gaps of F.7 fixed): pure
functions, no I/O and no clock of their own.

`record_call(state, outcome, now=, config=)` is one call's outcome applied to the stored state;
`effective(state, now=, config=)` and `is_available(...)` are how the stored state reads at a
moment (an OPEN circuit past its cool-down reads as HALF_OPEN, a passed rate limit reads as none)
without changing it. The server stores what record_call returns, so every process and every
restart agrees on a provider's state.

Decisions beyond the reference:
- consecutive_failures counts the failures since the last success, in every state (a failure
  while OPEN or HALF_OPEN adds one too).
- A success clears last_error (the reference never did: F.7), so last_error is set exactly when
  the latest recorded call failed.
- A call recorded while OPEN, before the cool-down, still counts: a success closes the circuit
  (the provider answered), a failure keeps it OPEN with opened_at unchanged (stragglers do not
  extend the cool-down).
- A call that leaves the circuit CLOSED gives a null uptime_since the value now (a provider
  created by its first call starts its uptime then); uptime_since is null while OPEN/HALF_OPEN.
- A call without latency keeps the previous last_latency_ms.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from db.codec import MAX_INT32, MAX_INT64
from db.errors import ValidationError

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """The thresholds (settings); the defaults are the reference's."""

    failure_threshold: int = 3
    cooldown_seconds: int = 30
    max_rate_limit_wait_ms: int = 5000


@dataclass(frozen=True, slots=True)
class BreakerState:
    """One provider's stored breaker state; the defaults are those of ProviderHealthInput."""

    circuit_state: str = CLOSED
    consecutive_failures: int = 0
    last_error: str | None = None
    last_latency_ms: int | None = None
    total_calls: int = 0
    total_failures: int = 0
    uptime_since: datetime | None = None
    opened_at: datetime | None = None
    rate_limited_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One call's outcome. A rate limit applies when rate_limited is true or retry_after_ms is
    given; without retry_after_ms the wait is the maximum."""

    success: bool
    error: str | None = None
    latency_ms: int | None = None
    retry_after_ms: int | None = None
    rate_limited: bool = False


def effective(state: BreakerState, *, now: datetime, config: BreakerConfig) -> BreakerState:
    """The state as it reads at `now`: OPEN past its cool-down is HALF_OPEN, and a rate limit
    that has passed is gone."""
    circuit_state = state.circuit_state
    if circuit_state == OPEN and not _cooling_down(state.opened_at, now, config):
        circuit_state = HALF_OPEN
    until = state.rate_limited_until
    return replace(
        state,
        circuit_state=circuit_state,
        rate_limited_until=until if until is not None and until > now else None,
    )


def is_available(state: BreakerState, *, now: datetime, config: BreakerConfig) -> bool:
    """Whether a call may be sent at `now`: CLOSED or HALF_OPEN, and not rate limited."""
    current = effective(state, now=now, config=config)
    return current.circuit_state != OPEN and current.rate_limited_until is None


def record_call(
    state: BreakerState, outcome: CallOutcome, *, now: datetime, config: BreakerConfig
) -> BreakerState:
    """The state after one call: the read-side transition first (cool-down, rate-limit expiry),
    then the outcome, the counters, the latency and any new rate limit."""
    current = effective(state, now=now, config=config)
    if outcome.success:
        after = _success(current, now)
    else:
        after = _failure(current, outcome.error or "", now, config)
    return replace(
        after,
        total_calls=_add_one(current.total_calls, MAX_INT64, "totalCalls"),
        last_latency_ms=(
            current.last_latency_ms if outcome.latency_ms is None else outcome.latency_ms
        ),
        rate_limited_until=_rate_limit(current.rate_limited_until, outcome, now, config),
    )


def _cooling_down(opened_at: datetime | None, now: datetime, config: BreakerConfig) -> bool:
    return opened_at is not None and now - opened_at < timedelta(seconds=config.cooldown_seconds)


def _success(state: BreakerState, now: datetime) -> BreakerState:
    recovered = state.circuit_state != CLOSED
    return replace(
        state,
        circuit_state=CLOSED,
        consecutive_failures=0,
        last_error=None,
        opened_at=None,
        uptime_since=now if recovered or state.uptime_since is None else state.uptime_since,
    )


def _failure(state: BreakerState, error: str, now: datetime, config: BreakerConfig) -> BreakerState:
    failed = replace(
        state,
        consecutive_failures=_add_one(state.consecutive_failures, MAX_INT32, "consecutiveFailures"),
        total_failures=_add_one(state.total_failures, MAX_INT64, "totalFailures"),
        last_error=error,
    )
    if state.circuit_state == OPEN:
        return replace(failed, opened_at=state.opened_at or now, uptime_since=None)
    if state.circuit_state == HALF_OPEN or failed.consecutive_failures >= config.failure_threshold:
        return replace(failed, circuit_state=OPEN, opened_at=now, uptime_since=None)
    return replace(failed, uptime_since=state.uptime_since or now)


def _rate_limit(
    until: datetime | None, outcome: CallOutcome, now: datetime, config: BreakerConfig
) -> datetime | None:
    """The new rate_limited_until: a new back-off replaces the old one (capped at the maximum);
    without one, the current (unexpired) limit stays."""
    if outcome.retry_after_ms is None and not outcome.rate_limited:
        return until
    wait_ms = config.max_rate_limit_wait_ms
    if outcome.retry_after_ms is not None:
        wait_ms = min(outcome.retry_after_ms, wait_ms)
    new_until = now + timedelta(milliseconds=wait_ms)
    return new_until if new_until > now else None


def _add_one(value: int, maximum: int, what: str) -> int:
    if value >= maximum:
        raise ValidationError(f"{what} would pass its maximum ({maximum})")
    return value + 1
