"""Live updates: the Subscription root. Each field checks its arguments when the client
subscribes (a bad one is an error before any event), then streams the changes that mutations
publish after they commit (resolvers/events.py), in commit order."""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from db.audit_log import MemoryAuditEntryRow
from db.bots import bot_exists
from db.broker import Change, Subscription
from db.builder import BuilderDraftRow
from db.codec import parse_timestamp, parse_uuid
from db.errors import ValidationError
from db.kv import KvEntryRow
from db.provider_health import ProviderHealthRow
from resolvers.events import (
    AUDIT_TOPIC,
    PROVIDER_TOPIC,
    audit_topic,
    draft_topic,
    kv_topic,
    provider_topic,
)
from resolvers.provider_health import provider_health_view
from schema.audit_log import MemoryAuditEntry
from schema.builder import BuilderDraft
from schema.context import Context, Info
from schema.inputs import check_text
from schema.kv import KvEntry, check_prefix
from schema.provider_health import NAME_RULE
from schema.subscriptions import BuilderDraftChange, KvChange, ProviderHealthChange


class _Events:
    """A subscription's events; each one starts the connection's loaders afresh, so nested
    fields (entry.bot) read current data. Closing it unsubscribes."""

    def __init__(self, context: Context, topic: str) -> None:
        self._context = context
        self._subscription: Subscription = context.broker.subscribe(topic)

    def __aiter__(self) -> "_Events":
        return self

    async def __anext__(self) -> Change:
        change = await self._subscription.__anext__()
        self._context.forget_loaded()
        return change

    def close(self) -> None:
        self._subscription.close()


async def _kv_changes(info: Info, bot_id: str, prefix: str) -> AsyncGenerator[KvChange, None]:
    changes = _Events(info.context, kv_topic(bot_id))
    try:
        # subscribed first, so a bot deleted meanwhile is either absent here or completes us
        if not await bot_exists(info.context.db.read(), id=bot_id):
            return
        async for change in changes:
            if change.key.startswith(prefix):  # a prefix of the text is a prefix of its bytes
                entry = change.row if isinstance(change.row, KvEntryRow) else None
                yield KvChange(
                    bot_id=strawberry.ID(bot_id),
                    key=change.key,
                    entry=None if entry is None else KvEntry.from_row(entry),
                    deleted=entry is None,
                )
    finally:
        changes.close()


async def _audit_entries(info: Info, topic: str) -> AsyncGenerator[MemoryAuditEntry, None]:
    changes = _Events(info.context, topic)
    try:
        async for change in changes:
            if isinstance(change.row, MemoryAuditEntryRow):
                yield MemoryAuditEntry.from_row(change.row)
    finally:
        changes.close()


async def _provider_changes(info: Info, topic: str) -> AsyncGenerator[ProviderHealthChange, None]:
    changes = _Events(info.context, topic)
    try:
        async for change in changes:
            row = change.row if isinstance(change.row, ProviderHealthRow) else None
            # as the mutation returned it: computed at the moment of the write
            health = (
                None
                if row is None
                else provider_health_view(row, info.context, parse_timestamp(row.updated_at))
            )
            yield ProviderHealthChange(name=change.key, health=health, deleted=row is None)
    finally:
        changes.close()


async def _draft_changes(info: Info, session_id: str) -> AsyncGenerator[BuilderDraftChange, None]:
    changes = _Events(info.context, draft_topic(session_id))
    try:
        async for change in changes:
            row = change.row if isinstance(change.row, BuilderDraftRow) else None
            yield BuilderDraftChange(
                session_id=strawberry.ID(session_id),
                draft=None if row is None else BuilderDraft.from_row(row),
                deleted=row is None,
            )
    finally:
        changes.close()


@strawberry.type(
    name="Subscription",
    description="Live updates over WebSocket (graphql-transport-ws at /graphql): each field "
    "streams events sent after the write commits, in commit order.",
)
class SubscriptionRoot:
    @strawberry.subscription(
        description="A bot's KV changes (optionally only keys with a prefix), one event per "
        "changed key after each commit; completes when the bot is deleted (at once when it "
        "does not exist)."
    )
    async def kv_changed(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description="The bot's id.")],
        prefix: Annotated[
            str | None,
            strawberry.argument(
                description="Only keys starting with exactly these bytes (case-sensitive, no "
                "wildcards)."
            ),
        ] = None,
    ) -> AsyncGenerator[KvChange, None]:
        return _kv_changes(info, parse_uuid(bot_id, "botId"), check_prefix(prefix))

    @strawberry.subscription(
        description="Each memory audit entry as it is logged (of one bot, or of every bot)."
    )
    async def audit_logged(
        self,
        info: Info,
        bot_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this bot's entries (default: every bot's)."),
        ] = None,
    ) -> AsyncGenerator[MemoryAuditEntry, None]:
        topic = AUDIT_TOPIC if bot_id is None else audit_topic(parse_uuid(bot_id, "botId"))
        return _audit_entries(info, topic)

    @strawberry.subscription(
        description="Each provider health change (saved, recorded call, deleted), of one "
        "provider or of every provider."
    )
    async def provider_health_changed(
        self,
        info: Info,
        name: Annotated[
            str | None,
            strawberry.argument(
                description="Only this provider (default: every provider). " + NAME_RULE
            ),
        ] = None,
    ) -> AsyncGenerator[ProviderHealthChange, None]:
        if name is None:
            return _provider_changes(info, PROVIDER_TOPIC)
        if not check_text(name, "name"):
            raise ValidationError("name must not be empty")
        return _provider_changes(info, provider_topic(name))

    @strawberry.subscription(description="Each save or delete of one builder draft.")
    async def builder_draft_changed(
        self,
        info: Info,
        session_id: Annotated[
            strawberry.ID, strawberry.argument(description="The wizard session's UUID.")
        ],
    ) -> AsyncGenerator[BuilderDraftChange, None]:
        return _draft_changes(info, parse_uuid(session_id, "sessionId"))
