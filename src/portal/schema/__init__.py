"""Strawberry types, inputs, enums and root fields per domain, composed into one schema here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from portal.schema.accounts import Account, Contact, Location
from portal.schema.accounts.access_requests import AccessRequest, AccessRequestMutations
from portal.schema.accounts.company import CompanyMutations
from portal.schema.accounts.contacts import ContactMutations
from portal.schema.accounts.staff import StaffAccountMutations
from portal.schema.api_clients import ApiClient, ApiClientMutations
from portal.schema.authorizations import Authorization, AuthorizationMutations
from portal.schema.catalog import MedicalCenter, ReportType, Service
from portal.schema.directive_errors import OneDirectiveError
from portal.schema.documents import Document
from portal.schema.downloads import DownloadMutations
from portal.schema.employees import Employee
from portal.schema.errors import AuditTrail, ErrorCodes, label_document_errors
from portal.schema.execution import PortalExecutionContext, mark_plain_fields
from portal.schema.ingestion import IngestionMutations
from portal.schema.introspection import IntrospectionPolicy
from portal.schema.invitations import InvitationMutations
from portal.schema.limits import Budgets, OperationLimits, QueryLimits
from portal.schema.live import DocumentSubscriptions, SocketOperations
from portal.schema.mfa import MfaMutations
from portal.schema.observability import RequestObservation
from portal.schema.passwords import PasswordMutations
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import document_rules
from portal.schema.pipeline import OperationPipeline
from portal.schema.query import Query
from portal.schema.repeated_fields import RepeatedFieldLimit
from portal.schema.scalars import SCALAR_OVERRIDES
from portal.schema.service_packages import ServicePackage, ServicePackageMutations
from portal.schema.sessions import SessionMutations
from portal.schema.support import (
    StaffUser,
    SupportMutations,
    SupportRequest,
    SupportSubscriptions,
)
from portal.schema.users import PortalUser, UserMutations
from portal.schema.visits import Visit
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
        SupportMutations,
        ServicePackageMutations,
        AuthorizationMutations,
    ),
)
Subscription = merge_types("Subscription", (DocumentSubscriptions, SupportSubscriptions))


class PortalSchema(strawberry.Schema):
    # The limits every operation is held to, and the validation cache they share.
    operation_limits: OperationLimits
    # Queries and mutations that pass every check run through it (None: all take the usual,
    # extension-driven path, as with tracing).
    pipeline: OperationPipeline | None = None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        pipeline = self.pipeline
        if pipeline is not None and operation_extensions is None:
            result = await pipeline.execute(
                query,
                variables=variable_values,
                context=context_value,
                root_value=root_value,
                operation_name=operation_name,
                allowed=(
                    DEFAULT_ALLOWED_OPERATION_TYPES
                    if allowed_operation_types is None
                    else allowed_operation_types
                ),
            )
            if result is not None:
                return result
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

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
    tracing: Callable[[], SchemaExtension] | None = None,
) -> PortalSchema:
    # Built once: the measurement before validation, the validation cache every request shares
    # (the rules never change per request, so identical documents hit it), the query budgets.
    operation_limits = OperationLimits(limits or QueryLimits(), budgets)
    pipeline = OperationPipeline(limits=operation_limits, max_tokens=max_tokens)
    # Factories: a fresh extension per request (the parse and validation caches are shared).
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        # Before ErrorCodes, so it sees the errors' final codes.
        RequestObservation,
        ErrorCodes,
        AuditTrail,
        # After the audit trail, so it ends first: a websocket operation writes its own audit
        # entries, on the one connection it holds.
        SocketOperations,
        # The parse (bounded to ``max_tokens``), from the cache the pipeline shares.
        pipeline.extension,
        # Before validation: who may read the schema itself.
        IntrospectionPolicy,
        # Before the measurement: one field selected over and over in one place.
        RepeatedFieldLimit,
        # Depth, aliases and fields of the expanded operation, then the cached validation, then
        # every input bounded (schema/limits).
        operation_limits.extension,
        # After it: its hook has validated before this one starts; merges the directive errors.
        OneDirectiveError,
    ]
    if tracing is not None:
        # OpenTelemetry spans when an OTLP endpoint is configured (portal.observability).
        extensions.insert(0, tracing)
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
            SupportRequest,
            StaffUser,
            ServicePackage,
        ],
        config=StrawberryConfig(auto_camel_case=True),
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
        execution_context_class=PortalExecutionContext,
    )
    document_rules(schema._schema)
    mark_plain_fields(schema._schema, info_class=schema.config.info_class)
    schema.operation_limits = operation_limits
    pipeline.schema = schema._schema
    if tracing is None:
        schema.pipeline = pipeline
    return schema


def print_sdl() -> str:
    return build_schema().as_str() + "\n"
