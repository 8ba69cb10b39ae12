"""``GET /.well-known/oauth-authorization-server``: OAuth 2.0 Authorization Server Metadata
(RFC 8414), so that client libraries find the token endpoint, the grant, the client
authentication methods, the scopes and the signing keys without reading our docs.

The issuer is ``PORTAL_PUBLIC_URL`` (RFC 8414 §2: the URL this document is published under).
Only the client credentials grant exists, so there is no authorization endpoint and no response
type: ``response_types_supported`` is the empty list."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.auth.oauth import AUTH_METHODS
from portal.auth.scopes import EMPLOYER_SCOPES, PROVIDER_SCOPES
from portal.settings import Settings

METADATA_PATH = "/.well-known/oauth-authorization-server"


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    base = settings.public_url.rstrip("/")
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "scopes_supported": sorted(EMPLOYER_SCOPES | PROVIDER_SCOPES),
        "response_types_supported": [],
        "service_documentation": f"{base}/graphiql",
    }


async def metadata_endpoint(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return JSONResponse(
        authorization_server_metadata(settings),
        headers={"Cache-Control": "public, max-age=300"},
    )
