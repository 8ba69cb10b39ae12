"""API clients of an account: ``createApiClient``, ``revokeApiClient``, ``Account.apiClients``.

docs/design-decisions.md, "Who may do what" ("API clients and webhooks"): User Admins only;
never staff, Basic users or clients."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.auth.scopes import Scope
from portal.models.enums import AuditResult
from portal.resolvers import api_clients as client_resolvers
from portal.resolvers.api_clients import MAX_ALLOWED_OPERATIONS
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.context import Info
from portal.schema.limits import MAX_ID_LENGTH, max_length
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import PortalNode, decode_global_id

MANAGE_API_CLIENTS = rule(ViewerRole.USER_ADMIN)


@strawberry.type(description="An HR system's OAuth2 client (its secret is never shown again).")
class ApiClient(PortalNode):
    node_rule = MANAGE_API_CLIENTS
    id: strawberry.relay.NodeID[uuid.UUID]
    name: str
    client_id: str = strawberry.field(description="The OAuth2 `client_id`.")
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(description="The last token issued to it.")
    revoked_at: datetime | None
    allowed_operations: list[str] = strawberry.field(
        description="Persisted operations: the lowercase hex SHA-256 of the exact query text of "
        "each operation this client may run (anything else is FORBIDDEN, reason "
        "OPERATION_NOT_ALLOWED). Empty: any operation its scopes allow."
    )

    @classmethod
    def from_row(cls, row: models.ApiClient) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            client_id=row.client_id,
            scopes=sorted(row.scopes),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            allowed_operations=list(row.allowed_operations),
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await client_resolvers.load_clients(
            session=info.context.session, scope=info.context.scope, ids=ids
        )


strawberry.enum(
    Scope,
    name="Scope",
    description="An OAuth2 scope. Its OAuth name (at `POST /oauth/token`, in the token and in "
    "`viewer.scopes`) is the lower-case form with a colon: "
    + ", ".join(f"{scope.name} = `{scope.value}`" for scope in Scope)
    + ".",
)


@strawberry.input
class CreateApiClientInput:
    name: str
    scopes: list[Scope] = strawberry.field(
        description="What the client may do (the employer scopes; never wider than your own "
        "access). The client asks for them at `POST /oauth/token` by their OAuth names, e.g. "
        "`documents:read` for DOCUMENTS_READ."
    )


@strawberry.input
class RevokeApiClientInput:
    id: strawberry.ID


@strawberry.input(description="The only operations an API client may run (persisted operations).")
class SetApiClientOperationsInput:
    id: strawberry.ID = strawberry.field(directives=[max_length(MAX_ID_LENGTH)])
    operation_hashes: list[str] = strawberry.field(
        description="The lowercase hex SHA-256 of the exact query text of each operation, at "
        f"most {MAX_ALLOWED_OPERATIONS}; an empty list lifts the limit.",
        directives=[max_length(64)],
    )


@strawberry.type
class SetApiClientOperationsPayload(MutationPayload):
    api_client: ApiClient | None


@strawberry.type
class CreateApiClientPayload(MutationPayload):
    api_client: ApiClient | None
    client_id: str | None = strawberry.field(description="The OAuth2 `client_id`.")
    client_secret: str | None = strawberry.field(
        description="The `client_secret`, shown only in this answer: store it now."
    )


@strawberry.type
class RevokeApiClientPayload(MutationPayload):
    api_client: ApiClient | None


@strawberry.type
class ApiClientMutations:
    @strawberry.mutation(
        description="Create an API client for your account; answers its secret once.",
        extensions=[requires(MANAGE_API_CLIENTS)],
    )
    async def create_api_client(
        self, info: Info, input: CreateApiClientInput
    ) -> CreateApiClientPayload | None:
        try:
            created = await client_resolvers.create_client(
                session=info.context.session,
                principal=info.context.principal,
                name=input.name,
                scopes=[scope.value for scope in input.scopes],
            )
        except PortalError as error:
            return CreateApiClientPayload(
                api_client=None,
                client_id=None,
                client_secret=None,
                user_errors=[UserError.from_error(error)],
            )
        row = created.row
        info.context.audit(
            AuditEntry(
                action="api_client.created",
                result=AuditResult.ALLOWED,
                object_ids=(str(row.id),),
                details={"clientId": row.client_id, "scopes": sorted(row.scopes)},
            )
        )
        return CreateApiClientPayload(
            api_client=ApiClient.from_row(row),
            client_id=row.client_id,
            client_secret=created.client_secret,
            user_errors=[],
        )

    @strawberry.mutation(
        description="Revoke an API client: its tokens stop working at their next request.",
        extensions=[requires(MANAGE_API_CLIENTS)],
    )
    async def revoke_api_client(
        self, info: Info, input: RevokeApiClientInput
    ) -> RevokeApiClientPayload | None:
        try:
            row = await client_resolvers.revoke_client(
                session=info.context.session,
                principal=info.context.principal,
                client_id=decode_global_id(input.id, expected=ApiClient),
            )
        except PortalError as error:
            return RevokeApiClientPayload(
                api_client=None, user_errors=[UserError.from_error(error)]
            )
        info.context.audit(
            AuditEntry(
                action="api_client.revoked",
                result=AuditResult.ALLOWED,
                object_ids=(str(row.id),),
                details={"clientId": row.client_id},
            )
        )
        return RevokeApiClientPayload(api_client=ApiClient.from_row(row), user_errors=[])

    @strawberry.mutation(
        description="Limit an API client to a list of operations (persisted operations): it may "
        "then run only documents whose SHA-256 is listed. An empty list lifts the limit.",
        extensions=[requires(MANAGE_API_CLIENTS)],
    )
    async def set_api_client_operations(
        self, info: Info, input: SetApiClientOperationsInput
    ) -> SetApiClientOperationsPayload | None:
        try:
            row = await client_resolvers.set_allowed_operations(
                session=info.context.session,
                principal=info.context.principal,
                client_id=decode_global_id(input.id, expected=ApiClient),
                hashes=input.operation_hashes,
            )
        except PortalError as error:
            return SetApiClientOperationsPayload(
                api_client=None, user_errors=[UserError.from_error(error)]
            )
        info.context.audit(
            AuditEntry(
                action="api_client.operations_set",
                result=AuditResult.ALLOWED,
                object_ids=(str(row.id),),
                details={"clientId": row.client_id, "operations": len(row.allowed_operations)},
            )
        )
        return SetApiClientOperationsPayload(api_client=ApiClient.from_row(row), user_errors=[])
