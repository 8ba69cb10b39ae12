"""Strawberry types, inputs, enums and root fields per domain, composed into one schema here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from portal.schema.accounts import Account, Contact, Location
from portal.schema.accounts.access_requests import AccessRequest, AccessRequestMutations
from portal.schema.accounts.company import CompanyMutations
from portal.schema.accounts.contacts import ContactMutations
from portal.schema.accounts.staff import StaffAccountMutations
from portal.schema.api_clients import ApiClient, ApiClientMutations
from portal.schema.catalog import MedicalCenter, ReportType, Service
from portal.schema.directive_errors import OneDirectiveError
from portal.schema.documents import Document
from portal.schema.downloads import DownloadMutations
from portal.schema.employees import Employee
from portal.schema.errors import AuditTrail, ErrorCodes, label_document_errors
from portal.schema.ingestion import IngestionMutations
from portal.schema.introspection import IntrospectionPolicy
from portal.schema.invitations import InvitationMutations
from portal.schema.live import DocumentSubscriptions, SocketOperations
from portal.schema.mfa import MfaMutations
from portal.schema.passwords import PasswordMutations
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import document_rules
from portal.schema.query import Query
from portal.schema.repeated_fields import RepeatedFieldLimit
from portal.schema.scalars import SCALAR_OVERRIDES
from portal.schema.sessions import SessionMutations
from portal.schema.users import PortalUser, UserMutations
from portal.schema.visits import Authorization, Visit
from portal.schema.webhooks import Webhook, WebhookDelivery, WebhookMutations

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
        CompanyMutations,
        ContactMutations,
        AccessRequestMutations,
        StaffAccountMutations,
        WebhookMutations,
    ),
)
Subscription = merge_types("Subscription", (DocumentSubscriptions,))


class PortalSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs unexpected errors with the request id; expected ones are not noise.
        label_document_errors(
            errors, execution_context.context if execution_context is not None else None
        )


def build_schema(
    *, max_depth: int = 12, max_aliases: int = 30, max_tokens: int = 5000
) -> strawberry.Schema:
    # Factories: a fresh extension per request (the parse and validation caches are shared).
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        ErrorCodes,
        AuditTrail,
        # After the audit trail, so it ends first: a websocket operation writes its own audit
        # entries, on the one connection it holds.
        SocketOperations,
        lambda: ParserCache(maxsize=512),
        IntrospectionPolicy,
        RepeatedFieldLimit,
        lambda: ValidationCache(maxsize=512),
        # Inside the validation cache: merges the errors it found before they are answered.
        OneDirectiveError,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
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
            AccessRequest,
            Webhook,
            WebhookDelivery,
        ],
        config=StrawberryConfig(auto_camel_case=True),
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
    )
    document_rules(schema._schema)
    return schema


def print_sdl() -> str:
    return build_schema().as_str() + "\n"
