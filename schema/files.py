"""Bot files as clients see them: StorageFile, FileVersion, their connections, the update input,
signed download URLs, and the per-request loaders behind Bot.files, Bot.file,
StorageFile.versions and their totalCount."""

from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Annotated, Any, TypeVar

import strawberry

from db import files as db_files
from db.errors import ValidationError
from db.files import BotFileRow, FileVersionRow
from schema.bots import Bot, parent_bots
from schema.context import Context, Info, level_resolver
from schema.inputs import check_text
from schema.node import Node
from schema.pagination import (
    AFTER,
    FIRST,
    Connection,
    build_connection,
    decode_cursor,
    encode_cursor,
    page_size,
)
from schema.scalars import DateTime, Long

_FILE_CURSOR = "file"
_VERSION_CURSOR = "fileVersion"
P = TypeVar("P", bound=Hashable)
R = TypeVar("R")


def content_path(file_id: str, version: int | None = None) -> str:
    """The download route of a file's current content, or of one of its versions."""
    if version is None:
        return f"/files/{file_id}/content"
    return f"/files/{file_id}/versions/{version}/content"


def _signed_url(context: Context, path: str) -> str:
    if context.signer is None:
        raise RuntimeError("the app was built without a URL signer")
    return context.signer.sign(path, context.clock())


_URL_NOTE = (
    " A signed URL (exp and sig), valid for 15 minutes by default; the content is sent as an"
    " attachment."
)


@strawberry.type(description="One stored version of a file's content.")
class FileVersion(Node):
    id: strawberry.ID = strawberry.field(description="The version's UUID (v7).")
    file_id: strawberry.ID = strawberry.field(description="The file it is a version of.")
    version: int = strawberry.field(description="1 for the first upload, +1 per upload.")
    size_bytes: Long = strawberry.field(description="Size of the content in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, lowercase hex.")
    created_at: DateTime = strawberry.field(description="When this version was uploaded.")

    @strawberry.field(description="HTTP path that returns this version's content." + _URL_NOTE)
    def download_url(self, info: Info) -> str:
        return _signed_url(info.context, content_path(self.file_id, self.version))

    @classmethod
    def from_row(cls, row: FileVersionRow) -> "FileVersion":
        return cls(
            id=strawberry.ID(row.id),
            file_id=strawberry.ID(row.file_id),
            version=row.version,
            size_bytes=Long(row.size_bytes),
            sha256=row.sha256,
            created_at=DateTime(row.created_at),
        )


FileVersionConnection = Connection[FileVersion]


@strawberry.type(description="A bot's file: its current version, with the history in versions.")
class StorageFile(Node):
    id: strawberry.ID = strawberry.field(
        description="The file's UUID (v7), stable across versions."
    )
    bot_id: strawberry.ID = strawberry.field(description="The bot the file belongs to.")
    filename: str = strawberry.field(description="Unique per bot; files sort in byte order.")
    mime_type: str = strawberry.field(
        description="From the extension on each upload; updateFile can set it."
    )
    size_bytes: Long = strawberry.field(description="Size of the current content in bytes.")
    version: int = strawberry.field(description="1 on first upload, +1 per upload.")
    is_indexed: bool = strawberry.field(description="Set by updateFile; reset on each upload.")
    created_at: DateTime = strawberry.field(description="When the first version was uploaded.")
    updated_at: DateTime = strawberry.field(description="When it was last uploaded or updated.")

    @strawberry.field(description="Every stored version, newest first (the current one included).")
    async def versions(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> FileVersionConnection:
        return await file_versions(info, self.id, first, after)

    @strawberry.field(description="HTTP path that returns the current content." + _URL_NOTE)
    def download_url(self, info: Info) -> str:
        return _signed_url(info.context, content_path(self.id))

    @strawberry.field(
        description="The bot the file belongs to.", metadata=level_resolver(parent_bots)
    )
    async def bot(self, info: Info) -> Bot:
        (bot,) = await parent_bots(info.context, [self])
        return bot

    @classmethod
    def from_row(cls, row: BotFileRow) -> "StorageFile":
        return cls(
            id=strawberry.ID(row.id),
            bot_id=strawberry.ID(row.bot_id),
            filename=row.filename,
            mime_type=row.mime_type,
            size_bytes=Long(row.size_bytes),
            version=row.version,
            is_indexed=row.is_indexed,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
        )


StorageFileConnection = Connection[StorageFile]


@strawberry.input(description="Changes to a file's metadata: omitted fields are left as they are.")
class UpdateFileInput:
    mime_type: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A type/subtype string such as text/plain (no parameters); stored lowercase.",
    )
    is_indexed: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether the file is in the bot's search index."
    )


async def _load_pages(
    keys: Sequence[tuple[str, P, int]],
    fetch: Callable[[list[str], P, int], Awaitable[dict[str, list[R]]]],
) -> list[list[R]]:
    """Pages by (parent, cursor, limit): one statement per distinct (cursor, limit)."""
    groups: dict[tuple[P, int], list[str]] = {}
    for parent, after, limit in keys:
        groups.setdefault((after, limit), []).append(parent)
    found: dict[tuple[str, P, int], list[R]] = {}
    for (after, limit), parents in groups.items():
        pages = await fetch(list(dict.fromkeys(parents)), after, limit)
        found.update({(parent, after, limit): pages[parent] for parent in parents})
    return [found[key] for key in keys]


async def load_file_pages(
    context: Context, keys: Sequence[tuple[str, tuple[str, str] | None, int]]
) -> list[list[BotFileRow]]:
    """Pages of files by (bot_id, cursor, limit)."""
    conn = context.db.read()
    return await _load_pages(
        keys,
        lambda ids, after, limit: db_files.list_files(conn, bot_ids=ids, after=after, limit=limit),
    )


async def load_version_pages(
    context: Context, keys: Sequence[tuple[str, tuple[int, str] | None, int]]
) -> list[list[FileVersionRow]]:
    """Pages of versions by (file_id, cursor, limit)."""
    conn = context.db.read()
    return await _load_pages(
        keys,
        lambda ids, after, limit: db_files.list_versions(
            conn, file_ids=ids, after=after, limit=limit
        ),
    )


async def load_file_counts(context: Context, bot_ids: Sequence[str]) -> list[int]:
    """File counts by bot_id, one statement per load."""
    counts = await db_files.count_files(context.db.read(), bot_ids=bot_ids)
    return [counts[bot_id] for bot_id in bot_ids]


async def load_version_counts(context: Context, file_ids: Sequence[str]) -> list[int]:
    """Version counts by file_id, one statement per load."""
    counts = await db_files.count_versions(context.db.read(), file_ids=file_ids)
    return [counts[file_id] for file_id in file_ids]


async def load_files_by_name(
    context: Context, keys: Sequence[tuple[str, str]]
) -> list[StorageFile | None]:
    """Files by (bot_id, filename), one statement per load."""
    found = await db_files.get_files_by_name(context.db.read(), keys=keys)
    return [None if (row := found.get(key)) is None else StorageFile.from_row(row) for key in keys]


def forget_loaded_files(context: Context) -> None:
    """After a file write: later fields of the same request must not see cached pages."""
    for load in (
        load_file_pages,
        load_version_pages,
        load_file_counts,
        load_version_counts,
        load_files_by_name,
    ):
        context.loader(load).clear_all()


def _cursor(after: str | None, kind: str, types: tuple[type, type]) -> Any:
    """The (sort key, id) of an `after` cursor, or None; anything else is BAD_USER_INPUT."""
    values = decode_cursor(after, kind, 2)
    if values is None:
        return None
    if any(
        isinstance(value, bool) or not isinstance(value, expected)
        for value, expected in zip(values, types, strict=True)
    ):
        raise ValidationError(f"malformed cursor '{after}'")
    return (values[0], values[1])


async def file_pages(
    context: Context,
    bot_ids: Sequence[str],
    first: int | None = None,
    after: str | None = None,
) -> list[StorageFileConnection]:
    """A page of each bot's files in filename (byte) order (files, Bot.files): one statement
    per request."""
    limit = page_size(first, context.settings)
    cursor = _cursor(after, _FILE_CURSOR, (str, str))
    loader = context.loader(load_file_pages)
    pages = await loader.load_many([(bot_id, cursor, limit + 1) for bot_id in bot_ids])
    return [
        build_connection(
            rows,
            limit=limit,
            after_given=cursor is not None,
            cursor=lambda row: encode_cursor(_FILE_CURSOR, row.filename, row.id),
            node=StorageFile.from_row,
            count=partial(context.loader(load_file_counts).load, bot_id),
        )
        for bot_id, rows in zip(bot_ids, pages, strict=True)
    ]


async def file_versions(
    info: Info, file_id: str, first: int | None, after: str | None
) -> FileVersionConnection:
    """A file's versions, newest first: level_resolver across the files of a page."""
    limit = page_size(first, info.context.settings)
    cursor = _cursor(after, _VERSION_CURSOR, (int, str))
    rows = await info.context.loader(load_version_pages).load((file_id, cursor, limit + 1))
    return build_connection(
        rows,
        limit=limit,
        after_given=cursor is not None,
        cursor=lambda row: encode_cursor(_VERSION_CURSOR, row.version, row.id),
        node=FileVersion.from_row,
        count=lambda: info.context.loader(load_version_counts).load(file_id),
    )


async def files_by_name(
    context: Context, bot_ids: Sequence[str], filename: str
) -> list[StorageFile | None]:
    """One file of each bot by name, null when absent (file, Bot.file): one statement per
    request."""
    name = check_text(filename, "filename")
    found: list[StorageFile | None] = await context.loader(load_files_by_name).load_many(
        [(bot_id, name) for bot_id in bot_ids]
    )
    return found
