"""How values are written to and read from the database: time, ids and JSON.

Timestamps are fixed-width UTC text with microseconds (2026-02-12T22:04:12.123456+00:00), so
text order is time order on every backend. Ids are lowercase hyphenated UUIDs; new ones are
UUIDv7, monotonic within the process.
"""

import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import uuid6

from db.errors import ValidationError

Clock = Callable[[], datetime]

# RFC 3339's date-time (section 5.6): full-date, T (or t, or a space as its note allows),
# full-time with an optional fraction, and Z or a numeric offset. No week dates, no basic format.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
MAX_INT32 = 2**31 - 1


def system_clock() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """The stored form of a moment; naive datetimes are refused (they have no offset)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("a date-time needs a UTC offset, e.g. 2026-02-12T22:04:12Z")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValidationError("a date-time must be within years 1 to 9999 in UTC") from None
    return utc.isoformat(timespec="microseconds")  # the year is always 4 digits wide


def parse_timestamp_input(text: str) -> str:
    """An RFC 3339 input with any offset, as the stored UTC form."""
    if not isinstance(text, str) or len(text) > 64:
        raise ValidationError("a date-time must be an RFC 3339 string")
    candidate = text.strip()
    if _RFC3339.fullmatch(candidate) is None:
        if _RFC3339.fullmatch(candidate + "Z") is not None:
            raise ValidationError(
                f"'{text}' has no UTC offset; add one, e.g. {text}Z or {text}+00:00"
            )
        raise ValidationError(f"'{text}' is not an RFC 3339 date-time")
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:  # a day, hour or offset out of range, or year 0
        raise ValidationError(f"'{text}' is not an RFC 3339 date-time") from None
    return format_timestamp(moment)


def parse_timestamp(stored: str) -> datetime:
    return datetime.fromisoformat(stored)


def new_id() -> str:
    return str(uuid6.uuid7())


def parse_uuid(text: str, what: str = "id") -> str:
    """Any valid UUID spelling, normalised to lowercase hyphenated; else BAD_USER_INPUT."""
    if not isinstance(text, str) or len(text) > 64:
        raise ValidationError(f"{what} must be a UUID")
    if _CANONICAL_UUID.fullmatch(text):  # already in the normal form: most ids clients send
        return text
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValidationError(f"{what} '{text}' is not a valid UUID") from None


def dump_json(value: Any) -> str:
    """Compact JSON text; integers beyond 64 bits fall back to the standard library."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def load_json(text: str | bytes) -> Any:
    """Parse JSON text. orjson reads integers beyond 64 bits as floats (2**64 comes back as
    1.8446744073709552e+19) and numbers beyond the double range as 0.0 (1e-400), so text with
    a run of 19 digits or a 3-digit exponent goes to the standard library, which keeps
    integers exact and refuses numbers that do not survive the trip (`json_float`)."""
    if isinstance(text, bytes):
        exact = _LONG_DIGITS_BYTES.search(text) is None
    else:
        exact = _LONG_DIGITS.search(text) is None
    if exact:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # the standard library says what is wrong, or reads what orjson refuses
    return json.loads(text, parse_constant=_refuse_constant, parse_float=json_float)


# a digit, then 18 more or a 3-digit exponent (starting at digits only: fast on long texts)
_LONG_DIGITS = re.compile(r"[0-9](?:[0-9]{18}|[eE][-+]?[0-9]{3})")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LONG_DIGITS_BYTES = re.compile(rb"[0-9](?:[0-9]{18}|[eE][-+]?[0-9]{3})")
_NONZERO_MANTISSA = re.compile(r"[1-9][0-9]*(\.[0-9]*)?|[0-9]*\.[0-9]*[1-9]")


def json_float(text: str) -> float:
    """A JSON number's float; ValueError when it does not survive the trip: beyond the double
    range (1e999 would be infinity) or so small it becomes 0.0 (1e-400)."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:40]} is out of range for a JSON number")
    if value == 0.0 and _NONZERO_MANTISSA.match(text.lstrip("-").split("e")[0].split("E")[0]):
        raise ValueError(f"{text[:40]} is too small for a JSON number (it would be stored as 0)")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
