"""Strawberry types, inputs, enums and root fields per domain, composed into one schema here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from portal.schema.accounts import Account, Contact, Location
from portal.schema.api_clients import ApiClient, ApiClientMutations
from portal.schema.catalog import MedicalCenter, ReportType, Service
from portal.schema.documents import Document
from portal.schema.downloads import DownloadMutations
from portal.schema.employees import Employee
from portal.schema.errors import AuditTrail, ErrorCodes, label_document_errors
from portal.schema.ingestion import IngestionMutations
from portal.schema.invitations import InvitationMutations
from portal.schema.limits import Budgets, OperationLimits, QueryLimits
from portal.schema.live import DocumentSubscriptions, SocketOperations
from portal.schema.mfa import MfaMutations
from portal.schema.passwords import PasswordMutations
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.query import Query
from portal.schema.sessions import SessionMutations
from portal.schema.users import PortalUser, UserMutations
from portal.schema.visits import Authorization, Visit

SCHEMA_FILE = Path(__file__).parent / "schema.graphql"

Mutation = merge_types(
    "Mutation",
    (
        SessionMutations,
        PasswordMutations,
        InvitationMutations,
        MfaMutations,
        UserMutations,
        ApiClientMutations,
        IngestionMutations,
        DownloadMutations,
    ),
)
Subscription = merge_types("Subscription", (DocumentSubscriptions,))


class PortalSchema(strawberry.Schema):
    # The limits every operation is held to, and the validation cache they share.
    operation_limits: OperationLimits

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs unexpected errors with the request id; expected ones are not noise.
        label_document_errors(
            errors, execution_context.context if execution_context is not None else None
        )


def build_schema(
    *,
    limits: QueryLimits | None = None,
    max_tokens: int = 5000,
    budgets: Budgets | None = None,
) -> PortalSchema:
    # Built once: the measurement before validation, the validation cache every request shares
    # (the rules never change per request, so identical documents hit it), the query budgets.
    operation_limits = OperationLimits(limits or QueryLimits(), budgets)
    # Factories: a fresh extension per request (the parse and validation caches are shared).
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        ErrorCodes,
        AuditTrail,
        # After the audit trail, so it ends first: a websocket operation writes its own audit
        # entries, on the one connection it holds.
        SocketOperations,
        lambda: ParserCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        # Depth, aliases and fields of the expanded operation, then the cached validation, then
        # every input bounded (schema/limits).
        operation_limits.extension,
    ]
    schema = PortalSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Account,
            Location,
            Contact,
            PortalUser,
            ApiClient,
            MedicalCenter,
            Service,
            ReportType,
            UserError,
            MutationPayload,
            Employee,
            Visit,
            Authorization,
            Document,
        ],
        config=StrawberryConfig(auto_camel_case=True),
        extensions=extensions,
    )
    schema.operation_limits = operation_limits
    return schema


def print_sdl() -> str:
    return build_schema().as_str() + "\n"
