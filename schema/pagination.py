"""Relay connections paged forward with keyset cursors (the sort key and id), never OFFSET."""

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from db.codec import MAX_INT64, MIN_INT64
from db.errors import ValidationError
from db.settings import Settings

T = TypeVar("T")

FIRST = "Page size, 1 to 500 (default 50); anything else is BAD_USER_INPUT."
AFTER = "Cursor (endCursor of the previous page); a malformed one is BAD_USER_INPUT."
R = TypeVar("R")


def page_size(first: int | None, settings: Settings) -> int:
    """The page size asked for; outside 1..max is BAD_USER_INPUT, never silently cut."""
    if first is None:
        return settings.default_page_size
    if not 1 <= first <= settings.max_page_size:
        raise ValidationError(f"first must be between 1 and {settings.max_page_size}, not {first}")
    return first


def encode_cursor(kind: str, *values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([kind, *values])).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str, arity: int) -> list[Any] | None:
    """The values of an `after` cursor made by encode_cursor(kind, ...); else BAD_USER_INPUT."""
    if cursor is None:
        return None
    try:
        if not cursor or len(cursor) > 2048:
            raise ValueError
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationError(f"malformed cursor '{cursor[:80]}'") from None
    if not isinstance(decoded, list) or len(decoded) != arity + 1 or decoded[0] != kind:
        raise ValidationError(f"cursor '{cursor[:80]}' does not belong to this list or order")
    values: list[Any] = decoded[1:]
    if not all(map(_storable, values)):
        raise ValidationError(f"cursor '{cursor[:80]}' holds a value out of range")
    return values


def _storable(value: Any) -> bool:
    """Whether a cursor value can be bound in SQL: orjson reads integers up to 2^64 - 1, the
    databases take 64-bit signed ones."""
    return not isinstance(value, int) or isinstance(value, bool) or MIN_INT64 <= value <= MAX_INT64


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page (true when `after` was given)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass it as `after` for the next page."
    )


@strawberry.type(description="An item and its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque cursor of this item.")


@strawberry.type(description="A page of a list, paged forward with first/after.")
class Connection(Generic[T]):
    nodes: list[T] = strawberry.field(description="The items.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more items follow.")
    _rows: strawberry.Private[Sequence[Any]]
    _cursor: strawberry.Private[Callable[[Any], str]]
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The items with their cursors.")
    def edges(self) -> list[Edge[T]]:
        # cursors are made only when a client asks for edges (most ask for nodes)
        return [
            Edge(node=node, cursor=self._cursor(row))
            for node, row in zip(self.nodes, self._rows, strict=True)
        ]

    @strawberry.field(description="How many items the whole list has (all pages).")
    async def total_count(self) -> int:
        return await self._count()


def build_connection(
    rows: Sequence[R],
    *,
    limit: int,
    after_given: bool,
    cursor: Callable[[R], str],
    node: Callable[[R], T],
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """A page from `rows` fetched with LIMIT limit + 1 (the extra row says a next page exists)."""
    page = rows[:limit]
    return Connection(
        nodes=[node(row) for row in page],
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=after_given,
            start_cursor=cursor(page[0]) if page else None,
            end_cursor=cursor(page[-1]) if page else None,
        ),
        _rows=page,
        _cursor=cursor,
        _count=count,
    )
