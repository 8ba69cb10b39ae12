"""create_app(settings) -> Starlette: routes, middleware, lifespan; nothing else."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from functools import partial
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from portal.auth.discovery import METADATA_PATH, metadata_endpoint
from portal.auth.keys import load_or_create_keys
from portal.auth.oauth import token_endpoint
from portal.auth.tokens import TokenService
from portal.collector import serving_collector
from portal.download_app import DownloadEndpoint
from portal.envelope import Envelope
from portal.events import event_bus
from portal.graphql_app import PortalGraphQL
from portal.log_redaction import install_log_redaction
from portal.mail.worker import MailWorker
from portal.middleware import ErrorContractMiddleware
from portal.models.db import create_engine, create_sessionmaker
from portal.observability.metrics import Metrics
from portal.production import configuration_problems, demo_data_present, refuse
from portal.ratelimit import BucketPolicy, buckets_for
from portal.resolvers.authorizations.printing import authorization_job
from portal.resolvers.documents.visibility import visible_documents_condition
from portal.resolvers.downloads import (
    DOWNLOAD_PATH,
    DownloadProducer,
    MergePool,
    TicketKind,
    documents_job,
)
from portal.resolvers.ingestion.isolation import PDF_CHECKER, PdfCheckLimits
from portal.schema import build_schema
from portal.schema.limits import Budgets, QueryLimits
from portal.settings import Settings
from portal.startup import StartupError, check_database
from portal.storage import document_storage
from portal.web.account_pages import account_routes
from portal.web.graphiql import graphiql_routes
from portal.webhooks.worker import WebhookWorker

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


# Cross-origin callers (PORTAL_CORS_ORIGINS) send a bearer token and JSON or a multipart upload;
# they may read the request id, the auth challenge and a download's file name.
CORS_ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Request-ID")
CORS_EXPOSED_HEADERS = ("X-Request-ID", "WWW-Authenticate", "Content-Disposition", "Retry-After")
CORS_MAX_AGE_SECONDS = 600


def cors_middleware(origins: list[str]) -> Middleware:
    """CORS for the listed origins on every route (``/graphql``, ``/oauth/token``, downloads):
    preflight answered, no credentials mode (bearer tokens are headers, never cookies)."""
    return Middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=list(CORS_ALLOWED_HEADERS),
        expose_headers=list(CORS_EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=CORS_MAX_AGE_SECONDS,
    )


class PortalApp(Starlette):
    """Starlette inside one envelope (``portal.envelope``), which answers every failure itself:
    the stack ``enveloped`` wraps is Starlette's without its outermost layer (a plain-text 500),
    ``middleware``, the exception layer and the router."""

    def __init__(self, *, enveloped: Callable[[ASGIApp], ASGIApp], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._enveloped = enveloped

    def build_middleware_stack(self) -> ASGIApp:
        handlers = {
            key: value
            for key, value in self.exception_handlers.items()
            if key not in (500, Exception)
        }
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=handlers, debug=self.debug)
        for layer, args, kwargs in reversed(self.user_middleware):
            app = layer(app, *args, **kwargs)
        return self._enveloped(app)


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
    install_log_redaction()
    refuse(configuration_problems(settings))
    PDF_CHECKER.limits = PdfCheckLimits(
        memory_bytes=settings.pdf_check_memory_bytes,
        cpu_seconds=settings.pdf_check_cpu_seconds,
        max_inflated_bytes=settings.pdf_max_inflated_bytes,
    )
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
        tracing=tracing,
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
    events = event_bus(redis_url=settings.redis_url, prefix=settings.redis_prefix)
    storage = document_storage(settings)
    graphql = PortalGraphQL(
        schema, settings=settings, sessionmaker=sessionmaker, tokens=tokens, events=events
    )
    merges = MergePool(settings.download_max_concurrent_merges)
    producers: dict[str, DownloadProducer] = {
        TicketKind.DOCUMENTS: partial(
            documents_job, storage=storage, visible=visible_documents_condition
        ),
        TicketKind.AUTHORIZATION: authorization_job,
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
    webhook_worker = WebhookWorker(sessionmaker=sessionmaker, settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.is_production:
            async with engine.connect() as connection:
                if await demo_data_present(connection):
                    refuse(["the database holds the demo data (its people share one password)"])
        await warn_if_row_level_security_is_bypassed(engine)
        await events.start()
        if settings.mail_worker_enabled:
            mail_worker.start()
        if settings.webhook_worker_enabled:
            webhook_worker.start()
        try:
            # The merge workers start now, so no download waits for one (a second or two, once).
            await merges.start()
        except Exception as error:  # downloads start them when first needed (and say why not)
            logger.warning("merge worker processes not started: %s", error)
        try:
            with serving_collector() if settings.gc_tuning else contextlib.nullcontext():
                yield
        finally:
            PDF_CHECKER.close()
            await webhook_worker.stop()
            await mail_worker.stop()
            await events.close()
            merges.shutdown()
            if tracer_provider is not None:
                tracer_provider.shutdown()
            await buckets.close()
            await engine.dispose()

    # Every method reaches the endpoint: it answers all but POST with a JSON 405 itself.
    graphql_route = Route("/graphql", graphql)
    routes: list[BaseRoute] = [
        graphql_route,
        # Subscriptions (graphql-transport-ws): the same endpoint, authenticated in connection_init.
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(METADATA_PATH, metadata_endpoint, methods=["GET"]),
        Route("/oauth/token", token_endpoint, methods=["POST"]),
        Route(DOWNLOAD_PATH + "/{token}", downloads.endpoint, methods=["GET"]),
    ]
    # The pages emailed links open (set a password, reset it), unless the web app serves them.
    routes.extend(account_routes())
    if settings.metrics_enabled:
        routes.append(Route("/metrics", metrics.endpoint, methods=["GET"]))
    if settings.serves_graphiql:
        routes.extend(graphiql_routes())
    proxies = [entry.strip() for entry in settings.trusted_proxies.split(",") if entry.strip()]
    # With CORS: inside the envelope (preflight answers carry the request id and the security
    # headers), outside the error contract (a browser can read a failure's JSON).
    inner = (
        [cors_middleware(settings.cors_origins), Middleware(ErrorContractMiddleware)]
        if settings.cors_origins
        else []
    )

    def enveloped(stack: ASGIApp) -> ASGIApp:
        direct: ASGIApp = graphql
        for layer, args, kwargs in reversed(inner):
            direct = layer(direct, *args, **kwargs)
        app: ASGIApp = Envelope(
            stack,
            observe=metrics.observe_request,
            hsts=settings.is_production,
            contract=not inner,
            shortcut=graphql_route,
            shortcut_app=direct,
        )
        # First, so every later layer (audit, lockouts, logs) sees the real client address.
        if proxies:
            app = cast("ASGIApp", ProxyHeadersMiddleware(cast("Any", app), trusted_hosts=proxies))
        return app

    app = PortalApp(routes=routes, middleware=inner, lifespan=lifespan, enveloped=enveloped)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.tokens = tokens
    app.state.schema = schema
    app.state.buckets = buckets
    app.state.graphql = graphql
    app.state.events = events
    app.state.mail_worker = mail_worker
    app.state.webhook_worker = webhook_worker
    app.state.storage = storage
    app.state.downloads = downloads
    app.state.merges = merges
    app.state.metrics = metrics
    app.state.tracer_provider = tracer_provider
    return app
