"""OAuth2 scopes: which an employer's API client may hold, and which the provider's own systems.

The two sets never overlap, so no employer client can ever post results and no provider system
can ever read them."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """Every OAuth scope. GraphQL shows the names (``DOCUMENTS_READ``); the values are what
    travels in OAuth (``scope=documents:read`` at the token endpoint, the token's ``scope``
    claim, ``viewer.scopes``)."""

    ACCOUNT_READ = "account:read"
    AUTHORIZATIONS_READ = "authorizations:read"
    AUTHORIZATIONS_WRITE = "authorizations:write"
    VISITS_READ = "visits:read"
    DOCUMENTS_READ = "documents:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    INGESTION_WRITE = "ingestion:write"


# An employer's HR system (``api_clients``), granted by a User Admin within their own access.
EMPLOYER_SCOPES = frozenset(
    {
        "account:read",
        "authorizations:read",
        "authorizations:write",
        "visits:read",
        "documents:read",
        "webhooks:manage",
    }
)

# The provider's own systems (``provider_clients``): recording visits and posting results.
INGESTION_SCOPE = "ingestion:write"
PROVIDER_SCOPES = frozenset({INGESTION_SCOPE})
