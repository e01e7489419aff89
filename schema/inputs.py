"""Rules every string input follows: at most 4 KiB unless a field says otherwise, never NUL."""

from typing import Any

import strawberry

from db.codec import dump_json
from db.errors import ValidationError

MAX_TEXT_BYTES = 4 * 1024
MAX_LONG_TEXT_BYTES = 64 * 1024


def check_text(value: str, what: str, *, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The value unchanged, or BAD_USER_INPUT when it holds NUL or is over max_bytes of UTF-8."""
    if "\x00" in value:
        raise ValidationError(f"{what} must not contain NUL characters")
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ValidationError(f"{what} is {size} bytes; at most {max_bytes} are allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{what} is not valid Unicode (lone surrogate)") from None
    return value


def check_optional_text(
    value: str | None, what: str, *, max_bytes: int = MAX_TEXT_BYTES
) -> str | None:
    return None if value is None else check_text(value, what, max_bytes=max_bytes)


def check_json(value: Any, what: str, *, max_bytes: int) -> str:
    """The value as compact JSON text, or BAD_USER_INPUT when that is over max_bytes of UTF-8,
    holds a lone surrogate or is nested deeper than the interpreter can encode."""
    try:
        text = dump_json(value)
    except RecursionError:
        raise ValidationError(f"{what} is nested too deeply") from None
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError(f"{what} holds a string that is not valid Unicode") from None
    if size > max_bytes:
        raise ValidationError(f"{what} is {size} bytes of JSON; at most {max_bytes} are allowed")
    return text


def given_fields(update: object, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields an update input sets, by Python name: omitted ones (UNSET) are left out, and
    an explicit null is BAD_USER_INPUT unless the field is in `nullable` (then null clears it)."""
    given: dict[str, Any] = {}
    for name, value in vars(update).items():
        if value is strawberry.UNSET:
            continue
        if value is None and name not in nullable:
            camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
            raise ValidationError(f"{camel} cannot be null (omit it to keep it)")
        given[name] = value
    return given
