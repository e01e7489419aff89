"""File uploads: the GraphQL multipart request spec (jaydenseric/graphql-multipart-request-spec).

The body is parsed as it streams (python-multipart): the `operations` and `map` fields are kept
in memory (at most 1 MiB together); each file part goes to a temp file under <data dir>/tmp
while its size and sha256 are computed, so a file never sits whole in memory. Past the per-file
limit (or a body over that limit plus 1 MiB) nothing more is stored: the rest of the body is
read and discarded up to 128 MiB so the client gets the PAYLOAD_TOO_LARGE error, and beyond
that the connection is closed after the HTTP 413. The staged files take the places the map
names in the operations' variables, and the operations run like any POST. The request's temp
files are removed when it ends, whatever happened.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_nullable_type,
    type_from_ast,
)
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import Response

from app.responses import GraphQLRequestError, RequestError
from db.codec import load_json
from db.content import ContentStore, ContentWriter, StagedFile
from db.errors import PayloadTooLargeError, StorageError
from db.settings import Settings
from schema.errors import storage_error_json

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELDS_LIMIT = 1024 * 1024
DRAIN_LIMIT = 128 * 1024 * 1024
_FIELDS = ("operations", "map")

# where each file went, by operation index: (the map path, its keys from "variables" on)
Placements = dict[int, list[tuple[str, list[str]]]]
Run = Callable[[list[Any], bool, Placements], Awaitable[Response]]


def _too_large(message: str) -> RequestError:
    return RequestError(413, message, PayloadTooLargeError.code)


async def serve_multipart(request: Request, settings: Settings, run: Run) -> Response:
    """Receive a multipart request, run its operations with `run`, and remove its temp files.
    A refused body is read to its end first (up to DRAIN_LIMIT), so the client sees the error;
    beyond that the answer closes the connection."""
    receiver = _Receiver(request, request.app.state.content, settings)
    try:
        try:
            operations, batched, placements = await receiver.receive()
        except RequestError as refused:
            if not await receiver.drain():
                refused.headers = {**(refused.headers or {}), "Connection": "close"}
            raise
        except StorageError as failed:  # the disk is full or the data dir is not writable
            unwritable = RequestError(507, failed.message, failed.code)
            unwritable.errors = [storage_error_json(failed)]
            if not await receiver.drain():
                unwritable.headers = {"Connection": "close"}
            raise unwritable from None
        return await run(operations, batched, placements)
    finally:
        receiver.cleanup()


class _Receiver:
    """The streaming parser's callbacks: fields into memory, file parts into temp files."""

    def __init__(self, request: Request, store: ContentStore, settings: Settings) -> None:
        self._request = request
        self._store = store
        self._settings = settings
        self._body_limit = settings.max_file_bytes + FIELDS_LIMIT
        self._stream = request.stream()
        declared = request.headers.get("content-length", "")
        self._declared = int(declared) if declared.isdigit() else 0
        self.received = 0
        self._fields: dict[str, bytearray] = {}
        self._field_bytes = 0
        self._map: dict[str, list[str]] | None = None
        self._writers: dict[str, ContentWriter] = {}
        self._part = ""
        self._writer: ContentWriter | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header = [b"", b""]
        self._ended = False

    async def receive(self) -> tuple[list[Any], bool, Placements]:
        _, options = parse_options_header(self._request.headers.get("content-type"))
        boundary = options.get(b"boundary")
        if not boundary:
            raise RequestError(400, "the multipart body has no boundary")
        if self._declared > self._body_limit:
            raise _too_large(f"the request body is over {self._body_limit} bytes")
        parser = MultipartParser(boundary, self._callbacks())
        try:
            async for chunk in self._stream:
                self.received += len(chunk)
                if self.received > self._body_limit:
                    raise _too_large(f"the request body is over {self._body_limit} bytes")
                parser.write(chunk)
        except MultipartParseError:
            raise RequestError(400, "the multipart body is malformed") from None
        if not self._ended:
            raise RequestError(400, "the multipart body ends before its closing boundary")
        return await self._operations()

    async def drain(self) -> bool:
        """Read and discard the rest of the body up to DRAIN_LIMIT; whether it all came."""
        if self._declared > DRAIN_LIMIT:
            return False
        async for chunk in self._stream:
            self.received += len(chunk)
            if self.received > DRAIN_LIMIT:
                return False
        return True

    def cleanup(self) -> None:
        for writer in self._writers.values():
            writer.discard()

    def _callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": lambda data, start, end: self._add_header(0, data[start:end]),
            "on_header_value": lambda data, start, end: self._add_header(1, data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._writer = None

    def _add_header(self, which: int, data: bytes) -> None:
        self._header[which] += data

    def _on_header_end(self) -> None:
        self._headers[self._header[0].lower()] = self._header[1]
        self._header = [b"", b""]

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        try:
            name = options[b"name"].decode()
        except (KeyError, UnicodeDecodeError):
            raise RequestError(400, "a multipart part has no (UTF-8) name") from None
        if name in self._fields or name in self._writers:
            raise RequestError(400, f"the multipart part '{name}' appears twice")
        self._part = name
        if name in _FIELDS:
            if name == "map" and "operations" not in self._fields:
                raise RequestError(400, "the operations field must come before the map field")
            self._fields[name] = bytearray()
            return
        if self._map is None:
            raise RequestError(400, "file parts must follow the operations and map fields")
        if name not in self._map:
            raise RequestError(400, f"the file part '{name}' is not named in the map")
        self._writer = self._writers[name] = self._store.new_writer()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._writer is None:
            self._field_bytes += len(chunk)
            if self._field_bytes > FIELDS_LIMIT:
                raise _too_large(f"the operations and map fields are over {FIELDS_LIMIT} bytes")
            self._fields[self._part] += chunk
            return
        if self._writer.size + len(chunk) > self._settings.max_file_bytes:
            self._writer.discard()  # stop storing at once
            limit = self._settings.max_file_bytes
            raise _too_large(f"the file in part '{self._part}' is over {limit} bytes")
        self._writer.write(chunk)

    def _on_part_end(self) -> None:
        if self._part == "map":
            self._map = _parse_map(self._fields["map"], self._settings.max_upload_files)

    def _on_end(self) -> None:
        self._ended = True

    async def _operations(self) -> tuple[list[Any], bool, Placements]:
        if self._map is None:
            raise RequestError(400, "the multipart body needs the operations and map fields")
        missing = sorted(set(self._map) - set(self._writers))
        if missing:
            raise RequestError(400, f"the map names file part '{missing[0]}', which was not sent")
        payload = _parse_json(self._fields["operations"], "the operations field")
        batched = isinstance(payload, list)
        operations = payload if batched else [payload]
        if not operations or len(operations) > self._settings.max_batch:
            raise RequestError(400, f"a batch holds 1 to {self._settings.max_batch} operations")
        placements: Placements = {}
        for name, writer in self._writers.items():
            staged = await asyncio.to_thread(writer.finish)
            for path in self._map[name]:
                index, keys = _place(operations, path, staged, batched)
                placements.setdefault(index, []).append((path, keys))
        return operations, batched, placements


def _parse_json(raw: bytearray, what: str) -> Any:
    try:
        return load_json(bytes(raw))
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, f"{what} is not valid JSON") from None
    except RecursionError:
        raise RequestError(400, f"{what} is nested too deeply") from None


def _parse_map(raw: bytearray, max_files: int) -> dict[str, list[str]]:
    found = _parse_json(raw, "the map field")
    if not isinstance(found, dict) or not all(
        isinstance(paths, list) and paths and all(isinstance(path, str) for path in paths)
        for paths in found.values()
    ):
        raise RequestError(400, "the map field must map each file part to a list of paths")
    if len(found) > max_files:
        raise RequestError(400, f"a request may upload at most {max_files} files")
    return found


def _place(
    operations: list[Any], path: str, staged: StagedFile, batched: bool
) -> tuple[int, list[str]]:
    """Put a staged file where a map path points, inside an operation's variables: the
    operation's index and the path's keys from "variables" on."""
    keys = path.split(".")
    index = keys.pop(0) if batched else "0"
    if not index.isdigit() or int(index) >= len(operations) or keys[:1] != ["variables"]:
        raise RequestError(
            400, f"the map path '{path}' does not point into an operation's variables"
        )
    node: Any = operations[int(index)]
    for key in keys[:-1]:
        node = _step(node, key, path)
    if isinstance(node, dict):
        node[keys[-1]] = staged
    elif isinstance(node, list) and keys[-1].isdigit() and int(keys[-1]) < len(node):
        node[int(keys[-1])] = staged
    else:
        raise RequestError(400, f"the map path '{path}' does not name a variable")
    return int(index), keys


def check_placements(
    schema: GraphQLSchema, operation: OperationDefinitionNode, placed: list[tuple[str, list[str]]]
) -> None:
    """Each file must go where the operation's variable types expect an Upload; elsewhere (a
    JSON value, a String) it is BAD_USER_INPUT naming the variable, before anything runs."""
    declared = {
        each.variable.name.value: each.type for each in operation.variable_definitions or ()
    }
    for path, keys in placed:
        if len(keys) < 2 or keys[1] not in declared:
            continue  # not a variable of this operation: graphql-core ignores it
        variable_type = type_from_ast(schema, declared[keys[1]])
        kind: Any = variable_type
        for key in keys[2:]:
            kind = _field_type(kind, key)
        named = get_nullable_type(kind) if kind is not None else None
        if not (isinstance(named, GraphQLScalarType) and named.name == "Upload"):
            raise GraphQLRequestError(
                f"the variable ${keys[1]} is {variable_type}, not Upload: the file mapped to "
                f"'{path}' cannot go there"
            )


def _field_type(kind: GraphQLInputType | None, key: str) -> GraphQLInputType | None:
    """The type at `key` inside an input type (a list index, an input field), or None."""
    nullable = get_nullable_type(kind) if kind is not None else None
    if isinstance(nullable, GraphQLList) and key.isdigit():
        return cast("GraphQLInputType", nullable.of_type)
    if isinstance(nullable, GraphQLInputObjectType) and key in nullable.fields:
        field_type: GraphQLInputType = nullable.fields[key].type
        return field_type
    return None


def _step(node: Any, key: str, path: str) -> Any:
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    raise RequestError(400, f"the map path '{path}' does not name a variable")
