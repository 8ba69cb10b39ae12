"""Accounts, employer clients, locations and contacts, and their administration: company
information, locations, contacts, who receives what, access requests, staff operations and
support's access explanations. The types live in ``types``; each group of mutations in its own
module."""

from __future__ import annotations

from portal.schema.accounts.types import (
    ACCESS_REQUESTS_READ,
    CONTACT_PREFERENCES_READ,
    LOCATION,
    Account,
    AccountQueries,
    Address,
    Contact,
    Location,
    NotificationPreferences,
    PortalAccess,
    account_field,
    account_of,
    strawberry_role,
    strawberry_user_status,
)

__all__ = [
    "ACCESS_REQUESTS_READ",
    "CONTACT_PREFERENCES_READ",
    "LOCATION",
    "Account",
    "AccountQueries",
    "Address",
    "Contact",
    "Location",
    "NotificationPreferences",
    "PortalAccess",
    "account_field",
    "account_of",
    "strawberry_role",
    "strawberry_user_status",
]
