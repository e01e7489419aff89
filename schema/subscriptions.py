"""What subscribers receive: one change event per changed thing, sent after the write commits,
in commit order."""

import strawberry

from schema.builder import BuilderDraft
from schema.kv import KvEntry
from schema.provider_health import ProviderHealth

_DELETED = "True when it was deleted (then the payload is null)."


@strawberry.type(
    description="One changed KV key, sent after the write commits, in commit order: setKvMany "
    "sends one per key; a delete has deleted: true and a null entry. When the bot is deleted, "
    "its kvChanged subscriptions complete."
)
class KvChange:
    bot_id: strawberry.ID = strawberry.field(description="The bot whose key changed.")
    key: str = strawberry.field(description="The key that changed.")
    entry: KvEntry | None = strawberry.field(
        description="The entry as committed; null when the key was deleted."
    )
    deleted: bool = strawberry.field(description=_DELETED)


@strawberry.type(description="One provider's health saved, recorded or deleted.")
class ProviderHealthChange:
    name: str = strawberry.field(description="The provider's name.")
    health: ProviderHealth | None = strawberry.field(
        description="The health as committed, computed at the moment of the write; null when "
        "deleted."
    )
    deleted: bool = strawberry.field(description=_DELETED)


@strawberry.type(description="One builder draft saved or deleted.")
class BuilderDraftChange:
    session_id: strawberry.ID = strawberry.field(description="The wizard session's UUID.")
    draft: BuilderDraft | None = strawberry.field(
        description="The draft as committed; null when deleted."
    )
    deleted: bool = strawberry.field(description=_DELETED)
