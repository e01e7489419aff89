"""The postgres broker's messages: every event row type round-trips exactly, and a message over
NOTIFY's payload limit is cut into parts between characters, each under 8,000 bytes."""

import pytest

from db.audit_log import MemoryAuditEntryRow
from db.broker import Change
from db.builder import BuilderDraftRow
from db.kv import KvEntryRow
from db.postgres_broker import PART_BYTES, decode, encode, parts
from db.provider_health import ProviderHealthRow

NOW = "2026-02-12T22:04:12.123456+00:00"
ROWS = [
    KvEntryRow("b", "k", '{"n":18446744073709551616}', NOW, NOW),
    MemoryAuditEntryRow("i", "b", "m", "add", "me", {"big": 2**70, "f": 0.1, "x": None}, NOW),
    ProviderHealthRow("p", 1, "open", 3, "boom", 12, 9, 3, None, NOW, None, NOW),
    BuilderDraftRow("s", {"phase": "x", "list": [1, "é"]}, 1, 2, NOW, NOW, "", "x"),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: type(row).__name__)
def test_event_with_each_row_type_round_trips(row: object) -> None:
    assert decode(encode("topic/1", Change("key", row))) == ("topic/1", Change("key", row))


def test_deleted_row_and_completion_round_trip() -> None:
    assert decode(encode("kv/b", Change("k", None))) == ("kv/b", Change("k", None))
    assert decode(encode("kv/b", None)) == ("kv/b", None)


def test_event_of_an_unknown_row_type_is_refused() -> None:
    with pytest.raises(TypeError, match="dict is not one of ROW_TYPES"):
        encode("t", Change("k", {"a": 1}))


def test_long_message_is_cut_between_characters_into_numbered_parts() -> None:
    message = "a" + "é🙂" * 10_000  # 60,001 bytes
    pieces = parts(message)
    assert len(pieces) == 8
    headers = [piece.split(":", 3) for piece in pieces]
    assert len({ident for ident, *_ in headers}) == 1
    assert [(index, count) for _, index, count, _ in headers] == [(str(n), "8") for n in range(8)]
    assert all(len(piece.encode()) < 8000 for piece in pieces)
    assert all(len(body.encode()) <= PART_BYTES for *_, body in headers)
    assert "".join(body for *_, body in headers) == message


def test_short_message_is_one_part() -> None:
    (piece,) = parts("{}")
    assert piece.endswith(":0:1:{}")
