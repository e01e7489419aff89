"""Read everything the load wrote back through GraphQL (KV entries, audit entries, provider
counters, file versions and their downloaded bytes) and compare it with the ledger: every
acknowledged write is there, an unacknowledged one is there whole or not at all, nothing is
there that nobody sent, and every stored version's bytes match its sha256."""

import asyncio
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.reliability.workload import ACTIONS, REQUEST_TIMEOUT_S, Ledger, Op

PAGE_INFO = "pageInfo { hasNextPage endCursor }"
KV_PAGE = (
    "query($botId: ID!, $after: String) { page: kvEntries(botId: $botId, first: 500, "
    f"after: $after) {{ nodes {{ key value }} {PAGE_INFO} }} }}"
)
AUDIT_PAGE = (
    "query($botId: ID!, $after: String) { page: auditLog(botId: $botId, first: 500, "
    f"after: $after) {{ nodes {{ id memoryId action actor details }} {PAGE_INFO} }} }}"
)
FILES_PAGE = (
    "query($botId: ID!, $after: String) { page: files(botId: $botId, first: 20, after: $after) "
    "{ nodes { id filename version sizeBytes "
    "versions(first: 500) { nodes { version sha256 sizeBytes downloadUrl } } } "
    f"{PAGE_INFO} }} }}"
)
PROVIDERS = "{ providers { name totalCalls } }"
DOWNLOADS_AT_ONCE = 16
_ABSENT = object()


@dataclass
class Found:
    kv: dict[tuple[str, str], Any] = field(default_factory=dict)
    audit: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    files: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)

    def versions(self, bot_id: str, filename: str) -> dict[int, dict[str, Any]]:
        file = self.files.get((bot_id, filename))
        return {} if file is None else {v["version"]: v for v in file["versions"]["nodes"]}


async def fetch(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]


async def pages(client: httpx.AsyncClient, query: str, bot_id: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await fetch(client, query, {"botId": bot_id, "after": after}))["page"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def read_back(base_url: str, bots: list[str], auth: dict[str, str]) -> Found:
    found = Found()
    async with httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT_S, headers=auth
    ) as client:
        for bot_id in bots:
            for node in await pages(client, KV_PAGE, bot_id):
                found.kv[(bot_id, node["key"])] = node["value"]
            for node in await pages(client, AUDIT_PAGE, bot_id):
                found.audit[node["id"]] = {**node, "botId": bot_id}
            for node in await pages(client, FILES_PAGE, bot_id):
                found.files[(bot_id, node["filename"])] = node
        for node in (await fetch(client, PROVIDERS, {}))["providers"]:
            found.calls[node["name"]] = node["totalCalls"]
        urls = [
            version["downloadUrl"]
            for file in found.files.values()
            for version in file["versions"]["nodes"]
        ]
        gate = asyncio.Semaphore(DOWNLOADS_AT_ONCE)

        async def download(url: str) -> None:
            async with gate:
                response = await client.get(url)
            assert response.status_code == 200, (url, response.text)
            found.contents[url] = response.content

        await asyncio.gather(*(download(url) for url in urls))
    return found


def _audit_matches(op: Op, node: dict[str, Any] | None) -> bool:
    return node is not None and (
        node["memoryId"] == op.memory_id
        and node["botId"] == op.bot_id
        and node["action"] == ACTIONS[op.seq % len(ACTIONS)]
        and node["details"] == {"client": op.label, "seq": op.seq}
    )


def missing(op: Op, result: Any, found: Found) -> list[str]:
    """What of an acknowledged write is not (exactly) there."""
    where = f"{op.kind} {op.label}/{op.seq}"
    if op.kind in ("setKv", "setKvMany"):
        return [
            f"{where}: key {key}"
            for key, value in op.kv.items()
            if found.kv.get((op.bot_id, key), _ABSENT) != value
        ]
    if op.kind == "logMemoryAudit":
        return [] if _audit_matches(op, found.audit.get(result["id"])) else [f"{where}: entry"]
    if op.kind == "uploadFile":
        version = found.versions(op.bot_id, op.filename).get(result["version"])
        if (
            version is None
            or version["sha256"] != hashlib.sha256(op.content).hexdigest()
            or found.contents.get(version["downloadUrl"]) != op.content
        ):
            return [f"{where}: version {result['version']}"]
    return []  # provider calls are counted per provider (call_problems)


def half_written(op: Op, found: Found) -> list[str]:
    """An unacknowledged write must be there whole or not at all."""
    if op.kind in ("setKv", "setKvMany"):
        present = [found.kv.get((op.bot_id, key), _ABSENT) for key in op.kv]
        whole = present == list(op.kv.values())
        if not whole and any(value is not _ABSENT for value in present):
            return [f"{op.kind} {op.label}/{op.seq} half written: {present}"]
    if op.kind == "logMemoryAudit":
        nodes = [node for node in found.audit.values() if node["memoryId"] == op.memory_id]
        if len(nodes) > 1 or (nodes and not _audit_matches(op, nodes[0])):
            return [f"logMemoryAudit {op.label}/{op.seq}: {nodes}"]
    return []


def call_problems(ledger: Ledger, found: Found) -> list[str]:
    """Each provider's totalCalls lies between its acknowledged calls and those plus the
    calls in flight at a kill (exactly the acknowledged count when nothing was in flight)."""
    acked = Counter(op.provider for op, _ in ledger.of_kind("recordProviderCall"))
    maybe = Counter(op.provider for op in ledger.unknown if op.kind == "recordProviderCall")
    return [
        f"provider {name}: totalCalls {found.calls.get(name)}, acked {acked[name]}"
        f" (+{maybe[name]} in flight)"
        for name in sorted(set(acked) | set(maybe) | set(found.calls))
        if not acked[name] <= found.calls.get(name, 0) <= acked[name] + maybe[name]
    ]


def unexplained(ledger: Ledger, found: Found) -> list[str]:
    """Writes found that no sent mutation explains, and versions whose bytes are not whole."""
    sent = [op for op, _ in ledger.acked] + ledger.unknown
    keys = {(op.bot_id, key) for op in sent for key in op.kv}
    memories = {op.memory_id for op in sent if op.memory_id}
    uploads = Counter((op.bot_id, op.filename) for op in sent if op.kind == "uploadFile")
    problems = [f"key {key} was never sent" for key in set(found.kv) - keys]
    problems += [
        f"audit entry {entry_id} was never sent"
        for entry_id, node in found.audit.items()
        if node["memoryId"] not in memories
    ]
    for name, file in found.files.items():
        versions = found.versions(*name)
        if sorted(versions) != list(range(1, file["version"] + 1)) or len(versions) > uploads[name]:
            problems.append(f"file {name}: versions {sorted(versions)}, {uploads[name]} sent")
        for version in versions.values():
            content = found.contents[version["downloadUrl"]]
            if hashlib.sha256(content).hexdigest() != version["sha256"]:
                problems.append(f"file {name} version {version['version']}: bytes differ")
    return problems


def verify(ledger: Ledger, found: Found) -> list[str]:
    """Every problem found; an empty list when the data is exactly what the ledger allows."""
    problems = [problem for op, result in ledger.acked for problem in missing(op, result, found)]
    problems += [problem for op in ledger.unknown for problem in half_written(op, found)]
    return problems + call_problems(ledger, found) + unexplained(ledger, found)


def acked_writes_found(ledger: Ledger, found: Found) -> int:
    """How many acknowledged mutations are found exactly (provider calls: up to the count)."""
    others = [(op, result) for op, result in ledger.acked if op.kind != "recordProviderCall"]
    calls = Counter(op.provider for op, _ in ledger.of_kind("recordProviderCall"))
    return sum(1 for op, result in others if not missing(op, result, found)) + sum(
        min(count, found.calls.get(name, 0)) for name, count in calls.items()
    )


def in_flight_landed(ledger: Ledger, found: Found) -> int:
    """How many of the mutations in flight at a kill had landed (whole) anyway."""
    memories = {node["memoryId"] for node in found.audit.values()}
    landed = sum(
        1
        for op in ledger.unknown
        if (op.kv and all((op.bot_id, key) in found.kv for key in op.kv))
        or (op.memory_id and op.memory_id in memories)
    )
    for kind, name_of, count_of in (
        ("recordProviderCall", lambda op: op.provider, lambda name: found.calls.get(name, 0)),
        (
            "uploadFile",
            lambda op: (op.bot_id, op.filename),
            lambda name: len(found.versions(*name)),
        ),
    ):
        acked = Counter(name_of(op) for op, _ in ledger.of_kind(kind))
        maybe = {name_of(op) for op in ledger.unknown if op.kind == kind}
        landed += sum(count_of(name) - acked[name] for name in maybe)
    return landed
