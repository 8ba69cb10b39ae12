"""Who may see which document: the one rule every documents query, ``node(id:)``, download and
live delivery applies.

- staff: every document, archived and retracted included;
- a User Admin: every document of their account family (a third-party administrator's includes
  its employer clients);
- an API client holding ``documents:read``: every document of its account family;
- a Basic user: the documents whose (report type, location) pair is one of their contact's
  report subscriptions;
- nobody else sees any document.

Employers (everyone but staff) never see archived or retracted documents. Archive is derived from
the clock (``posted_at`` + the account's retention has passed and staff have not restored it), so
the answer never depends on a job having run."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import Enum, StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import Account, Document, PortalUser, ReportSubscription
from portal.models.driver import fetch_row
from portal.models.enums import Role

DOCUMENTS_READ_SCOPE = "documents:read"


# The expressions below depend on nothing per request: built once and shared (SQLAlchemy
# expressions are immutable), so a page does not pay for their construction every time.
@cache
def retention_days_of_document_account() -> sa.ScalarSelect[int]:
    """The retention of the document's own account (a correlated scalar subquery)."""
    return (
        sa.select(col(Account.retention_days))
        .where(col(Account.id) == col(Document.account_id))
        .correlate(Document)
        .scalar_subquery()
    )


@cache
def archives_at_expression() -> sa.ColumnElement[datetime]:
    """When the document leaves employer views: ``posted_at`` plus the account's retention."""
    return col(Document.posted_at) + sa.func.make_interval(
        0, 0, 0, retention_days_of_document_account()
    )


@cache
def archived_condition() -> sa.ColumnElement[bool]:
    """The document is archived now: its retention has passed and staff have not restored it."""
    return sa.and_(
        col(Document.restored_at).is_(None),
        archives_at_expression() <= sa.func.now(),
    )


class Requirement(StrEnum):
    """One condition of the visibility rule, named so it can be explained on its own."""

    # The caller holds no path to documents at all (role, permission or scope).
    ROLE_OR_PERMISSION = "ROLE_OR_PERMISSION"
    # The document belongs to the caller's account or one of its employer clients.
    SAME_ACCOUNT = "SAME_ACCOUNT"
    NOT_RETRACTED = "NOT_RETRACTED"
    NOT_ARCHIVED = "NOT_ARCHIVED"
    # One of the caller's contact's report subscriptions names the (report type, location).
    REPORT_SUBSCRIPTION = "REPORT_SUBSCRIPTION"


def _subscribed(user_id: Any) -> sa.ColumnElement[bool]:
    """One of the user's contact's report subscriptions names the document's pair."""
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(ReportSubscription)
        .join(PortalUser, col(PortalUser.contact_id) == col(ReportSubscription.contact_id))
        .where(
            col(PortalUser.id) == user_id,
            col(ReportSubscription.report_type_id) == col(Document.report_type_id),
            col(ReportSubscription.location_id) == col(Document.location_id),
        )
        .correlate(Document)
    )


class Visibility(Enum):
    """Which form of the rule applies to a principal (the values it needs come apart)."""

    EVERYTHING = "EVERYTHING"  # staff
    NOTHING = "NOTHING"  # no path to documents
    EMPLOYER = "EMPLOYER"  # the account family's current documents
    SUBSCRIBER = "SUBSCRIBER"  # those, narrowed to the user's report subscriptions


def visibility_of(principal: Principal) -> tuple[Visibility, uuid.UUID | None]:
    """The form of the rule for ``principal`` and, for a subscriber, the user it is read for."""
    if principal.kind is PrincipalKind.STAFF:
        return Visibility.EVERYTHING, None
    if not principal.account_ids:
        return Visibility.NOTHING, None
    match principal.kind:
        case PrincipalKind.API_CLIENT if DOCUMENTS_READ_SCOPE in principal.scopes:
            return Visibility.EMPLOYER, None
        case PrincipalKind.USER if principal.user_role is Role.USER_ADMIN:
            return Visibility.EMPLOYER, None
        case PrincipalKind.USER if principal.user_role is Role.BASIC and principal.id is not None:
            return Visibility.SUBSCRIBER, principal.id
        case _:
            return Visibility.NOTHING, None


def _requirements(
    visibility: Visibility, in_family: Any, user_id: Any
) -> list[tuple[Requirement, Any]]:
    """The rule's conditions for one form, given the same-account condition and ``user_id`` as
    values (an explanation, a search) or bound parameters (a statement built once)."""
    if visibility is Visibility.EVERYTHING:
        return []
    if visibility is Visibility.NOTHING:
        return [(Requirement.ROLE_OR_PERMISSION, sa.false())]
    employer_visible = [
        (Requirement.SAME_ACCOUNT, in_family),
        (Requirement.NOT_RETRACTED, col(Document.retracted_at).is_(None)),
        (Requirement.NOT_ARCHIVED, sa.not_(archived_condition())),
    ]
    if visibility is Visibility.SUBSCRIBER:
        return [*employer_visible, (Requirement.REPORT_SUBSCRIPTION, _subscribed(user_id))]
    return employer_visible


def visibility_requirements(principal: Principal) -> list[tuple[Requirement, Any]]:
    """The conditions on ``documents`` a row must meet for ``principal`` to see it: all of them
    (none for staff). The lists, ``node``, downloads and live delivery AND them together
    (``visible_documents_condition``); ``accessExplanation`` evaluates each one on its own."""
    visibility, user_id = visibility_of(principal)
    in_family = col(Document.account_id).in_(sorted(principal.account_ids))
    return _requirements(visibility, in_family, user_id)


def visible_documents_condition(principal: Principal) -> sa.ColumnElement[bool]:
    """SQL condition on ``documents`` selecting exactly the rows ``principal`` may see."""
    requirements = visibility_requirements(principal)
    if not requirements:
        return sa.true()
    if len(requirements) == 1:
        condition: sa.ColumnElement[bool] = requirements[0][1]
        return condition
    return sa.and_(*(condition for _, condition in requirements))


# The rule as bound parameters, for the statements built once per form (``visible_condition``).
VISIBLE_ACCOUNT_IDS = sa.bindparam("visible_account_ids", type_=ARRAY(Uuid()))
VISIBLE_USER_ID = sa.bindparam("visible_user_id", type_=Uuid())


@cache
def visible_condition(visibility: Visibility) -> sa.ColumnElement[bool]:
    """``visible_documents_condition`` for one form, its values left as bound parameters
    (``visibility_parameters``): built once, so a hot statement is not rebuilt per request."""
    in_family = col(Document.account_id) == sa.any_(VISIBLE_ACCOUNT_IDS)
    conditions = [c for _, c in _requirements(visibility, in_family, VISIBLE_USER_ID)]
    return sa.and_(sa.true(), *conditions)


def visibility_parameters(principal: Principal) -> tuple[Visibility, dict[str, Any]]:
    """The form of the rule for ``principal`` and the values of its bound parameters."""
    visibility, user_id = visibility_of(principal)
    values: dict[str, Any] = {}
    if visibility in (Visibility.EMPLOYER, Visibility.SUBSCRIBER):
        values[VISIBLE_ACCOUNT_IDS.key] = sorted(principal.account_ids)
    if visibility is Visibility.SUBSCRIBER:
        values[VISIBLE_USER_ID.key] = user_id
    return visibility, values


WANTED_DOCUMENT_IDS = sa.bindparam("wanted_document_ids", type_=ARRAY(Uuid()))


@cache
def _accessible_statement(visibility: Visibility) -> sa.Select[Any]:
    """The visible ones among ``WANTED_DOCUMENT_IDS``, as one array: built once per form, so it
    may go to the database driver (``portal.models.driver``), compiled once."""
    return sa.select(sa.func.array_agg(col(Document.id)).label("ids")).where(
        col(Document.id) == sa.any_(WANTED_DOCUMENT_IDS), visible_condition(visibility)
    )


async def accessible_document_ids(
    *, session: AsyncSession, principal: Principal, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The subset of ``ids`` that ``principal`` may see (one statement; on the driver when the
    session's transaction is open there)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    visibility, values = visibility_parameters(principal)
    statement = _accessible_statement(visibility)
    values[WANTED_DOCUMENT_IDS.key] = wanted
    ran, record = await fetch_row(session, statement, values)
    if not ran:
        return set(await session.scalar(statement, values) or ())
    return set(record[0] or ()) if record is not None else set()


def may_filter_archived(principal: Principal) -> bool:
    """Only staff see archived documents, so only they may ask for (or exclude) them."""
    return principal.kind is PrincipalKind.STAFF
