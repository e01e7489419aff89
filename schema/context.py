"""The typed per-request context every resolver receives, and the Info alias."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from db.broker import Broker
from db.codec import Clock, format_timestamp
from db.connection import Database
from db.content import ContentStore
from db.errors import PayloadTooLargeError
from db.settings import Settings
from db.signing import UrlSigner

K = TypeVar("K")
V = TypeVar("V")

LoadMany = Callable[["Context", Sequence[Any]], Awaitable[Sequence[Any]]]


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose shared futures survive one awaiter's cancellation.

    graphql-core 3.3 cancels the sibling fields of a field whose error nulls their parent, and
    cancelling a task cancels the future it awaits: a sibling awaiting a load's future that
    another field also awaits (the same key, cached) cancelled it for both, and CancelledError
    escaped a plain read. Each load hands its awaiter a shield of the shared future, so a
    cancelled awaiter leaves the load, and its result, to the others."""

    def load(self, key: K) -> "asyncio.Future[V]":
        return asyncio.shield(super().load(key))


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Clock
    _loaders: dict[LoadMany, SharedLoader[Any, Any]] = field(default_factory=dict)
    # file content and signed download URLs (app/main.py sets them)
    content: ContentStore | None = None
    signer: UrlSigner | None = None
    # where mutations publish live-update events (resolvers/events.py)
    broker: Broker = field(kw_only=True)

    def now(self) -> str:
        """The current moment in stored form."""
        return format_timestamp(self.clock())

    def loader(self, load_many: LoadMany) -> SharedLoader[Any, Any]:
        """The request's DataLoader for `load_many` (made on first use). It loads many keys
        at once and does not cache: a row used twice in the response is read (and charged to the
        response budget, db/budget.py) twice."""
        found = self._loaders.get(load_many)
        if found is None:

            async def load(keys: list[Any]) -> list[Any]:
                try:
                    return list(await load_many(self, keys))
                except PayloadTooLargeError as error:
                    message = error.message
                # Past the response budget: a fresh error per key, handed over as values, not
                # raised through the DataLoader (whose frame and futures would keep it, and
                # the first error's traceback holds every row the stopped read fetched).
                return [PayloadTooLargeError(message) for _ in keys]

            found = SharedLoader(load_fn=load, cache=False)
            self._loaders[load_many] = found
        return found

    def forget_loaded(self) -> None:
        """Drop the loaders: a WebSocket's context lives as long as the connection, so each
        subscription event starts with fresh loaders and reads current data."""
        self._loaders.clear()


Info = strawberry.Info[Context, None]


# A field's level resolver, declared with `strawberry.field(metadata=level_resolver(function))`:
# `await function(context, sources, **arguments)` resolves the field for all the sources of a
# level at once (app/engine/plans.py), one value per source in their order. It must answer exactly
# what the field's own resolver answers for each source, and raise where that one raises.
LevelResolver = Callable[..., Awaitable[Sequence[Any]]]
LEVEL_RESOLVER = "boternity-level-resolver"


def level_resolver(function: LevelResolver) -> dict[str, LevelResolver]:
    """Field metadata declaring `function` the field's level resolver."""
    return {LEVEL_RESOLVER: function}
