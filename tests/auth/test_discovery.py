"""OAuth 2.0 Authorization Server Metadata (RFC 8414) at /.well-known/oauth-authorization-server,
checked with authlib's own validator, and usable: its token endpoint issues a token."""

from __future__ import annotations

import httpx
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata  # type: ignore[import-untyped]

from portal.settings import Settings

PATH = "/.well-known/oauth-authorization-server"


async def test_metadata_names_the_token_endpoint_grants_methods_scopes_and_keys(
    http: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When a client library fetches the metadata
    response = await http.get(PATH)
    # Then it is valid RFC 8414 metadata (the test server runs on plain http)
    assert response.status_code == 200
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    body = response.json()
    metadata = AuthorizationServerMetadata(body)
    for name in dir(metadata):
        # Only the client credentials grant exists: no authorization endpoint, no response type.
        if name.startswith("validate_") and name != "validate_response_types_supported":
            getattr(metadata, name)()
    base = settings.public_url.rstrip("/")
    assert body["issuer"] == base
    assert body["token_endpoint"] == f"{base}/oauth/token"
    assert body["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert body["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert {"documents:read", "account:read", "ingestion:write"} <= set(body["scopes_supported"])
    assert body["response_types_supported"] == []


async def test_the_published_endpoints_answer(http: httpx.AsyncClient) -> None:
    body = (await http.get(PATH)).json()
    jwks = await http.get(httpx.URL(body["jwks_uri"]).path)
    assert jwks.status_code == 200
    assert jwks.json()["keys"]
    # (over https, as in production: the token endpoint refuses plain http)
    token = await http.post(
        httpx.URL(body["token_endpoint"]).copy_with(scheme="https", host="testserver", port=None),
        data={"grant_type": "client_credentials"},
    )
    # No client credentials sent: the endpoint answers as RFC 6749 says, not 404.
    assert token.status_code in {400, 401}
    assert token.json()["error"] in {"invalid_client", "invalid_request"}
