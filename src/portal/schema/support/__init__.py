"""Support requests: opening one, its conversation, its status, assignment, the privacy path, and
reading them (``supportRequests``, ``Document.supportRequests``, ``Visit.supportRequests``,
``node``, the ``supportRequestUpdated`` subscription).

These map arguments to ``portal.resolvers.support`` calls; the rules live there."""

from portal.schema.support.mutations import SupportMutations
from portal.schema.support.reads import SupportQueries, SupportSubscriptions
from portal.schema.support.types import StaffUser, SupportRequest, to_nodes

__all__ = [
    "StaffUser",
    "SupportMutations",
    "SupportQueries",
    "SupportRequest",
    "SupportSubscriptions",
    "to_nodes",
]
