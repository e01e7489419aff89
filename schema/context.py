"""The typed per-request context every resolver receives, and the Info alias."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from db.codec import Clock, format_timestamp
from db.connection import Database
from db.settings import Settings

K = TypeVar("K")
V = TypeVar("V")

BatchLoad = Callable[["Context", Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Clock
    _loaders: dict[BatchLoad, DataLoader[Any, Any]] = field(default_factory=dict)

    def now(self) -> str:
        """The current moment in stored form."""
        return format_timestamp(self.clock())

    def loader(self, batch: BatchLoad) -> DataLoader[Any, Any]:
        """The request's DataLoader for this batch function (made on first use)."""
        found = self._loaders.get(batch)
        if found is None:

            async def load(keys: list[Any]) -> list[Any]:
                return list(await batch(self, keys))

            found = DataLoader(load_fn=load)
            self._loaders[batch] = found
        return found


Info = strawberry.Info[Context, None]
