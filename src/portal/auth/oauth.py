"""``POST /oauth/token``: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for employers' HR
systems (``api_clients``) and the provider's own systems (``provider_clients``, ingestion).

authlib's ``AuthorizationServer`` and ``ClientCredentialsGrant`` do the protocol work: client
authentication (``client_secret_basic`` and ``client_secret_post``), grant type dispatch, scope
checks and the RFC 6749 §5.1/§5.2 response bodies and headers. authlib ships no Starlette *server*
integration and its server machinery is synchronous (``query_client`` returns a client, it cannot
await one), so this module is that integration, split in three steps:

1. async: read the form body and load the one client the request names (if any);
2. sync, in a worker thread: run authlib over that snapshot (argon2 verification and JWT signing
   are CPU work that must not block the event loop);
3. async: record ``last_used_at`` when a token was issued.

A token never outlives a revocation: ``portal.auth.resolve`` re-reads the client on every request.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import anyio.to_thread
import sqlalchemy as sa
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InsecureTransportError,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    JsonPayload,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    scope_to_list,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from portal.auth.passwords import hash_password, verify_password
from portal.auth.principal import Principal, PrincipalKind
from portal.auth.scopes import EMPLOYER_SCOPES, PROVIDER_SCOPES
from portal.auth.tokens import SubjectKind, TokenService
from portal.middleware import request_id_of
from portal.models import ApiClient, ProviderClient
from portal.models.db import AccountScope, set_scope
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events

logger = logging.getLogger(__name__)

GRANT_TYPE = "client_credentials"
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 20
# ApiClient.client_id is at most 64 characters; a longer one cannot exist and needs no query.
MAX_CLIENT_ID_LENGTH = 64
# One answer for an unknown client, a wrong secret and a revoked client: nothing to enumerate.
CLIENT_AUTHENTICATION_FAILED = "Client authentication failed."
# Parameters that must not repeat (RFC 6749 §3.2).
SINGLE_PARAMETERS = ("grant_type", "scope", "client_id", "client_secret")


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the client is unknown, so both cases cost one argon2 run."""
    return hash_password(uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class OAuthClient(ClientMixin):  # type: ignore[misc]
    """A snapshot of one live (not revoked) ``api_clients`` or ``provider_clients`` row, as
    authlib's client model."""

    id: uuid.UUID
    # The employer account; None for a provider client.
    account_id: uuid.UUID | None
    subject_kind: SubjectKind
    client_id: str
    secret_hash: str
    scopes: frozenset[str]

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        # argon2 verification compares in constant time.
        return verify_password(self.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes if the client holds them all; every scope it holds if none asked."""
        if not scope:
            return " ".join(sorted(self.scopes))
        requested = set(scope_to_list(scope))
        if not requested <= self.scopes:
            return None
        return " ".join(sorted(requested))


class _UnknownClient(ClientMixin):  # type: ignore[misc]
    """Stands in for a client id that does not exist (or is revoked): it never authenticates."""

    def get_client_id(self) -> str:
        return ""

    def check_client_secret(self, client_secret: str) -> bool:
        verify_password(_decoy_hash(), client_secret)
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return False

    def get_allowed_scope(self, scope: str | None) -> None:
        return None


@dataclass(frozen=True, slots=True)
class BufferedRequest:
    """What authlib needs of a Starlette request, read before the synchronous part runs."""

    method: str
    url: str
    headers: Headers
    query: Sequence[tuple[str, str]] = ()
    form: Sequence[tuple[str, str]] = ()
    body: bytes = b""


class StarletteOAuth2Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            datalist[key].append(value)
        self._datalist = datalist
        self._data = {key: values[0] for key, values in datalist.items()}

    @property
    def data(self) -> Mapping[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: BufferedRequest) -> None:
        # authlib refuses a non-HTTPS URL here (loopback excepted), as RFC 6749 §2.3.1 requires
        # for client credentials; ``_buffer`` has already refused plain HTTP from any peer not on
        # this machine (behind a TLS proxy, name it in PORTAL_TRUSTED_PROXIES).
        super().__init__(method=request.method, uri=request.url, headers=request.headers)
        self._request = request
        # Token endpoint parameters come from the form body only, never from the query string.
        self.payload = StarletteOAuth2Payload(request.form)

    @property
    def args(self) -> Mapping[str, str]:
        return dict(self._request.query)

    @property
    def form(self) -> Mapping[str, str]:
        data: Mapping[str, str] = self.payload.data
        return data


class StarletteJsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, body: bytes) -> None:
        self._body = body

    @property
    def data(self) -> Any:
        return json.loads(self._body) if self._body else {}


class StarletteJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, request: BufferedRequest) -> None:
        super().__init__(request.method, request.url, request.headers)
        self.payload = StarletteJsonPayload(request.body)


class PortalClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()  # only scopes this server knows
        if self.request.client.get_allowed_scope(self.request.payload.scope) is None:
            raise InvalidScopeError()

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Same as authlib's, without its debug log line that would print the access token.
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class TokenServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server bound to one request's client snapshot (one per request)."""

    def __init__(self, *, tokens: TokenService, client: OAuthClient | None) -> None:
        super().__init__(scopes_supported=sorted(EMPLOYER_SCOPES | PROVIDER_SCOPES))
        self._tokens = tokens
        self._client = client
        self.issued_to: OAuthClient | None = None
        self.register_grant(PortalClientCredentialsGrant)
        self.register_token_generator("default", self._generate_token)

    # -- what authlib asks of a framework integration --

    def query_client(self, client_id: str) -> ClientMixin:
        if self._client is not None and self._client.client_id == client_id:
            return self._client
        return _UnknownClient()

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs: nothing to store; remember who got one.
        client = request.client
        assert isinstance(client, OAuthClient)
        self.issued_to = client

    def create_oauth2_request(self, request: BufferedRequest | OAuth2Request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return StarletteOAuth2Request(request)

    def create_json_request(self, request: BufferedRequest) -> JsonRequest:
        return StarletteJsonRequest(request)

    def handle_response(
        self, status_code: int, payload: Any, headers: Sequence[tuple[str, str]]
    ) -> Response:
        content = json.dumps(payload) if isinstance(payload, dict) else str(payload)
        return Response(content, status_code=status_code, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib announces ``after_authenticate_client``; nothing here listens."""

    def handle_error_response(self, request: OAuth2Request | None, error: OAuth2Error) -> Response:
        if isinstance(error, InvalidClientError):
            # The same status, body and challenge whichever way authentication failed.
            error = InvalidClientError(status_code=401, description=CLIENT_AUTHENTICATION_FAILED)
        response: Response = super().handle_error_response(request, error)
        return response

    def create_token_response(self, request: BufferedRequest | None = None) -> Response:
        try:
            oauth_request = self.create_oauth2_request(request)
            _check_parameters(oauth_request)
        except OAuth2Error as error:
            return self.handle_error_response(None, error)
        response: Response = super().create_token_response(oauth_request)
        return response

    # -- token generation --

    def _generate_token(
        self,
        grant_type: str,
        client: OAuthClient,
        user: object = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        allowed = client.get_allowed_scope(scope)
        if allowed is None:
            raise InvalidScopeError()
        scopes = frozenset(scope_to_list(allowed))
        access_token, lifetime = self._tokens.mint(
            kind=client.subject_kind, subject_id=client.id, scopes=scopes
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": allowed,
        }


def _check_parameters(request: OAuth2Request) -> None:
    datalist = request.payload.datalist
    for name in SINGLE_PARAMETERS:
        if len(datalist.get(name, [])) > 1:
            raise InvalidRequestError(f"Repeated '{name}' parameter.")
    if not request.payload.grant_type:
        raise InvalidRequestError("Missing 'grant_type' parameter.")
    if request.headers.get("Authorization") and "client_secret" in datalist:
        raise InvalidRequestError("Use one client authentication method, not several.")


def _over_tls_or_loopback(request: Request) -> bool:
    """Whether the request came over HTTPS (as the server, or a proxy in PORTAL_TRUSTED_PROXIES,
    saw it) or from this machine. authlib decides from the URL, whose host is the client's own
    ``Host`` header: a remote client saying ``Host: localhost`` must not pass as local."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


async def _buffer(request: Request) -> BufferedRequest:
    if not _over_tls_or_loopback(request):
        raise InsecureTransportError()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise InvalidRequestError(f"The body must be {FORM_CONTENT_TYPE}.")
    body = await request.body()
    try:
        form = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError as error:  # undecodable bytes or too many fields
        raise InvalidRequestError("The form body cannot be read.") from error
    return BufferedRequest(
        method=request.method,
        url=str(request.url),
        headers=request.headers,
        query=list(request.query_params.multi_items()),
        form=form,
        body=body,
    )


def _presented_client_id(request: BufferedRequest) -> str | None:
    client_id, _ = extract_basic_authorization(request.headers)
    if not client_id:
        client_id = dict(request.form).get("client_id")
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        return None
    return client_id


async def _load_client(
    sessionmaker: async_sessionmaker[AsyncSession], client_id: str | None
) -> OAuthClient | None:
    if client_id is None:
        return None
    async with sessionmaker() as session:
        # No principal exists yet: the lookup by client id must see every account's clients.
        set_scope(session, AccountScope.everything())
        employer = (
            await session.execute(
                sa.select(
                    col(ApiClient.id),
                    col(ApiClient.account_id),
                    col(ApiClient.client_id),
                    col(ApiClient.secret_hash),
                    col(ApiClient.scopes),
                ).where(col(ApiClient.client_id) == client_id, col(ApiClient.revoked_at).is_(None))
            )
        ).one_or_none()
        if employer is not None:
            return OAuthClient(
                id=employer.id,
                account_id=employer.account_id,
                subject_kind=SubjectKind.CLIENT,
                client_id=employer.client_id,
                secret_hash=employer.secret_hash,
                scopes=frozenset(employer.scopes) & EMPLOYER_SCOPES,
            )
        provider = (
            await session.execute(
                sa.select(
                    col(ProviderClient.id),
                    col(ProviderClient.client_id),
                    col(ProviderClient.secret_hash),
                    col(ProviderClient.scopes),
                ).where(
                    col(ProviderClient.client_id) == client_id,
                    col(ProviderClient.revoked_at).is_(None),
                )
            )
        ).one_or_none()
    if provider is None:
        return None
    return OAuthClient(
        id=provider.id,
        account_id=None,
        subject_kind=SubjectKind.PROVIDER_CLIENT,
        client_id=provider.client_id,
        secret_hash=provider.secret_hash,
        scopes=frozenset(provider.scopes) & PROVIDER_SCOPES,
    )


async def _record_use(sessionmaker: async_sessionmaker[AsyncSession], client: OAuthClient) -> None:
    async with sessionmaker() as session:
        if client.account_id is None:  # a provider client
            statement = sa.update(ProviderClient).where(col(ProviderClient.id) == client.id)
        else:
            set_scope(session, AccountScope(account_ids=frozenset({client.account_id})))
            statement = sa.update(ApiClient).where(col(ApiClient.id) == client.id)
        await session.execute(statement.values(last_used_at=datetime.now(UTC)))
        await session.commit()


async def token_endpoint(request: Request) -> Response:
    tokens: TokenService = request.app.state.tokens
    # Not app.state.sessionmaker: tests swap the GraphQL app's sessionmaker for one bound to the
    # test's rolled-back connection, and this endpoint must read and write in that same world.
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.graphql.sessionmaker
    try:
        buffered = await _buffer(request)
    except OAuth2Error as error:
        return TokenServer(tokens=tokens, client=None).handle_error_response(None, error)
    client = await _load_client(sessionmaker, _presented_client_id(buffered))
    server = TokenServer(tokens=tokens, client=client)
    response: Response = await anyio.to_thread.run_sync(server.create_token_response, buffered)
    issued_to = server.issued_to
    client_id_text = _presented_client_id(buffered)
    await write_events(
        sessionmaker=sessionmaker,
        principal=Principal(
            kind=PrincipalKind.API_CLIENT if issued_to else PrincipalKind.ANONYMOUS,
            id=issued_to.id if issued_to else None,
            account_id=issued_to.account_id if issued_to else None,
            provider_system=bool(
                issued_to and issued_to.subject_kind is SubjectKind.PROVIDER_CLIENT
            ),
        ),
        meta=RequestMeta(
            ip_address=request.client.host if request.client else None,
            request_id=request_id_of(request.scope),
            operation_name=None,
        ),
        entries=[
            AuditEntry(
                action="oauth.token_issued" if issued_to else "oauth.token_refused",
                result=AuditResult.ALLOWED if issued_to else AuditResult.DENIED,
                actor_label=(client_id_text or "")[:254] or None,
            )
        ],
    )
    if issued_to is not None:
        await _record_use(sessionmaker, issued_to)
        logger.info("issued an access token to API client %s", issued_to.client_id)
    return response
