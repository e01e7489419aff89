"""GraphQL over HTTP: GET (queries only), POST JSON (single or batched), and GraphiQL.

A plain Starlette endpoint runs graphql-core's execute on the Strawberry schema with cached
documents (app/documents.py) and encodes with orjson: Strawberry's per-request wrappers cost
more than a small query (DESIGN.md section 6). Every limit, the error shape and CSRF
protection apply here.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from inspect import isawaitable
from typing import Any

import orjson
import strawberry
from graphql import ExecutionResult, execute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app import graphiql
from app.auth import Authenticator, Principal
from app.authorization import HTTP_GET, HTTP_POST, authorize
from app.documents import DocumentCache, Prepared
from app.engine.executor import FastExecutor, is_awaitable
from app.engine.plans import QueryPlan, compile_query
from app.engine.strawberry_adapter import graphql_schema
from app.responses import RequestError
from app.uploads import is_multipart, serve_multipart
from app.variables import check_variables_size
from db.codec import load_json
from db.errors import PayloadTooLargeError, UnauthenticatedError
from db.settings import Settings
from schema.context import Context
from schema.errors import BAD_USER_INPUT, INTERNAL, format_error

_PREFLIGHT_HEADERS = (
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
)
_SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


def encode(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:  # an integer beyond 64 bits, or a lone surrogate an error message quotes
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()  # \u escapes


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        encode(payload), status_code=status, media_type="application/json", headers=headers
    )


@dataclass(frozen=True)
class _Plan:
    prepared: Prepared
    variables: dict[str, Any] | None
    name: str | None
    compiled: QueryPlan | None = None
    cost: int = 0


class GraphQLHTTP:
    def __init__(
        self,
        schema: strawberry.Schema,
        settings: Settings,
        make_context: Callable[[Request], Context],
        authenticator: Authenticator,
    ) -> None:
        self._schema = graphql_schema(schema)
        self._settings = settings
        self._make_context = make_context
        self._authenticator = authenticator
        self.documents = DocumentCache(self._schema, settings)
        self.fallbacks = 0  # compiled runs that graphql-core had to answer instead
        self._ide = graphiql.page(settings) if settings.graphiql else None

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The endpoint as a plain ASGI app (app/main.py routes POST /graphql here)."""
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                if "query" not in request.query_params and self._wants_html(request):
                    if self._ide is None:
                        raise RequestError(404, "GraphiQL is switched off on this server")
                    return graphiql.page_response(self._ide)
                principal = await self._authenticate(request)
                self._check_preflight(request)
                operation = self._get_operation(request)
                return await self._respond(request, principal, [operation], False, False)
            principal = await self._authenticate(request)
            if is_multipart(request):
                self._check_preflight(request)
                run = partial(self._respond, request, principal, post=True)
                return await serve_multipart(request, self._settings, run)
            operations, batched = await self._post_operations(request)
            return await self._respond(request, principal, operations, batched, True)
        except RequestError as error:
            headers = {"Allow": "POST"} if error.status == 405 else None
            if error.status == 401:
                headers = {"WWW-Authenticate": "Bearer"}
            return json_response({"errors": [error.error]}, error.status, headers)

    async def _authenticate(self, request: Request) -> Principal:
        try:
            return await self._authenticator.authenticate(request.headers.get("authorization"))
        except UnauthenticatedError as error:
            raise RequestError(401, error.message, error.code) from None

    @staticmethod
    def _wants_html(request: Request) -> bool:
        return "text/html" in request.headers.get("accept", "")

    @staticmethod
    def _check_preflight(request: Request) -> None:
        """CSRF protection as Apollo's csrfPrevention: a request a browser could send without a
        preflight (GET, or a simple content type) must carry a non-simple header."""
        if any(request.headers.get(name) for name in _PREFLIGHT_HEADERS):
            return
        raise RequestError(
            400,
            "this request needs a non-empty Apollo-Require-Preflight (or X-Apollo-Operation-Name, "
            "GraphQL-Require-Preflight) header: CSRF protection",
        )

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
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in _SIMPLE_TYPES:
            self._check_preflight(request)
        if content_type not in ("application/json", "application/graphql-response+json", ""):
            raise RequestError(
                415, f"unsupported content type '{content_type}'; send application/json"
            )
        body = await self._read_body(request)
        payload = _parse_json(body, "the request body")
        if len(body) > self._settings.max_variables_bytes:
            check_variables_size(
                payload if isinstance(payload, list) else [payload], self._settings
            )
        if isinstance(payload, list):
            if not payload:
                raise RequestError(400, "an empty batch")
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
        principal: Principal,
        operations: list[Any],
        batched: bool,
        post: bool,
    ) -> Response:
        # Every operation is checked (shape, document, kind, scope) before any of them runs.
        planned = [self._plan(principal, operation, post) for operation in operations]
        self.documents.check_budget(sum(plan.cost for plan in planned))  # a batch as a whole
        results = [await self._run(request, plan) for plan in planned]
        if batched:
            return json_response([payload for payload, _ in results])
        payload, status = results[0]
        return json_response(payload, status)

    def _plan(self, principal: Principal, operation: Any, allow_mutation: bool) -> _Plan:
        if not isinstance(operation, dict):
            raise RequestError(400, "each operation must be a JSON object")
        query = operation.get("query")
        variables = operation.get("variables")
        name = operation.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise RequestError(400, "the request has no query string")
        if variables is not None and not isinstance(variables, dict):
            raise RequestError(400, "variables must be a JSON object")
        if name is not None and not isinstance(name, str):
            raise RequestError(400, "operationName must be a string")
        prepared = self.documents.get(query)
        if prepared.document is None:
            return _Plan(prepared, variables, name)
        authorize(principal, prepared, name, HTTP_POST if allow_mutation else HTTP_GET)
        if name not in prepared.plans:
            prepared.plans[name] = compile_query(self._schema, prepared.document, name)
        cost = self.documents.operation_cost(prepared, name, variables)
        return _Plan(prepared, variables, name, prepared.plans[name], cost)

    async def _run(self, request: Request, plan: _Plan) -> tuple[dict[str, Any], int]:
        if plan.prepared.document is None:
            return {"errors": plan.prepared.errors}, 400
        if plan.compiled is not None:
            try:
                return await plan.compiled.run(
                    self._schema, self._make_context(request), plan.variables
                ), 200
            except Exception:  # Fallback, or an error graphql-core reports properly
                self.fallbacks += 1
        result = execute(
            self._schema,
            plan.prepared.document,
            context_value=self._make_context(request),
            variable_values=plan.variables,
            operation_name=plan.name,
            executor_class=FastExecutor,
            is_awaitable=is_awaitable,
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return _payload(result)


def _payload(result: ExecutionResult) -> tuple[dict[str, Any], int]:
    if result.data is None and result.errors and all(error.path is None for error in result.errors):
        # variable coercion failed before execution started
        return {"errors": [format_error(error, BAD_USER_INPUT) for error in result.errors]}, 400
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [format_error(error, INTERNAL) for error in result.errors]
    payload["data"] = result.data
    return payload, 200


def _parse_json(raw: str | bytes, what: str) -> Any:
    try:
        return load_json(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, f"{what} is not valid JSON") from None
    except RecursionError:
        raise RequestError(400, f"{what} is nested too deeply") from None
