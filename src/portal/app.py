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
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from portal.auth.discovery import METADATA_PATH, metadata_endpoint
from portal.auth.keys import load_or_create_keys
from portal.auth.oauth import token_endpoint
from portal.auth.tokens import TokenService
from portal.download_app import DownloadEndpoint
from portal.events import EventHub
from portal.graphql_app import PortalGraphQL
from portal.log_redaction import install_log_redaction
from portal.mail.worker import MailWorker
from portal.middleware import (
    ErrorContractMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from portal.models.db import create_engine, create_sessionmaker
from portal.production import configuration_problems, demo_data_present, refuse
from portal.resolvers.documents.visibility import accessible_document_ids
from portal.resolvers.downloads import DOWNLOAD_PATH
from portal.resolvers.ingestion.isolation import PDF_CHECKER, PdfCheckLimits
from portal.schema import build_schema
from portal.settings import Settings
from portal.storage import document_storage
from portal.web.account_pages import account_routes
from portal.web.graphiql import graphiql_routes
from portal.webhooks.worker import WebhookWorker

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
        key_file=settings.signing_key_file, data_dir=settings.resolved_data_dir
    )
    tokens = TokenService(
        keys=keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    schema = build_schema(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
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
    webhook_worker = WebhookWorker(sessionmaker=sessionmaker, settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.is_production:
            async with engine.connect() as connection:
                if await demo_data_present(connection):
                    refuse(["the database holds the demo data (its people share one password)"])
        await warn_if_row_level_security_is_bypassed(engine)
        if settings.mail_worker_enabled:
            mail_worker.start()
        if settings.webhook_worker_enabled:
            webhook_worker.start()
        try:
            yield
        finally:
            PDF_CHECKER.close()
            await webhook_worker.stop()
            await mail_worker.stop()
            await engine.dispose()

    routes: list[BaseRoute] = [
        # Every method reaches the endpoint: it answers all but POST with a JSON 405 itself.
        Route("/graphql", graphql),
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
    if settings.serves_graphiql:
        routes.extend(graphiql_routes())
    proxies = [entry.strip() for entry in settings.trusted_proxies.split(",") if entry.strip()]
    middleware = [
        # First, so every later layer (audit, lockouts, logs) sees the real client address.
        *([Middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)] if proxies else []),
        Middleware(RequestIdMiddleware),
        Middleware(SecurityHeadersMiddleware, hsts=settings.is_production),
    ]
    if settings.cors_origins:
        # Inside the request id and security headers (preflight answers carry them too), outside
        # the error contract (a browser can read a failure's JSON).
        middleware.append(cors_middleware(settings.cors_origins))
    middleware.append(Middleware(ErrorContractMiddleware))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.tokens = tokens
    app.state.schema = schema
    app.state.graphql = graphql
    app.state.events = events
    app.state.mail_worker = mail_worker
    app.state.webhook_worker = webhook_worker
    app.state.storage = storage
    app.state.downloads = downloads
    return app
