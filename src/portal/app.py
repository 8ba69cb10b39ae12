"""create_app(settings) -> Starlette: routes, middleware, lifespan; nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from portal.auth.keys import load_or_create_keys
from portal.auth.oauth import token_endpoint
from portal.auth.tokens import TokenService
from portal.download_app import DownloadEndpoint
from portal.events import EventHub
from portal.graphql_app import PortalGraphQL
from portal.mail.worker import MailWorker
from portal.middleware import (
    ErrorContractMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from portal.models.db import create_engine, create_sessionmaker
from portal.ratelimit import BucketPolicy, buckets_for
from portal.resolvers.documents.visibility import accessible_document_ids
from portal.resolvers.downloads import DOWNLOAD_PATH
from portal.schema import build_schema
from portal.schema.limits import Budgets, QueryLimits
from portal.settings import Settings
from portal.storage import document_storage
from portal.web.graphiql import graphiql_routes

logger = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 2.0


async def warn_if_row_level_security_is_bypassed(engine: AsyncEngine) -> None:
    """Row-level security is the second tenant wall; a superuser connection walks around it."""
    try:
        async with engine.connect() as connection:
            bypasses = await connection.scalar(
                sa.text(
                    "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
                )
            )
    except Exception as error:  # startup must not fail on a check that only warns
        logger.warning("could not check the database role: %s", type(error).__name__)
        return
    if bypasses:
        logger.warning(
            "the database role bypasses row-level security (superuser or BYPASSRLS): "
            "connect as a plain role that owns the tables"
        )


def create_app(
    settings: Settings, *, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> Starlette:
    """``sessionmaker`` lets tests bind every request to one connection they roll back."""
    if settings.database_url is None:
        raise ValueError("create_app needs a database URL; `portal serve` starts the embedded one")
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        application_name=settings.db_application_name,
        echo=settings.db_echo,
    )
    if sessionmaker is None:
        sessionmaker = create_sessionmaker(engine)
    keys = load_or_create_keys(
        key_file=settings.signing_key_file, data_dir=settings.resolved_data_dir
    )
    tokens = TokenService(
        keys=keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    buckets = buckets_for(settings.redis_url)
    schema = build_schema(
        limits=QueryLimits(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_fields=settings.graphql_max_fields,
            max_cost=settings.graphql_max_cost,
            max_string_length=settings.graphql_max_string_length,
            max_list_length=settings.graphql_max_list_length,
        ),
        max_tokens=settings.graphql_max_tokens,
        budgets=(
            Budgets(
                buckets=buckets,
                signed_in=BucketPolicy(
                    settings.rate_limit_points, settings.rate_limit_points_per_second
                ),
                anonymous=BucketPolicy(
                    settings.rate_limit_anonymous_points, settings.rate_limit_points_per_second
                ),
            )
            if settings.rate_limit_points > 0
            else None
        ),
    )
    events = EventHub()
    storage = document_storage(settings)
    graphql = PortalGraphQL(
        schema, settings=settings, sessionmaker=sessionmaker, tokens=tokens, events=events
    )
    downloads = DownloadEndpoint(
        sessionmaker=sessionmaker,
        tokens=tokens,
        storage=storage,
        accessible=accessible_document_ids,
    )

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception as error:  # any failure to reach the database means not ready
            logger.warning("readiness check failed: %s", type(error).__name__)
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    async def jwks(request: Request) -> Response:
        return JSONResponse(keys.public_jwks(), headers={"Cache-Control": "public, max-age=300"})

    mail_worker = MailWorker(sessionmaker=sessionmaker, settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await warn_if_row_level_security_is_bypassed(engine)
        if settings.mail_worker_enabled:
            mail_worker.start()
        try:
            yield
        finally:
            await mail_worker.stop()
            await buckets.close()
            await engine.dispose()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        # Subscriptions (graphql-transport-ws): the same endpoint, authenticated in connection_init.
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/oauth/token", token_endpoint, methods=["POST"]),
        Route(DOWNLOAD_PATH + "/{token}", downloads.endpoint, methods=["GET"]),
    ]
    if settings.graphiql_enabled:
        routes.extend(graphiql_routes())
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(ErrorContractMiddleware),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.tokens = tokens
    app.state.schema = schema
    app.state.buckets = buckets
    app.state.graphql = graphql
    app.state.events = events
    app.state.mail_worker = mail_worker
    app.state.storage = storage
    app.state.downloads = downloads
    return app
