"""create_app(settings) -> Starlette: routes, middleware, lifespan; nothing else."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial

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
from portal.events import event_bus
from portal.graphql_app import PortalGraphQL
from portal.mail.worker import MailWorker
from portal.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from portal.models.db import create_engine, create_sessionmaker
from portal.observability.access import AccessLogMiddleware
from portal.observability.metrics import Metrics
from portal.resolvers.documents.visibility import accessible_document_ids
from portal.resolvers.downloads import (
    DOWNLOAD_PATH,
    DownloadProducer,
    MergePool,
    TicketKind,
    documents_job,
)
from portal.schema import build_schema
from portal.settings import Settings
from portal.startup import StartupError, check_database
from portal.storage import document_storage
from portal.web.graphiql import graphiql_routes

logger = logging.getLogger(__name__)


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


def app_from_environment() -> Starlette:
    """The app of one ``portal serve --workers N`` worker process, configured from the
    environment its parent prepared (the database URL resolved, migrations run)."""
    from portal.observability.logs import configure_logging

    settings = Settings()
    configure_logging(
        json_format=settings.logs_as_json,
        level=settings.log_level,
        dedup_window_seconds=settings.log_dedup_window_seconds,
    )
    return create_app(settings)


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
        echo=settings.db_echo,
        connect_timeout=settings.db_connect_timeout_seconds,
    )
    if sessionmaker is None:
        sessionmaker = create_sessionmaker(engine)
    keys = load_or_create_keys(
        key_file=settings.signing_key_file,
        data_dir=settings.resolved_data_dir,
        previous_key_files=settings.previous_signing_keys,
    )
    tokens = TokenService(
        keys=keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    tracer_provider = None
    tracing = None
    if settings.otlp_endpoint:
        from portal.observability.tracing import GraphQLTracing, start_tracing

        engines = [engine]
        bound = getattr(sessionmaker.kw.get("bind"), "engine", None)
        if isinstance(bound, AsyncEngine) and bound is not engine:
            engines.append(bound)  # a sessionmaker given by the caller (tests) on its own engine
        provider = tracer_provider = start_tracing(
            endpoint=settings.otlp_endpoint,
            service_name=settings.otel_service_name,
            engines=engines,
        )

        def tracing() -> GraphQLTracing:
            return GraphQLTracing(tracer_provider=provider)

    schema = build_schema(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        tracing=tracing,
    )
    events = event_bus(redis_url=settings.redis_url, prefix=settings.redis_prefix)
    storage = document_storage(settings)
    graphql = PortalGraphQL(
        schema, settings=settings, sessionmaker=sessionmaker, tokens=tokens, events=events
    )
    merges = MergePool(settings.download_max_concurrent_merges)
    producers: dict[str, DownloadProducer] = {
        TicketKind.DOCUMENTS: partial(
            documents_job, storage=storage, accessible=accessible_document_ids
        ),
    }
    downloads = DownloadEndpoint(
        sessionmaker=sessionmaker,
        tokens=tokens,
        producers=producers,
        merges=merges,
        claim_lease=timedelta(seconds=settings.download_claim_lease_seconds),
    )

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    database_url = settings.database_url

    async def readyz(request: Request) -> Response:
        # A connection of its own, never one of the request pool: a busy pool is not a sick
        # database, and a load balancer must not drop an instance for being busy.
        try:
            await check_database(database_url, within=settings.readiness_timeout_seconds)
        except StartupError as error:
            logger.warning("readiness check failed: %s", error)
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    async def jwks(request: Request) -> Response:
        return JSONResponse(keys.public_jwks(), headers={"Cache-Control": "public, max-age=300"})

    metrics = Metrics(
        engine=engine,
        database_url=settings.database_url,
        timeout=settings.readiness_timeout_seconds,
    )
    metrics.watch(
        subscriptions=lambda: events.subscriber_count,
        merges_running=lambda: merges.running,
        merges_waiting=lambda: merges.waiting,
    )
    mail_worker = MailWorker(
        sessionmaker=sessionmaker,
        settings=settings,
        on_report=lambda report: metrics.observe_deliveries(
            "EMAIL", delivered=report.delivered, retrying=report.retrying, failed=report.failed
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await warn_if_row_level_security_is_bypassed(engine)
        await events.start()
        if settings.mail_worker_enabled:
            mail_worker.start()
        try:
            yield
        finally:
            await mail_worker.stop()
            await events.close()
            merges.shutdown()
            if tracer_provider is not None:
                tracer_provider.shutdown()
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
    if settings.metrics_enabled:
        routes.append(Route("/metrics", metrics.endpoint, methods=["GET"]))
    if settings.graphiql_enabled:
        routes.extend(graphiql_routes())
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware, observe=metrics.observe_request),
            Middleware(SecurityHeadersMiddleware),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.tokens = tokens
    app.state.schema = schema
    app.state.graphql = graphql
    app.state.events = events
    app.state.mail_worker = mail_worker
    app.state.storage = storage
    app.state.downloads = downloads
    app.state.merges = merges
    app.state.metrics = metrics
    app.state.tracer_provider = tracer_provider
    return app
