"""Inputs and helpers shared by the account administration mutations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import strawberry

from portal.models.enums import AuditResult
from portal.resolvers.accounts.validation import AddressValue, normalize_address
from portal.resolvers.audit import AuditEntry
from portal.schema.context import Info


@strawberry.input(description="A US postal address: every part is required.")
class AddressInput:
    street: str
    city: str
    state: str = strawberry.field(description="Two-letter US state code, e.g. TX.")
    postal_code: str = strawberry.field(description="ZIP code: 75201 or 75201-1234.")

    def value(self, field: str) -> AddressValue:
        return normalize_address(
            street=self.street,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            field=field,
        )


def address_or_none(value: AddressInput | None, field: str) -> AddressValue | None:
    return value.value(field) if value is not None else None


def audit_change(
    info: Info,
    action: str,
    object_ids: Iterable[uuid.UUID | str],
    *,
    account_id: uuid.UUID | None,
    **details: Any,
) -> None:
    """An allowed change, in the account it changed, with its before and after values."""
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            account_id=account_id,
            object_ids=tuple(str(i) for i in object_ids),
            details=details,
        )
    )
