"""Bot files: what each file operation does. Thin: validate, call db, map to types.

Content goes to the content store inside the metadata transaction (db/content.py: on disk
before the commit, removed again on rollback; or in the database); content no version names any
more goes with the delete that made it so.
"""

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from db import bots as db_bots
from db import files as db_files
from db.codec import new_id, parse_uuid
from db.connection import WriteConn
from db.content import ContentStore, StagedFile
from db.errors import NotFoundError, ValidationError
from resolvers.filenames import filename_problem
from resolvers.mime import mime_type_for, normalize_mime_type
from schema.context import Context, Info
from schema.files import (
    FileVersionConnection,
    StorageFile,
    StorageFileConnection,
    UpdateFileInput,
    file_pages,
    file_versions,
    files_by_name,
    forget_loaded_files,
)
from schema.inputs import check_text, given_fields
from schema.pagination import AFTER, FIRST

_BOT_ID = "The bot's id."
_FILENAME = (
    "1 to 255 bytes of UTF-8; no '/', '\\', NUL, control or format characters; not '.' or '..'."
)


def check_filename(filename: str) -> str:
    problem = filename_problem(filename)
    if problem is not None:
        raise ValidationError(problem)
    return filename


def content_store(context: Context) -> ContentStore:
    if context.content is None:
        raise RuntimeError("the app was built without a content store")
    return context.content


async def release_bot_content(conn: WriteConn, context: Context, bot_id: str) -> None:
    """deleteBot, before deleting the bot: the bot held (PostgreSQL row lock, in the order
    db/files.py gives); its files' content that no other version names goes with it."""
    await db_bots.lock_bot(conn, id=bot_id, exclusive=True)
    await db_files.release_bot_content(conn, bot_id=bot_id, store=content_store(context))


@strawberry.type
class FileQuery:
    @strawberry.field(description="One file of a bot by filename; null when absent.")
    async def file(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        filename: Annotated[str, strawberry.argument(description="The file's name.")],
    ) -> StorageFile | None:
        (file,) = await files_by_name(info.context, [parse_uuid(bot_id, "botId")], filename)
        return file

    @strawberry.field(description="A bot's files in filename order (byte order).")
    async def files(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> StorageFileConnection:
        (page,) = await file_pages(info.context, [parse_uuid(bot_id, "botId")], first, after)
        return page

    @strawberry.field(description="A file's versions, newest first (the current one included).")
    async def file_versions(
        self,
        info: Info,
        file_id: Annotated[strawberry.ID, strawberry.argument(description="The file's id.")],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> FileVersionConnection:
        return await file_versions(info, parse_uuid(file_id, "fileId"), first, after)


@strawberry.type
class FileMutation:
    @strawberry.mutation(
        description="Upload a file (GraphQL multipart request). A new filename creates the file "
        "at version 1; an existing one gets the next version, keeping id and createdAt "
        "(mimeType re-derived from the extension, isIndexed reset to false). NOT_FOUND for an "
        "unknown bot; over the size limit (50 MiB by default) is PAYLOAD_TOO_LARGE."
    )
    async def upload_file(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        filename: Annotated[str, strawberry.argument(description=_FILENAME)],
        file: Annotated[
            Upload, strawberry.argument(description="The content: a part of a multipart request.")
        ],
    ) -> StorageFile:
        owner = parse_uuid(bot_id, "botId")
        name = check_filename(filename)
        if not isinstance(file, StagedFile):
            raise ValidationError("file must be a file part of a multipart request")
        store = content_store(info.context)
        async with info.context.db.write() as conn:
            if not await db_bots.lock_bot(conn, id=owner):
                raise NotFoundError(f"no bot with id {owner}")
            row = await db_files.create_version(
                conn,
                file_id=new_id(),
                version_id=new_id(),
                bot_id=owner,
                filename=name,
                mime_type=mime_type_for(name),
                content=file,
                store=store,
                now=info.context.now(),
            )
        forget_loaded_files(info.context)
        return StorageFile.from_row(row)

    @strawberry.mutation(
        description="Change a file's mimeType or isIndexed; NOT_FOUND when absent."
    )
    async def update_file(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The file's id.")],
        input: Annotated[UpdateFileInput, strawberry.argument(description="What to change.")],
    ) -> StorageFile:
        file_id = parse_uuid(id)
        changes = given_fields(input)
        if "mime_type" in changes:
            mime_type = normalize_mime_type(check_text(changes["mime_type"], "mimeType"))
            if mime_type is None:
                raise ValidationError(f"mimeType '{input.mime_type}' is not a type/subtype string")
            changes["mime_type"] = mime_type
        async with info.context.db.write() as conn:
            row = await db_files.update_file(
                conn, id=file_id, changes=changes, now=info.context.now()
            )
        if row is None:
            raise NotFoundError(f"no file with id {file_id}")
        forget_loaded_files(info.context)
        return StorageFile.from_row(row)

    @strawberry.mutation(
        description="Delete a file with every version and the content no other version uses; "
        "NOT_FOUND when absent. Returns the file's id."
    )
    async def delete_file(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        filename: Annotated[str, strawberry.argument(description="The file's name.")],
    ) -> strawberry.ID:
        owner = parse_uuid(bot_id, "botId")
        name = check_filename(filename)
        store = content_store(info.context)
        async with info.context.db.write() as conn:
            file_id = await db_files.delete_file(conn, bot_id=owner, filename=name, store=store)
        await store.settle()
        if file_id is None:
            raise NotFoundError(f"bot {owner} has no file named '{name}'")
        forget_loaded_files(info.context)
        return strawberry.ID(file_id)
