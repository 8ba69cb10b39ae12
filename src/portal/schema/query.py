"""The root Query: every domain's root fields plus Relay's ``node`` and ``nodes``."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from portal.schema.accounts import AccountQueries
from portal.schema.accounts.explanation import ExplanationQueries
from portal.schema.audit import AuditQueries
from portal.schema.authorizations import AuthorizationQueries
from portal.schema.catalog import CatalogQueries
from portal.schema.context import Info
from portal.schema.documents import DocumentQueries
from portal.schema.employees import EmployeeQueries
from portal.schema.rate_limits import RateLimitQueries
from portal.schema.relay import PortalNode, resolve_node, resolve_nodes
from portal.schema.support import SupportQueries
from portal.schema.viewer import ViewerQueries
from portal.schema.visits import VisitQueries


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global id, with the same access rules as its typed field; "
        "an id you may not see answers null, exactly like an unknown one."
    )
    async def node(self, info: Info, id: strawberry.ID) -> strawberry.relay.Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Several objects by global id (at most 100), in the order asked.")
    async def nodes(
        self, info: Info, ids: list[strawberry.ID]
    ) -> list[strawberry.relay.Node | None]:
        found: list[PortalNode | None] = await resolve_nodes(info, ids)
        return list(found)


Query = merge_types(
    "Query",
    (
        ViewerQueries,
        NodeQueries,
        AccountQueries,
        CatalogQueries,
        AuditQueries,
        DocumentQueries,
        EmployeeQueries,
        VisitQueries,
        ExplanationQueries,
        SupportQueries,
        AuthorizationQueries,
        RateLimitQueries,
    ),
)
