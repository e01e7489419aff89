"""GraphQL over HTTP: GET (queries only), POST JSON (single or batched), multipart uploads,
and GraphiQL.

A plain Starlette endpoint runs graphql-core's execute on the Strawberry schema with cached
documents (app/documents.py) and encodes with orjson: Strawberry's per-request wrappers cost
more than a small query (DESIGN.md section 6). Every limit, the error shape, CSRF protection
(app/csrf.py) and authorization (app/authorization.py) apply here; every answer, error or
result, is a GraphQL response in the media type the client accepts (app/responses.py).
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import ExecutionResult, get_operation_ast
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app import csrf, graphiql
from app.access import note_codes, note_operations
from app.auth import Authenticator, Principal
from app.authorization import HTTP_GET, HTTP_POST, Allowances, authorize
from app.documents import DocumentCache, Prepared
from app.engine.compiler import Declined
from app.engine.engine import Engine
from app.engine.plans import QueryPlan
from app.responses import (
    RequestError,
    error_response,
    graphql_response,
    negotiate,
    result_status,
)
from app.uploads import Placements, check_placements, serve_multipart
from app.variables import check_variables_size
from db.budget import ReadBudget, reading
from db.codec import load_json
from db.errors import PayloadTooLargeError, UnauthenticatedError
from db.settings import Settings
from schema.context import Context
from schema.errors import BAD_USER_INPUT, INTERNAL, MASKED_MESSAGE, coded_error, format_error

logger = logging.getLogger("boternity.graphql")
_JSON_TYPES = ("application/json", "application/graphql-response+json")
_NOT_AN_OPERATION = (
    'each operation must be a JSON object {"query": "...", "variables": {...}} '
    "(a batch is a list of them)"
)
_NO_QUERY = 'the request has no query: send {"query": "<a GraphQL document>"} (GET: ?query=...)'


@dataclass(frozen=True)
class _Plan:
    prepared: Prepared
    variables: dict[str, Any] | None
    name: str | None
    compiled: QueryPlan | Declined | None = None
    cost: int = 0


class GraphQLHTTP:
    def __init__(
        self,
        schema: strawberry.Schema,
        settings: Settings,
        make_context: Callable[[Request], Context],
        authenticator: Authenticator,
    ) -> None:
        self.engine = Engine(schema)
        self._schema = self.engine.schema
        self._settings = settings
        self._make_context = make_context
        self._authenticator = authenticator
        self.documents = DocumentCache(self._schema, settings)
        self._ide = graphiql.page(settings) if settings.graphiql else None

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The endpoint as a plain ASGI app (app/main.py routes POST /graphql here)."""
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        try:
            return await self._answer(request, media)
        except RequestError as error:
            note_codes(request.scope, [error.code])
            return error_response(media, error)
        except ClientDisconnect:  # nobody is listening any more: nothing to log
            return error_response(media, RequestError(400, "the client went away"))
        except Exception:
            logger.exception("unexpected error answering %s /graphql", request.method)
            return error_response(media, RequestError(500, MASKED_MESSAGE, INTERNAL))

    async def _answer(self, request: Request, media: str) -> Response:
        if request.method not in ("GET", "POST"):
            raise RequestError(
                405,
                f"/graphql answers GET (queries) and POST, not {request.method}",
                headers={"Allow": "GET, POST"},
            )
        if request.method == "GET":
            if "query" not in request.query_params and self._wants_html(request):
                if self._ide is None:
                    raise RequestError(404, "GraphiQL is switched off on this server")
                return graphiql.page_response(self._ide)
            _check_csrf(request)
            principal = await self._authenticate(request)
            operation = self._get_operation(request)
            return await self._respond(request, media, principal, [operation], False, HTTP_GET)
        kind = _content_type(request)
        if kind == "multipart/form-data":
            _check_csrf(request)
            principal = await self._authenticate(request)

            def run(
                operations: list[Any], batched: bool, placed: Placements
            ) -> Awaitable[Response]:
                return self._respond(
                    request, media, principal, operations, batched, HTTP_POST, placed
                )

            return await serve_multipart(request, self._settings, run)
        principal = await self._authenticate(request)
        operations, batched = await self._post_operations(request)
        return await self._respond(request, media, principal, operations, batched, HTTP_POST)

    async def _authenticate(self, request: Request) -> Principal:
        try:
            return await self._authenticator.authenticate(request.headers.get("authorization"))
        except UnauthenticatedError as error:
            raise RequestError(
                401, error.message, error.code, {"WWW-Authenticate": "Bearer"}
            ) from None

    @staticmethod
    def _wants_html(request: Request) -> bool:
        return "text/html" in request.headers.get("accept", "")

    def _get_operation(self, request: Request) -> dict[str, Any]:
        params = request.query_params
        if len(str(request.url.query)) > self._settings.max_body_bytes:
            raise RequestError(413, "the request is too large", PayloadTooLargeError.code)
        operation: dict[str, Any] = {
            "query": params.get("query"),
            "operationName": params.get("operationName") or None,
        }
        if params.get("variables"):
            operation["variables"] = _parse_json(params["variables"], "variables")
            if len(params["variables"]) > self._settings.max_variables_bytes:
                check_variables_size([operation], self._settings)
        return operation

    async def _post_operations(self, request: Request) -> tuple[list[dict[str, Any]], bool]:
        body = await self._read_body(request)
        payload = _parse_json(body, "the request body")
        if len(body) > self._settings.max_variables_bytes:
            check_variables_size(
                payload if isinstance(payload, list) else [payload], self._settings
            )
        if isinstance(payload, list):
            if not payload:
                raise RequestError(400, "an empty batch: send at least one operation")
            if len(payload) > self._settings.max_batch:
                raise RequestError(
                    400, f"a batch may hold at most {self._settings.max_batch} operations"
                )
            return payload, True
        return [payload], False

    async def _read_body(self, request: Request) -> bytes:
        limit = self._settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise RequestError(413, f"the body is over {limit} bytes", PayloadTooLargeError.code)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(
                    413, f"the body is over {limit} bytes", PayloadTooLargeError.code
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def _respond(
        self,
        request: Request,
        media: str,
        principal: Principal,
        operations: list[Any],
        batched: bool,
        allowed: Allowances,
        placements: Placements | None = None,
    ) -> Response:
        # Every operation is checked (shape, document, kind, scope) before any of them runs.
        placed = placements or {}
        planned = [
            self._plan(principal, operation, allowed, placed.get(index, []))
            for index, operation in enumerate(operations)
        ]
        self.documents.check_budget(sum(plan.cost for plan in planned))  # a batch as a whole
        budget = ReadBudget(self._settings.max_response_bytes)  # the whole request's (db/budget.py)
        with reading(budget):
            results = [await self._run(request, plan, budget) for plan in planned]
        note_operations(request.scope, planned, [payload for payload, _ in results])
        if batched:
            return graphql_response(media, [payload for payload, _ in results])
        payload, executed = results[0]
        return graphql_response(media, payload, result_status(media, executed))

    def _plan(
        self,
        principal: Principal,
        operation: Any,
        allowed: Allowances,
        uploads: list[tuple[str, list[str]]],
    ) -> _Plan:
        if not isinstance(operation, dict):
            raise RequestError(400, _NOT_AN_OPERATION)
        query = operation.get("query")
        variables = operation.get("variables")
        name = operation.get("operationName")
        extensions = operation.get("extensions")
        if not isinstance(query, str) or not query.strip():
            raise RequestError(400, _NO_QUERY)
        if variables is not None and not isinstance(variables, dict):
            raise RequestError(400, "variables must be a JSON object")
        if name is not None and not isinstance(name, str):
            raise RequestError(400, "operationName must be a string")
        if extensions is not None and not isinstance(extensions, dict):
            raise RequestError(400, "extensions must be a JSON object")
        prepared = self.documents.get(query)
        if prepared.document is None:
            return _Plan(prepared, variables, name)
        authorize(principal, prepared, name, allowed)
        if uploads:
            selected = get_operation_ast(prepared.document, name)
            assert selected is not None  # authorize found it
            check_placements(self._schema, selected, uploads)
        if name not in prepared.plans:
            prepared.plans[name] = self.engine.plan(prepared.document, name)
        cost = self.documents.operation_cost(prepared, name, variables)
        return _Plan(prepared, variables, name, prepared.plans[name], cost)

    async def _run(
        self, request: Request, plan: _Plan, budget: ReadBudget
    ) -> tuple[dict[str, Any], bool]:
        """The operation's result, and whether it executed (its variables coerced)."""
        if plan.prepared.document is None:
            return {"errors": plan.prepared.errors}, False
        assert plan.compiled is not None  # planned with the document
        contexts: list[Context] = []
        spent = budget.used

        def make_context() -> Context:
            if budget.exceeded:  # an earlier operation, or the abandoned compiled run: stop
                raise budget.error()
            if contexts:  # a rerun: what the abandoned compiled run read is not in the response
                budget.used = spent
            contexts.append(self._make_context(request))
            return contexts[-1]

        try:
            result = await self.engine.execute(
                plan.prepared.document, plan.compiled, make_context, plan.variables, plan.name
            )
        except PayloadTooLargeError as stopped:
            return _over_budget(budget, contexts, [stopped]), True
        if budget.exceeded:  # the reads stopped there: no partial response past the budget
            return _over_budget(budget, contexts, result.errors or []), True
        return _payload(result)


def _over_budget(
    budget: ReadBudget, contexts: list[Context], raised: Sequence[BaseException]
) -> dict[str, Any]:
    """The answer of an operation stopped by the response budget. What its stopped reads held
    is let go at once rather than by the cycle collector (hundreds of MB under repeated
    attacks): errors drop their tracebacks (their frames hold the rows read, and graphql-core
    keeps its errors where those frames see them), contexts their DataLoaders."""
    for context in contexts:
        context.forget_loaded()
    for each in raised:
        for link in (each, each.__cause__, each.__context__, getattr(each, "original_error", None)):
            if link is not None:
                link.__traceback__ = None
    error = budget.error()
    return {"errors": [coded_error(error.message, error.code)], "data": None}


def _payload(result: ExecutionResult) -> tuple[dict[str, Any], bool]:
    if result.data is None and result.errors and all(error.path is None for error in result.errors):
        # variable coercion failed before execution started
        return {"errors": [format_error(error, BAD_USER_INPUT) for error in result.errors]}, False
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [format_error(error, INTERNAL) for error in result.errors]
    payload["data"] = result.data
    return payload, True


def _check_csrf(request: Request) -> None:
    if not csrf.passes(request.headers):
        raise RequestError(400, csrf.REFUSAL)


def _content_type(request: Request) -> str:
    """The POST body's kind: multipart/form-data or JSON; anything else is refused (415)."""
    value = request.headers.get("content-type")
    kind = csrf.essence(value) if value is not None else None
    if kind in ("multipart/form-data", *_JSON_TYPES):
        return kind
    received = "no Content-Type" if value is None else f"Content-Type '{value}'"
    raise RequestError(
        415,
        f"the request has {received}: send Content-Type: application/json with a JSON body "
        '{"query": "..."} (multipart/form-data for file uploads)',
    )


def _parse_json(raw: str | bytes, what: str) -> Any:
    try:
        return load_json(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, f"{what} is not valid JSON") from None
    except RecursionError:
        raise RequestError(400, f"{what} is nested too deeply") from None
