"""Live-update events across API processes: PostgreSQL LISTEN/NOTIFY behind the Broker interface
(db/broker.py), chosen with a PostgreSQL database.

- A mutation's events go out with its own transaction (pg_notify just before COMMIT,
  db/postgres.py), so PostgreSQL delivers them only if it commits, to every process, in commit
  order (the notifications of one transaction arrive together, in order).
- An event carries its row as committed (the frozen row dataclass as JSON, named by its class),
  so subscribers get exactly what the writer saw, without re-reading. NOTIFY's payload limit is
  8,000 bytes: a longer event (a big KV value or draft state) is sent in parts of at most
  PART_BYTES, each headed "<message id>:<part>:<parts>:", and put back together on arrival.
- Each process LISTENs on one connection of its own and hands every event to its local
  subscribers through a MemoryBroker (the same bounded queues, overflow and completion); events
  of this process come back the same way, so every process sees one order.
- When the listening connection is lost, this process's subscriptions end (their clients
  resubscribe and re-read) and it reconnects, retrying with a growing pause.
"""

import asyncio
import logging
import uuid
from dataclasses import fields, is_dataclass
from typing import Any

import asyncpg

from db.audit_log import MemoryAuditEntryRow
from db.broker import Change, MemoryBroker, MemorySubscription
from db.builder import BuilderDraftRow
from db.codec import dump_json, load_json
from db.connection import WriteConn
from db.kv import KvEntryRow
from db.postgres import PostgresDatabase, PostgresWriteConn
from db.provider_health import ProviderHealthRow

CHANNEL = "boternity_events"
PART_BYTES = 7900  # of the payload after the header; NOTIFY takes under 8,000 bytes
ROW_TYPES: dict[str, type[Any]] = {
    row.__name__: row
    for row in (KvEntryRow, MemoryAuditEntryRow, ProviderHealthRow, BuilderDraftRow)
}
_RETRY_FIRST_S, _RETRY_MOST_S = 0.5, 10.0
_log = logging.getLogger("boternity.broker")


def encode(topic: str, event: Change | None) -> str:
    """The message for an event (None: the topic completes)."""
    message: dict[str, Any] = {"topic": topic}
    if event is None:
        message["complete"] = True
    else:
        message["key"] = event.key
        row = event.row
        if row is not None:
            if not is_dataclass(row) or type(row).__name__ not in ROW_TYPES:
                raise TypeError(f"{type(row).__name__} is not one of ROW_TYPES")
            message["type"] = type(row).__name__
            message["row"] = {field.name: getattr(row, field.name) for field in fields(row)}
    return dump_json(message)


def decode(text: str) -> tuple[str, Change | None]:
    message = load_json(text)
    if message.get("complete"):
        return message["topic"], None
    row = None if "type" not in message else ROW_TYPES[message["type"]](**message["row"])
    return message["topic"], Change(message["key"], row)


def parts(message: str) -> list[str]:
    """The message as NOTIFY payloads, cut between characters."""
    data, pieces = message.encode(), []
    while data:
        cut = min(len(data), PART_BYTES)
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # inside a UTF-8 sequence
            cut -= 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
    ident = uuid.uuid4().hex
    pieces = pieces or [""]
    return [f"{ident}:{index}:{len(pieces)}:{piece}" for index, piece in enumerate(pieces)]


class PostgresBroker:
    def __init__(self, db: PostgresDatabase, *, queue_size: int) -> None:
        self._db = db
        self._local = MemoryBroker(queue_size=queue_size)
        self._partial: dict[str, list[str]] = {}
        self._connection: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False

    def publish_after(self, conn: WriteConn, topic: str, event: Change) -> None:
        self._send(conn, topic, event)

    def complete_after(self, conn: WriteConn, topic: str) -> None:
        self._send(conn, topic, None)

    def _send(self, conn: WriteConn, topic: str, event: Change | None) -> None:
        if not isinstance(conn, PostgresWriteConn):
            raise TypeError("the postgres broker needs a PostgreSQL write transaction")
        for payload in parts(encode(topic, event)):
            conn.notify(CHANNEL, payload)

    def subscribe(self, topic: str) -> MemorySubscription:
        return self._local.subscribe(topic)

    def subscriber_count(self, topic: str) -> int:
        return self._local.subscriber_count(topic)

    @property
    def listening(self) -> bool:
        """Whether events reach this process now (False while it reconnects)."""
        return self._connection is not None

    async def start(self) -> None:
        await self._listen()

    async def _listen(self) -> None:
        connection = await self._db.connect_one()
        connection.add_termination_listener(self._lost)
        await connection.add_listener(CHANNEL, self._received)
        self._connection = connection

    def _received(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        ident, _, count, piece = payload.split(":", 3)
        if count == "1":
            self._deliver(piece)
            return
        pieces = self._partial.setdefault(ident, [])
        pieces.append(piece)
        if len(pieces) == int(count):
            del self._partial[ident]
            self._deliver("".join(pieces))

    def _deliver(self, message: str) -> None:
        topic, event = decode(message)
        if event is None:
            self._local.complete(topic)
        else:
            self._local.publish(topic, event)

    def _lost(self, connection: Any) -> None:
        """The listening connection went away: events are being missed, so the subscriptions
        end (their clients resubscribe and re-read), and the broker listens again."""
        self._connection = None
        self._partial.clear()
        if not self._closed:
            _log.warning("the postgres broker lost its connection; reconnecting")
            self._local.complete_all()
            self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        pause = _RETRY_FIRST_S
        while not self._closed:
            try:
                await self._listen()
                return
            except (OSError, asyncpg.PostgresError) as error:
                _log.warning("the postgres broker cannot listen yet (%s); retrying", error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, _RETRY_MOST_S)

    async def close(self) -> None:
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self._connection is not None:
            await self._connection.close()
        await self._local.close()
