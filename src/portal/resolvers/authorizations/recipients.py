"""Who an authorization may be emailed to: it holds health information, so only the employee,
the account's contacts, and addresses at the account's own email domains."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from portal.models import Account
from portal.models.enums import RecipientKind
from portal.resolvers.errors import BadUserInput, ErrorCode, PortalError

if TYPE_CHECKING:
    from portal.resolvers.authorizations.drafts import RecipientDraft

MAX_RECIPIENTS = 20
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text or None


def recipient_allowed(
    email: str, *, account: Account, contact_emails: set[str], employee_email: str | None
) -> bool:
    """The employee, the account's contacts, and addresses at the account's own domains."""
    domain = email.rpartition("@")[2]
    return (
        email == employee_email
        or email in contact_emails
        or domain in {d.lower() for d in account.email_domains}
    )


def check_recipients(
    given: Sequence[RecipientDraft],
    *,
    account: Account,
    contact_emails: set[str],
    employee_email: str | None,
    employee_name: str | None,
    include_employee: bool,
    errors: list[PortalError],
) -> list[tuple[RecipientKind, str | None, str]]:
    """The recipients to keep (deduplicated, the employee first), or user errors."""
    if len(given) > MAX_RECIPIENTS:
        errors.append(BadUserInput(f"At most {MAX_RECIPIENTS} recipients.", field="recipients"))
        return []
    chosen: dict[str, tuple[RecipientKind, str | None, str]] = {}
    if include_employee and employee_email:
        chosen[employee_email] = (RecipientKind.EMPLOYEE, employee_name, employee_email)
    for position, recipient in enumerate(given):
        email = clean_email(recipient.email)
        field = f"recipients.{position}.email"
        if email is None or len(email) > MAX_EMAIL or not EMAIL.match(email):
            errors.append(BadUserInput("This is not an email address.", field=field))
            continue
        name = (recipient.name or "").strip()[:200] or None
        if not recipient_allowed(
            email, account=account, contact_emails=contact_emails, employee_email=employee_email
        ):
            errors.append(
                PortalError(
                    "An authorization holds health information: it may be emailed only to the "
                    "employee, your account's contacts, or addresses at your company's own email "
                    "domains.",
                    code=ErrorCode.RECIPIENT_NOT_ALLOWED,
                    field=field,
                )
            )
            continue
        kind = RecipientKind.EMPLOYEE if email == employee_email else RecipientKind.OTHER
        chosen.setdefault(
            email,
            (kind, name or (employee_name if kind is RecipientKind.EMPLOYEE else None), email),
        )
    return list(chosen.values())
