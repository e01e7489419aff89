"""create_app: the Starlette app, its routes and its lifespan (connect, migrate, disconnect)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app import graphiql, home
from app.access import Access
from app.auth import Authenticator
from app.downloads import FileServing
from app.graphql_http import GraphQLHTTP
from app.health import healthz, readyz
from app.hosts import HostCheck
from app.metrics import Metrics
from app.settings import prepare_data_dir
from app.websocket import GraphQLWebSocket
from db import backend
from db.codec import Clock, system_clock
from db.connection import Database
from db.migrate import migrate
from db.settings import Settings
from resolvers import build_schema
from schema.context import Context

_HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class App(Starlette):
    """Starlette, behind the Host check (app/hosts.py: every HTTP request and WebSocket
    handshake, before any route), with POST /graphql handed straight to its endpoint when no
    middleware is configured (CORS off): the error and exception middleware, the router and
    the request wrapper cost about 15% of a one-row query (DESIGN.md section 6). The endpoint
    answers an unexpected exception itself (logged, then a GraphQL response with HTTP 500), so
    nothing needs Starlette's error middleware."""

    direct_post: ASGIApp | None = None
    hosts: HostCheck | None = None
    access: Access | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.access is not None:
            await self.access(self._dispatch, scope, receive, send)  # request id, log, metrics
            return
        await self._dispatch(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hosts is not None and scope["type"] != "lifespan" and not self.hosts.allows(scope):
            await self.hosts.refuse(scope, receive, send)
            return
        if (
            self.direct_post is not None
            and scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] == "POST"
        ):
            scope["app"] = self
            await self.direct_post(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def open_database(settings: Settings) -> Database:
    return backend.open_database(settings)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> App:
    db = open_database(settings)
    authenticator = Authenticator(db, settings, clock)
    files = FileServing(db, settings, clock, authenticator)
    broker = backend.open_broker(settings, db)
    metrics = Metrics(settings, db, authenticator)

    def make_context(request: HTTPConnection) -> Context:
        return Context(
            db=db,
            settings=settings,
            clock=clock,
            content=files.content,
            signer=files.signer,
            broker=broker,
        )

    schema = build_schema()
    graphql = GraphQLHTTP(schema, settings, make_context, authenticator)
    metrics.watch_fallbacks(graphql.engine.fallbacks)
    websocket = GraphQLWebSocket(
        schema, settings, make_context, authenticator, graphql.documents, metrics.observe_ws
    )
    metrics.watch_subscriptions(lambda: websocket.feeds.members)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        prepare_data_dir(settings)
        await db.connect()
        try:
            await migrate(db, clock)
            await files.start()
            await broker.start()
            await websocket.sockets.start()
            metrics.start()
            yield
        finally:
            await metrics.stop()
            await websocket.sockets.close()
            await files.stop()
            await broker.close()  # open subscriptions complete
            await db.disconnect()

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            )
        )
    app = App(
        routes=[
            # every method: the endpoint answers those it does not serve (405, a GraphQL error)
            Route("/graphql", graphql.handle, methods=_HTTP_METHODS),
            WebSocketRoute("/graphql", websocket),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            *files.routes,
            *graphiql.routes(settings),
            *home.routes(settings),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    if not middleware:
        app.direct_post = graphql.asgi
    app.access = Access(metrics)
    app.hosts = HostCheck(settings)
    app.state.db = db
    app.state.graphql = graphql
    app.state.make_context = make_context  # the context every resolver gets (and tests)
    app.state.settings = settings
    app.state.broker = broker
    app.state.websocket = websocket
    app.state.content = files.content
    app.state.files = files
    app.state.metrics = metrics
    return app
