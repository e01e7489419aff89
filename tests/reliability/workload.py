"""The reliability load: concurrent clients, each sending a fixed mix of mutations (setKv,
setKvMany, logMemoryAudit, recordProviderCall, a small uploadFile) one after another, and a
ledger of what the server acknowledged (HTTP 200, data, no errors), what it refused, and what
was in flight when the connection broke (a killed server: it may or may not have landed).

Every write is identifiable afterwards: KV keys, memory ids, filenames and file contents carry
the client's label and the mutation's sequence number.
"""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.upload_helpers import PREFLIGHT, form

CLIENTS = 100
MUTATIONS = 50
BOTS = 4
PROVIDERS = 10
REQUEST_TIMEOUT_S = 30.0
KINDS = ("setKv", "logMemoryAudit", "recordProviderCall", "uploadFile", "setKvMany")
ACTIONS = ("ADD", "DELETE", "SHARE", "REVOKE", "MERGE")
SHARED_CONTENT = b"content shared by many versions\n" * 8

SET_KV = (
    "mutation($botId: ID!, $key: String!, $value: JSON) "
    "{ setKv(botId: $botId, key: $key, value: $value) { key value } }"
)
SET_KV_MANY = (
    "mutation($botId: ID!, $entries: [KvSetInput!]!) "
    "{ setKvMany(botId: $botId, entries: $entries) { key } }"
)
LOG_AUDIT = "mutation($input: LogMemoryAuditInput!) { logMemoryAudit(input: $input) { id } }"
RECORD_CALL = (
    "mutation($input: ProviderCallInput!) { recordProviderCall(input: $input) { totalCalls } }"
)
UPLOAD = (
    "mutation($botId: ID!, $filename: String!, $file: Upload!) "
    "{ uploadFile(botId: $botId, filename: $filename, file: $file) { id version sizeBytes } }"
)
CREATE_BOT = "mutation($name: String!) { createBot(input: {name: $name}) { id } }"


@dataclass(frozen=True)
class Op:
    """One mutation and what it writes."""

    kind: str
    label: str
    seq: int
    bot_id: str
    kv: dict[str, Any] = field(default_factory=dict)
    memory_id: str = ""
    provider: str = ""
    filename: str = ""
    content: bytes = b""


def plan(label: str, index: int, seq: int, bots: list[str]) -> Op:
    """The seq-th mutation of client `index`: the kinds rotate, shifted per client, so every
    moment of the load mixes them."""
    kind = KINDS[(index + seq) % len(KINDS)]
    bot_id = bots[index % len(bots)]
    value = {"client": label, "seq": seq, "text": "ünïcødé ✓ 🤖", "n": [seq, -seq, seq / 4]}
    if kind == "setKv":
        return Op(kind, label, seq, bot_id, kv={f"{label}/{seq}": value})
    if kind == "setKvMany":
        entries = {f"{label}/{seq}/{part}": {**value, "part": part} for part in range(3)}
        return Op(kind, label, seq, bot_id, kv=entries)
    if kind == "logMemoryAudit":
        return Op(kind, label, seq, bot_id, memory_id=str(uuid.uuid4()))
    if kind == "recordProviderCall":
        return Op(kind, label, seq, bot_id, provider=f"load-provider-{index % PROVIDERS}")
    shared = seq % 3 == 0
    content = SHARED_CONTENT if shared else f"{label} upload {seq}\n".encode() * (1 + seq % 9)
    return Op(kind, label, seq, bot_id, filename=f"{label}.txt", content=content)


def _json_request(op: Op) -> tuple[str, dict[str, Any]]:
    if op.kind == "setKv":
        ((key, value),) = op.kv.items()
        return SET_KV, {"botId": op.bot_id, "key": key, "value": value}
    if op.kind == "setKvMany":
        entries = [{"key": key, "value": value} for key, value in op.kv.items()]
        return SET_KV_MANY, {"botId": op.bot_id, "entries": entries}
    if op.kind == "logMemoryAudit":
        details = {"client": op.label, "seq": op.seq}
        action = ACTIONS[op.seq % len(ACTIONS)]
        return LOG_AUDIT, {
            "input": {
                "botId": op.bot_id,
                "memoryId": op.memory_id,
                "action": action,
                "actor": "system",
                "details": details,
            }
        }
    call = {"name": op.provider, "success": True, "latencyMs": op.seq}
    return RECORD_CALL, {"input": call}


async def send(client: httpx.AsyncClient, op: Op) -> httpx.Response:
    if op.kind == "uploadFile":
        return await client.post(
            "/graphql",
            data=form(op.bot_id, op.filename, UPLOAD),
            files={"0": (op.filename, op.content, "text/plain")},
            headers=PREFLIGHT,
        )
    query, variables = _json_request(op)
    return await client.post("/graphql", json={"query": query, "variables": variables})


@dataclass
class Ledger:
    """What happened to every mutation sent."""

    acked: list[tuple[Op, Any]] = field(default_factory=list)
    unknown: list[Op] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    _waiters: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    def record(self, op: Op, response: httpx.Response) -> None:
        self.requests += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        result = data.get(op.kind) if isinstance(data, dict) else None
        refused = not isinstance(body, dict) or "errors" in body or response.status_code != 200
        if refused or result is None:
            self.errors.append(f"{op.kind} {op.label}/{op.seq}: {response.status_code} {body}")
            return
        self.acked.append((op, result))
        for count, event in self._waiters:
            if len(self.acked) >= count:
                event.set()

    async def wait_for_acks(self, count: int) -> None:
        event = asyncio.Event()
        self._waiters.append((count, event))
        if len(self.acked) >= count:
            event.set()
        await event.wait()

    def of_kind(self, kind: str) -> list[tuple[Op, Any]]:
        return [(op, result) for op, result in self.acked if op.kind == kind]


async def run_client(
    base_url: str, label: str, index: int, bots: list[str], ledger: Ledger, auth: dict[str, str]
) -> None:
    """One client: MUTATIONS mutations in order; it stops at the first broken connection."""
    async with httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT_S, headers=auth
    ) as client:
        for seq in range(MUTATIONS):
            op = plan(label, index, seq, bots)
            try:
                response = await send(client, op)
            except httpx.TransportError:
                ledger.unknown.append(op)  # in flight when the server went away
                return
            ledger.record(op, response)


async def run_load(
    base_url: str, bots: list[str], ledger: Ledger, run: str, auth: dict[str, str]
) -> None:
    """CLIENTS clients at once, each labelled `<run>c<index>`."""
    await asyncio.gather(
        *(
            run_client(base_url, f"{run}c{index}", index, bots, ledger, auth)
            for index in range(CLIENTS)
        )
    )


async def create_bots(client: httpx.AsyncClient) -> list[str]:
    bots = []
    for number in range(BOTS):
        response = await client.post(
            "/graphql", json={"query": CREATE_BOT, "variables": {"name": f"Load Bot {number}"}}
        )
        assert response.status_code == 200, response.text
        bots.append(response.json()["data"]["createBot"]["id"])
    return bots
