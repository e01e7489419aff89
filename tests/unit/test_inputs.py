"""JSON arguments become stored text or a BAD_USER_INPUT, never an internal error."""

from typing import Any

import pytest

from db.errors import ValidationError
from schema.inputs import check_json


def nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def test_json_is_stored_as_compact_text() -> None:
    assert check_json({"a": [1, None, "x"]}, "details", max_bytes=100) == '{"a":[1,null,"x"]}'


def test_json_over_the_byte_limit_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"^details is 16 bytes of JSON; at most 12 are allowed$"
    ):
        check_json({"a": "12345678"}, "details", max_bytes=12)


def test_json_beyond_the_encoders_depth_is_refused_not_an_internal_error() -> None:
    # deeper than orjson writes (255) is written by the standard library; deeper than the
    # interpreter's recursion limit is refused (how deep that is depends on the call stack)
    assert check_json(nested(300), "details", max_bytes=10_000).startswith('[{"a":[{"a":')
    with pytest.raises(ValidationError, match=r"^details is nested too deeply$"):
        check_json(nested(20_000), "details", max_bytes=10**9)
