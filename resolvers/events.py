"""Live-update events, published by mutations: one call each, inside the write transaction.

Each helper hands the events to the broker with the write transaction (db/broker.py): nothing is
published for a rolled-back transaction, and events leave in commit order. Topics are named
here, and read by resolvers/subscriptions.py.
"""

from db.audit_log import MemoryAuditEntryRow
from db.broker import Change
from db.builder import BuilderDraftRow
from db.connection import WriteConn
from db.kv import KvEntryRow
from db.provider_health import ProviderHealthRow
from schema.context import Context

AUDIT_TOPIC = "audit"
PROVIDER_TOPIC = "provider"


def kv_topic(bot_id: str) -> str:
    return f"kv/{bot_id}"


def audit_topic(bot_id: str) -> str:
    return f"{AUDIT_TOPIC}/{bot_id}"


def provider_topic(name: str) -> str:
    return f"{PROVIDER_TOPIC}/{name}"


def draft_topic(session_id: str) -> str:
    return f"draft/{session_id}"


def _after_commit(conn: WriteConn, context: Context, events: list[tuple[str, Change]]) -> None:
    for topic, event in events:
        context.broker.publish_after(conn, topic, event)


def kv_set(conn: WriteConn, context: Context, *rows: KvEntryRow | None) -> None:
    """One event per entry set (None: nothing was written)."""
    changes = [(kv_topic(row.bot_id), Change(row.key, row)) for row in rows if row is not None]
    _after_commit(conn, context, changes)


def kv_deleted(conn: WriteConn, context: Context, bot_id: str, key: str, deleted: bool) -> bool:
    """The delete event when a row went; returns `deleted`."""
    _after_commit(conn, context, [(kv_topic(bot_id), Change(key, None))] if deleted else [])
    return deleted


def bot_deleted(conn: WriteConn, context: Context, bot_id: str, deleted: bool) -> None:
    """A deleted bot completes its kvChanged subscriptions."""
    if deleted:
        context.broker.complete_after(conn, kv_topic(bot_id))


def audit_logged(conn: WriteConn, context: Context, row: MemoryAuditEntryRow | None) -> None:
    if row is not None:
        change = Change(row.id, row)
        _after_commit(conn, context, [(audit_topic(row.bot_id), change), (AUDIT_TOPIC, change)])


def _provider(conn: WriteConn, context: Context, name: str, row: ProviderHealthRow | None) -> None:
    change = Change(name, row)
    _after_commit(conn, context, [(provider_topic(name), change), (PROVIDER_TOPIC, change)])


def provider_saved(conn: WriteConn, context: Context, row: ProviderHealthRow) -> None:
    _provider(conn, context, row.name, row)


def provider_deleted(conn: WriteConn, context: Context, name: str, deleted: bool) -> bool:
    """The delete event when a row went; returns `deleted`."""
    if deleted:
        _provider(conn, context, name, None)
    return deleted


def draft_saved(conn: WriteConn, context: Context, row: BuilderDraftRow) -> None:
    _after_commit(conn, context, [(draft_topic(row.session_id), Change(row.session_id, row))])


def draft_deleted(conn: WriteConn, context: Context, session_id: str, deleted: bool) -> bool:
    """The delete event when a row went; returns `deleted`."""
    if deleted:
        _after_commit(conn, context, [(draft_topic(session_id), Change(session_id, None))])
    return deleted
