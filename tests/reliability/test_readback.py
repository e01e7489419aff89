"""The load's verifier on made-up findings: it accepts exactly what the ledger allows and names
every lost, half-written, unexplained or corrupted write (so the load and crash tests can fail)."""

import hashlib
from typing import Any

import pytest

from tests.reliability.readback import Found, acked_writes_found, verify
from tests.reliability.workload import ACTIONS, Ledger, Op, plan

BOTS = ["01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"]


def op_of(kind: str) -> Op:
    """The first planned mutation of this kind (client 0 of run "t")."""
    return next(op for seq in range(10) if (op := plan("tc0", 0, seq, BOTS)).kind == kind)


def stored(op: Op) -> Found:
    """What the server holds after acknowledging op."""
    found = Found()
    for key, value in op.kv.items():
        found.kv[(op.bot_id, key)] = value
    if op.kind == "logMemoryAudit":
        found.audit["e1"] = {
            "id": "e1",
            "botId": op.bot_id,
            "memoryId": op.memory_id,
            "action": ACTIONS[op.seq % len(ACTIONS)],
            "actor": "system",
            "details": {"client": op.label, "seq": op.seq},
        }
    if op.kind == "recordProviderCall":
        found.calls[op.provider] = 1
    if op.kind == "uploadFile":
        version = {
            "version": 1,
            "sha256": hashlib.sha256(op.content).hexdigest(),
            "sizeBytes": len(op.content),
            "downloadUrl": "/v1",
        }
        found.files[(op.bot_id, op.filename)] = {"version": 1, "versions": {"nodes": [version]}}
        found.contents["/v1"] = op.content
    return found


def result_of(op: Op) -> Any:
    return {"logMemoryAudit": {"id": "e1"}, "uploadFile": {"version": 1}}.get(op.kind, {})


def acked(op: Op) -> Ledger:
    ledger = Ledger()
    ledger.acked.append((op, result_of(op)))
    return ledger


KINDS = ["setKv", "setKvMany", "logMemoryAudit", "recordProviderCall", "uploadFile"]


@pytest.mark.parametrize("kind", KINDS)
def test_verify_acknowledged_write_found_is_clean(kind: str) -> None:
    op = op_of(kind)
    assert verify(acked(op), stored(op)) == []
    assert acked_writes_found(acked(op), stored(op)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_verify_acknowledged_write_lost_is_reported(kind: str) -> None:
    assert verify(acked(op_of(kind)), Found()) != []
    assert acked_writes_found(acked(op_of(kind)), Found()) == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("landed", [True, False])
def test_verify_in_flight_write_present_or_absent_is_clean(kind: str, landed: bool) -> None:
    op = op_of(kind)
    assert verify(Ledger(unknown=[op]), stored(op) if landed else Found()) == []


def test_verify_half_written_set_kv_many_is_reported() -> None:
    op = op_of("setKvMany")
    found = stored(op)
    del found.kv[(op.bot_id, next(iter(op.kv)))]
    assert len(verify(Ledger(unknown=[op]), found)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_verify_write_nobody_sent_is_reported(kind: str) -> None:
    assert verify(Ledger(), stored(op_of(kind))) != []


def test_verify_version_bytes_not_matching_sha256_are_reported() -> None:
    op = op_of("uploadFile")
    found = stored(op)
    found.contents["/v1"] = op.content[:-1]
    assert verify(acked(op), found) != []
