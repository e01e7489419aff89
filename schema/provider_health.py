"""Provider health as clients see it: the ProviderHealth type, CircuitState and the inputs."""

from enum import Enum

import strawberry

from db.provider_health import ProviderHealthRow
from schema.scalars import DateTime, Long

NAME_RULE = "1 byte to 4 KiB, matched exactly (not trimmed)."
ERROR_RULE = (
    "At most 64 KiB (a provider's error can carry its response body), stored exactly as sent."
)


@strawberry.enum(description="A provider's circuit breaker state.")
class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@strawberry.type(
    description="One LLM provider's health and circuit breaker, identified by name. "
    "circuitState, rateLimitedUntil and isAvailable are computed from the stored row and the "
    "clock on read (reads never write)."
)
class ProviderHealth:
    name: str = strawberry.field(description="The provider's name: " + NAME_RULE)
    priority: int = strawberry.field(description="Lower is preferred (>= 0).")
    circuit_state: CircuitState = strawberry.field(
        description="CLOSED, OPEN, or HALF_OPEN. An OPEN circuit past its cool-down reads as "
        "HALF_OPEN (computed on read; stored by the next recorded call)."
    )
    consecutive_failures: int = strawberry.field(
        description="Failures since the last success (in every state)."
    )
    last_error: str | None = strawberry.field(
        description="The error of the latest recorded call, exactly as sent, when that call "
        "failed; a success clears it (null)."
    )
    last_latency_ms: Long | None = strawberry.field(
        description="Latency of the latest call that reported one, in ms."
    )
    total_calls: Long = strawberry.field(description="Calls recorded.")
    total_failures: Long = strawberry.field(description="Failed calls recorded.")
    uptime_since: DateTime | None = strawberry.field(
        description="When the circuit last closed; null while the circuit is open."
    )
    opened_at: DateTime | None = strawberry.field(
        description="When the circuit opened; set while OPEN / HALF_OPEN, null when CLOSED."
    )
    rate_limited_until: DateTime | None = strawberry.field(
        description="The provider asked us to back off until then; null once passed."
    )
    is_available: bool = strawberry.field(
        description="Whether a call may be sent now: CLOSED or HALF_OPEN, and not rate limited. "
        "An OPEN circuit past its cool-down reads as HALF_OPEN (computed on read; stored by the "
        "next write)."
    )
    updated_at: DateTime = strawberry.field(
        description="When the row was last written (saveProviderHealth, recordProviderCall)."
    )

    @classmethod
    def from_row(cls, row: ProviderHealthRow, *, is_available: bool) -> "ProviderHealth":
        """`row` holds the values as read at one moment; is_available is computed for it."""
        return cls(
            name=row.name,
            priority=row.priority,
            circuit_state=CircuitState(row.circuit_state),
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            last_latency_ms=None if row.last_latency_ms is None else Long(row.last_latency_ms),
            total_calls=Long(row.total_calls),
            total_failures=Long(row.total_failures),
            uptime_since=None if row.uptime_since is None else DateTime(row.uptime_since),
            opened_at=None if row.opened_at is None else DateTime(row.opened_at),
            rate_limited_until=(
                None if row.rate_limited_until is None else DateTime(row.rate_limited_until)
            ),
            is_available=is_available,
            updated_at=DateTime(row.updated_at),
        )


@strawberry.input(
    description="A full replace of the stored row (upsert by name): an omitted nullable field "
    "is stored as null. Counters, priority and latency must be >= 0."
)
class ProviderHealthInput:
    name: str = strawberry.field(description=NAME_RULE)
    priority: int = strawberry.field(default=0, description="Lower is preferred; >= 0.")
    circuit_state: CircuitState = strawberry.field(
        default=CircuitState.CLOSED, description="The stored circuit state."
    )
    consecutive_failures: int = strawberry.field(
        default=0, description="Failures since the last success; >= 0."
    )
    last_error: str | None = strawberry.field(default=None, description=ERROR_RULE)
    last_latency_ms: Long | None = strawberry.field(default=None, description="In ms; >= 0.")
    total_calls: Long = strawberry.field(default=Long(0), description="Calls recorded; >= 0.")
    total_failures: Long = strawberry.field(
        default=Long(0), description="Failed calls recorded; >= 0."
    )
    uptime_since: DateTime | None = strawberry.field(
        default=None, description="When the circuit last closed."
    )
    opened_at: DateTime | None = strawberry.field(
        default=None,
        description="When the circuit opened. OPEN / HALF_OPEN without it: now. "
        "A CLOSED circuit stores null whatever is given.",
    )
    rate_limited_until: DateTime | None = strawberry.field(
        default=None, description="Back off until then."
    )


@strawberry.input(
    description="One call's outcome; the server applies the circuit-breaker rules in one "
    "atomic write. An unknown name is created with the defaults of ProviderHealthInput first. "
    "Every call counts in totalCalls; a failure adds to consecutiveFailures and totalFailures "
    "and sets lastError to error exactly as sent; the failure that makes consecutiveFailures "
    "reach the threshold (setting, default 3), or any failure while HALF_OPEN, opens the "
    "circuit (openedAt now, uptimeSince null). A success closes the circuit "
    "(consecutiveFailures 0, lastError null, openedAt null; uptimeSince now when it was not "
    "CLOSED). "
    "While OPEN before the cool-down (setting, default 30 s) a call still counts: a success "
    "closes the circuit, a failure keeps it OPEN with openedAt unchanged (the cool-down is not "
    "extended). A call that leaves the circuit CLOSED with a null uptimeSince sets it to now."
)
class ProviderCallInput:
    name: str = strawberry.field(description=NAME_RULE)
    success: bool = strawberry.field(description="Whether the call succeeded.")
    latency_ms: Long | None = strawberry.field(
        default=None, description="The call's latency in ms (>= 0); omitted keeps the last one."
    )
    error: str | None = strawberry.field(
        default=None,
        description="Required (non-empty) when success is false, refused when it is true. "
        + ERROR_RULE,
    )
    retry_after_ms: Long | None = strawberry.field(
        default=None,
        description="The provider asked us to back off (rate limited), in ms (>= 0): "
        "rateLimitedUntil becomes now plus this, capped at the maximum wait (setting, default "
        "5000 ms); it replaces an earlier limit. Independent of success and the circuit state.",
    )
    rate_limited: bool = strawberry.field(
        default=False,
        description="The provider refused the call as rate limited without saying for how "
        "long: rateLimitedUntil becomes now plus the maximum wait. retryAfterMs implies it.",
    )
