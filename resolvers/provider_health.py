"""Provider health: lookups, full-replace saves, deletes, and recordProviderCall, which applies
the circuit-breaker rules (resolvers/circuit_breaker.py) to the stored row in one write
transaction, so every API process and every restart agrees on a provider's state."""

from dataclasses import replace
from datetime import datetime
from typing import Annotated

import strawberry

from db import provider_health as db_provider_health
from db.codec import format_timestamp, parse_timestamp
from db.connection import Conn
from db.errors import ConflictError, ValidationError
from db.provider_health import ProviderHealthRow
from db.settings import Settings
from resolvers import circuit_breaker as breaker
from resolvers import events
from schema.context import Context, Info
from schema.inputs import MAX_LONG_TEXT_BYTES, check_optional_text, check_text
from schema.provider_health import (
    NAME_RULE,
    CircuitState,
    ProviderCallInput,
    ProviderHealth,
    ProviderHealthInput,
)

NameArgument = Annotated[str, strawberry.argument(description="The provider's name. " + NAME_RULE)]


def breaker_config(settings: Settings) -> breaker.BreakerConfig:
    return breaker.BreakerConfig(
        failure_threshold=settings.circuit_failure_threshold,
        cooldown_seconds=settings.circuit_cooldown_seconds,
        max_rate_limit_wait_ms=settings.rate_limit_max_wait_ms,
    )


def provider_health_view(
    row: ProviderHealthRow, context: Context, moment: datetime | None = None
) -> ProviderHealth:
    """What a client sees at `moment` (default now): the state computed on read, nothing
    written."""
    now = context.clock() if moment is None else moment
    config = breaker_config(context.settings)
    state = breaker.effective(_state(row), now=now, config=config)
    shown = replace(
        row,
        circuit_state=state.circuit_state,
        rate_limited_until=_text(state.rate_limited_until),
    )
    return ProviderHealth.from_row(
        shown, is_available=breaker.is_available(state, now=now, config=config)
    )


def _check_name(name: str) -> str:
    check_text(name, "name")
    if not name:
        raise ValidationError("name must not be empty")
    return name


def _check_error(error: str | None, what: str) -> str | None:
    return check_optional_text(error, what, max_bytes=MAX_LONG_TEXT_BYTES)


def _check_not_negative(**values: int | None) -> None:
    for what, value in values.items():
        if value is not None and value < 0:
            raise ValidationError(f"{what} must be >= 0, not {value}")


def _time(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def _state(row: ProviderHealthRow) -> breaker.BreakerState:
    return breaker.BreakerState(
        circuit_state=row.circuit_state,
        consecutive_failures=row.consecutive_failures,
        last_error=row.last_error,
        last_latency_ms=row.last_latency_ms,
        total_calls=row.total_calls,
        total_failures=row.total_failures,
        uptime_since=_time(row.uptime_since),
        opened_at=_time(row.opened_at),
        rate_limited_until=_time(row.rate_limited_until),
    )


def _check_save(input: ProviderHealthInput) -> str:
    """The name of a valid saveProviderHealth input; else BAD_USER_INPUT."""
    _check_not_negative(
        priority=input.priority,
        consecutiveFailures=input.consecutive_failures,
        lastLatencyMs=input.last_latency_ms,
        totalCalls=input.total_calls,
        totalFailures=input.total_failures,
    )
    _check_error(input.last_error, "lastError")
    return _check_name(input.name)


def _saved_state(input: ProviderHealthInput, now: datetime) -> breaker.BreakerState:
    """The state a (checked) saveProviderHealth input stores: CLOSED has no openedAt, and
    OPEN / HALF_OPEN without one opened now."""
    closed = input.circuit_state is CircuitState.CLOSED
    opened_at = None if closed else (_time(input.opened_at) or now)
    return breaker.BreakerState(
        circuit_state=input.circuit_state.value,
        consecutive_failures=input.consecutive_failures,
        last_error=input.last_error,
        last_latency_ms=input.last_latency_ms,
        total_calls=input.total_calls,
        total_failures=input.total_failures,
        uptime_since=_time(input.uptime_since),
        opened_at=opened_at,
        rate_limited_until=_time(input.rate_limited_until),
    )


def _outcome(input: ProviderCallInput) -> breaker.CallOutcome:
    _check_not_negative(latencyMs=input.latency_ms, retryAfterMs=input.retry_after_ms)
    error = _check_error(input.error, "error")
    if input.success and error is not None:
        raise ValidationError("error must be omitted when success is true")
    if not input.success and not error:
        raise ValidationError("error is required when success is false")
    return breaker.CallOutcome(
        success=input.success,
        error=error,
        latency_ms=input.latency_ms,
        retry_after_ms=input.retry_after_ms,
        rate_limited=input.rate_limited,
    )


async def _check_room(conn: Conn, settings: Settings) -> None:
    """After a new provider's row is written: refused (rolled back) past max_providers."""
    count = await db_provider_health.count_providers(conn)
    if count > settings.max_providers:
        raise ConflictError(
            f"at most {settings.max_providers} providers may exist (setting max_providers); "
            "delete one or raise the setting"
        )


async def _write(
    conn: Conn, *, name: str, priority: int, state: breaker.BreakerState, now: datetime
) -> ProviderHealthRow:
    return await db_provider_health.set_provider_health(
        conn,
        name=name,
        priority=priority,
        circuit_state=state.circuit_state,
        consecutive_failures=state.consecutive_failures,
        last_error=state.last_error,
        last_latency_ms=state.last_latency_ms,
        total_calls=state.total_calls,
        total_failures=state.total_failures,
        uptime_since=_text(state.uptime_since),
        opened_at=_text(state.opened_at),
        rate_limited_until=_text(state.rate_limited_until),
        now=format_timestamp(now),
    )


@strawberry.type
class ProviderHealthQuery:
    @strawberry.field(description="One provider's health, or null when the name is unknown.")
    async def provider_health(self, info: Info, name: NameArgument) -> ProviderHealth | None:
        conn = info.context.db.read()
        row = await db_provider_health.get_provider_health(conn, name=_check_name(name))
        return None if row is None else provider_health_view(row, info.context)

    @strawberry.field(description="Every provider, by priority, then name (UTF-8 byte order).")
    async def providers(self, info: Info) -> list[ProviderHealth]:
        rows = await db_provider_health.list_provider_health(info.context.db.read())
        now = info.context.clock()
        return [provider_health_view(row, info.context, now) for row in rows]


@strawberry.type
class ProviderHealthMutation:
    @strawberry.mutation(
        description="Store a provider's row as given (upsert by name, full replace: an omitted "
        "nullable field is stored as null); updatedAt is now."
    )
    async def save_provider_health(self, info: Info, input: ProviderHealthInput) -> ProviderHealth:
        name = _check_save(input)
        async with info.context.db.write() as conn:
            stored = await db_provider_health.lock_provider_health(conn, name=name)
            now = info.context.clock()  # under the write lock: time follows commit order
            state = _saved_state(input, now)
            row = await _write(conn, name=name, priority=input.priority, state=state, now=now)
            if stored is None:
                await _check_room(conn, info.context.settings)
            events.provider_saved(conn, info.context, row)
        return provider_health_view(row, info.context, now)

    @strawberry.mutation(
        description="Apply one call's outcome with the circuit-breaker rules (see "
        "ProviderCallInput) in one atomic write: concurrent calls for one provider never lose "
        "an update. An unknown name is created first; BAD_USER_INPUT when a counter would pass "
        "its maximum."
    )
    async def record_provider_call(self, info: Info, input: ProviderCallInput) -> ProviderHealth:
        name = _check_name(input.name)
        outcome = _outcome(input)
        config = breaker_config(info.context.settings)
        async with info.context.db.write() as conn:
            stored = await db_provider_health.lock_provider_health(conn, name=name)
            now = info.context.clock()  # once the row is locked: time follows commit order
            state = breaker.BreakerState() if stored is None else _state(stored)
            priority = 0 if stored is None else stored.priority
            after = breaker.record_call(state, outcome, now=now, config=config)
            row = await _write(conn, name=name, priority=priority, state=after, now=now)
            if stored is None:
                await _check_room(conn, info.context.settings)
            events.provider_saved(conn, info.context, row)
        return provider_health_view(row, info.context, now)

    @strawberry.mutation(description="Delete a provider's row; false when there was none.")
    async def delete_provider_health(self, info: Info, name: NameArgument) -> bool:
        checked = _check_name(name)
        async with info.context.db.write() as conn:
            deleted = await db_provider_health.delete_provider_health(conn, name=checked)
            return events.provider_deleted(conn, info.context, checked, deleted)
