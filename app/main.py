"""create_app: the Starlette app, its routes and its lifespan (connect, migrate, disconnect)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import Route, WebSocketRoute

from app.auth import Authenticator
from app.downloads import FileServing
from app.executor import install_direct_resolvers
from app.graphql_http import GraphQLHTTP
from app.health import healthz, readyz
from app.settings import prepare_data_dir
from app.websocket import GraphQLWebSocket
from db import backend
from db.codec import Clock, system_clock
from db.connection import Database
from db.migrate import migrate
from db.settings import Settings
from resolvers import build_schema
from schema.context import Context


def open_database(settings: Settings) -> Database:
    return backend.open_database(settings)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> Starlette:
    db = open_database(settings)
    authenticator = Authenticator(db, settings, clock)
    files = FileServing(db, settings, clock, authenticator)
    broker = backend.open_broker(settings, db)

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
    install_direct_resolvers(schema._schema)
    graphql = GraphQLHTTP(schema, settings, make_context, authenticator)
    websocket = GraphQLWebSocket(schema, settings, make_context, authenticator, graphql.documents)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        prepare_data_dir(settings)
        await db.connect()
        try:
            await migrate(db, clock)
            await files.start()
            await broker.start()
            yield
        finally:
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
    app = Starlette(
        routes=[
            Route("/graphql", graphql.handle, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", websocket),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *files.routes,
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.broker = broker
    app.state.content = files.content
    return app
