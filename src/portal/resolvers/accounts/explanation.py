"""Support's daily question: why can (or can't) this user see that result?

The answer is computed with the very rule the lists use: the user's principal is built exactly as
at sign-in (``portal.auth.resolve.user_principal``), the verdict is
``accessible_document_ids`` (the documents lists', ``node``'s and downloads' rule), and each reason
is one of that rule's own conditions (``visibility_requirements``) found false for this document,
in words and a stable code, with the change that would grant it. A login that cannot sign in
(invited, deactivated, contact inactive) is a reason of its own: the rule is never reached."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.auth.resolve import user_principal
from portal.models import Account, Document, Location, PortalUser, ReportType, Visit
from portal.models.enums import Permission, Role, UserStatus
from portal.resolvers.documents.visibility import (
    Requirement,
    accessible_document_ids,
    archives_at_expression,
    visibility_requirements,
)
from portal.resolvers.errors import NotFound
from portal.resolvers.visits import load_visits


class ReasonCode(StrEnum):
    LOGIN_NOT_ACTIVE = "LOGIN_NOT_ACTIVE"
    ROLE_OR_PERMISSION_MISSING = "ROLE_OR_PERMISSION_MISSING"
    ANOTHER_ACCOUNT = "ANOTHER_ACCOUNT"
    RETRACTED = "RETRACTED"
    ARCHIVED = "ARCHIVED"
    NO_REPORT_SUBSCRIPTION = "NO_REPORT_SUBSCRIPTION"


_REASON_OF = {
    Requirement.ROLE_OR_PERMISSION: ReasonCode.ROLE_OR_PERMISSION_MISSING,
    Requirement.SAME_ACCOUNT: ReasonCode.ANOTHER_ACCOUNT,
    Requirement.NOT_RETRACTED: ReasonCode.RETRACTED,
    Requirement.NOT_ARCHIVED: ReasonCode.ARCHIVED,
    Requirement.REPORT_SUBSCRIPTION: ReasonCode.NO_REPORT_SUBSCRIPTION,
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    message: str
    # The change that would grant access, in words, and the mutation that makes it (if any).
    remedy: str
    remedy_mutation: str | None


@dataclass(frozen=True, slots=True)
class Explanation:
    user_id: uuid.UUID
    # The object asked about: a document or a visit.
    object_id: uuid.UUID
    account_id: uuid.UUID
    visible: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class _Facts:
    account_id: uuid.UUID
    account_name: str
    report_type: str
    location: str
    posted_at: datetime
    archives_at: datetime
    retention_days: int
    retracted_at: datetime | None
    retraction_reason: str | None


def _day(value: datetime) -> str:
    return value.date().isoformat()


async def _facts(session: AsyncSession, document_id: uuid.UUID) -> _Facts:
    row = (
        await session.execute(
            sa.select(
                col(Document.account_id),
                col(Account.name),
                col(ReportType.name),
                col(Location.name),
                col(Document.posted_at),
                archives_at_expression(),
                col(Account.retention_days),
                col(Document.retracted_at),
                col(Document.retraction_reason),
            )
            .select_from(Document)
            .join(Account, col(Account.id) == col(Document.account_id))
            .join(ReportType, col(ReportType.id) == col(Document.report_type_id))
            .join(Location, col(Location.id) == col(Document.location_id))
            .where(col(Document.id) == document_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No document with this id.", field="objectId")
    return _Facts(*row)


async def _failed_requirements(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> list[Requirement]:
    requirements = visibility_requirements(principal)
    if not requirements:
        return []
    row = (
        await session.execute(
            sa.select(
                *(condition.label(requirement.value) for requirement, condition in requirements)
            ).where(col(Document.id) == document_id)
        )
    ).one()
    return [requirement for (requirement, _), met in zip(requirements, row, strict=True) if not met]


async def explain_document_access(
    *, session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID
) -> Explanation:
    found = await user_principal(session, user_id)
    if found is None:
        raise NotFound("No user with this id.", field="userId")
    principal, may_sign_in = found
    facts = await _facts(session, document_id)
    by_rule = document_id in await accessible_document_ids(
        session=session, principal=principal, ids=[document_id]
    )
    reasons: list[Reason] = []
    if not may_sign_in:
        reasons.append(await _login_reason(session, user_id))
    failed = await _failed_requirements(session, principal, document_id)
    account_name = await session.scalar(
        sa.select(col(Account.name)).where(col(Account.id) == principal.account_id)
    )
    for requirement in failed:
        reasons.append(_reason(requirement, principal, facts, account_name or "their account"))
    return Explanation(
        user_id=user_id,
        object_id=document_id,
        account_id=facts.account_id,
        visible=by_rule and may_sign_in,
        reasons=tuple(reasons),
    )


async def explain_visit_access(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    visit_id: uuid.UUID,
    field_rule_allows: Callable[[Principal], bool],
) -> Explanation:
    """The same question for a visit: the lists' field rule (``field_rule_allows``, the very
    rule object ``visits`` declares) and their account scope (``load_visits``)."""
    found = await user_principal(session, user_id)
    if found is None:
        raise NotFound("No user with this id.", field="userId")
    principal, may_sign_in = found
    row = (
        await session.execute(
            sa.select(col(Visit.account_id), col(Account.name))
            .join(Account, col(Account.id) == col(Visit.account_id))
            .where(col(Visit.id) == visit_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No visit with this id.", field="objectId")
    visit_account_id, visit_account = row
    role_allows = field_rule_allows(principal)
    in_scope = (await load_visits(session=session, scope=principal.scope, ids=[visit_id]))[0]
    reasons: list[Reason] = []
    if not may_sign_in:
        reasons.append(await _login_reason(session, user_id))
    if not role_allows:
        reasons.append(
            Reason(
                ReasonCode.ROLE_OR_PERMISSION_MISSING,
                f"The user is a Basic user without the {Permission.VIEW_VISIT_ACTIVITY.value} "
                "permission, so visits and visit activity are closed to them.",
                f"A User Admin grants {Permission.VIEW_VISIT_ACTIVITY.value} "
                "(setUserPermissions), or makes the user a User Admin (updateUserRole).",
                "setUserPermissions",
            )
        )
    if in_scope is None:
        account_name = await session.scalar(
            sa.select(col(Account.name)).where(col(Account.id) == principal.account_id)
        )
        reasons.append(_another_account(visit_account, account_name or "their account", "visit"))
    return Explanation(
        user_id=user_id,
        object_id=visit_id,
        account_id=visit_account_id,
        visible=may_sign_in and role_allows and in_scope is not None,
        reasons=tuple(reasons),
    )


def _another_account(owner: str, account_name: str, what: str) -> Reason:
    return Reason(
        ReasonCode.ANOTHER_ACCOUNT,
        f"The {what} belongs to {owner}, which is neither the user's account ({account_name}) "
        "nor one of its employer clients.",
        f"Make {owner} an employer client of {account_name} (addEmployerClient, staff; only "
        f"for a third-party administrator), or give a contact of {owner} access instead.",
        "addEmployerClient",
    )


async def _login_reason(session: AsyncSession, user_id: uuid.UUID) -> Reason:
    status = await session.scalar(
        sa.select(col(PortalUser.status)).where(col(PortalUser.id) == user_id)
    )
    if status is UserStatus.INVITED:
        return Reason(
            ReasonCode.LOGIN_NOT_ACTIVE,
            "The user has not accepted their invitation yet, so they cannot sign in.",
            "The user accepts the invitation (a User Admin can send a fresh one with inviteUser).",
            "inviteUser",
        )
    return Reason(
        ReasonCode.LOGIN_NOT_ACTIVE,
        "The user's login or contact is deactivated, so they cannot sign in.",
        "A User Admin of the account reactivates the user (reactivateUser).",
        "reactivateUser",
    )


def _reason(
    requirement: Requirement, principal: Principal, facts: _Facts, account_name: str
) -> Reason:
    code = _REASON_OF[requirement]
    match requirement:
        case Requirement.SAME_ACCOUNT:
            return _another_account(facts.account_name, account_name, "document")
        case Requirement.NOT_RETRACTED:
            retracted = _day(facts.retracted_at) if facts.retracted_at else "an earlier date"
            return Reason(
                code,
                f"The document was retracted on {retracted} "
                f"({facts.retraction_reason or 'no reason recorded'}); retracted documents are "
                "gone from every employer view.",
                "None: a retraction is final for employers (staff still see the document).",
                None,
            )
        case Requirement.NOT_ARCHIVED:
            return Reason(
                code,
                f"The document was archived on {_day(facts.archives_at)}: posted on "
                f"{_day(facts.posted_at)}, past {facts.account_name}'s retention of "
                f"{facts.retention_days} days.",
                "Staff restore the document (restoreDocument), or lengthen the account's "
                "retention past the document's age (setRetentionPolicy).",
                "restoreDocument",
            )
        case Requirement.REPORT_SUBSCRIPTION:
            return Reason(
                code,
                f"The user is a Basic user and their contact has no report subscription for "
                f"{facts.report_type} at {facts.location}.",
                f"A User Admin adds ({facts.report_type}, {facts.location}) to the contact's "
                "report subscriptions (setReportSubscriptions), or makes the user a User Admin "
                "(updateUserRole).",
                "setReportSubscriptions",
            )
        case Requirement.ROLE_OR_PERMISSION:
            role = principal.user_role.value if principal.user_role else "no role"
            return Reason(
                code,
                f"The user's role ({role}) gives no access to documents.",
                f"A User Admin gives the user the role {Role.USER_ADMIN.value} or "
                f"{Role.BASIC.value} with report subscriptions (updateUserRole).",
                "updateUserRole",
            )
