"""``documents(filter:)``: every search criterion, applied in SQL on top of the visibility rule.

Choices (documented in the schema too):
- ``employee_name``: every word of the query must appear, in any order and any case, in the
  employee's ``full_name`` (lower(first || ' ' || last)), so "alice smi", "Smith Alice" and
  "smith," all find Alice Smith (``resolvers/names.py``: found through the name trigrams, checked
  with LIKE).
- ``state``: the state of the medical center where the employee was seen (the visit's state; a
  state injury report follows it), not the employer location's state.
- ``claim_number``: exact (trimmed, any case).
- ``archived``: staff only; anyone else passing it gets BAD_USER_INPUT (employers never see
  archived documents, so the criterion means nothing for them)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Document, Employee, MedicalCenter, ReportType, Visit
from portal.models.enums import VisitType
from portal.resolvers.accounts import escape_like
from portal.resolvers.catalog import normalize_state
from portal.resolvers.documents.name_search import prebuilt_name_search
from portal.resolvers.documents.records import (
    DocumentRecord,
    document_records,
    to_record,
    visible_documents,
    visible_documents_prebuilt,
)
from portal.resolvers.documents.visibility import (
    archived_condition,
    may_filter_archived,
    visible_documents_condition,
)
from portal.resolvers.errors import BadUserInput
from portal.resolvers.names import employee_name_matches
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

DOCUMENT_ORDER = (
    SortKey(col(Document.posted_at), descending=True, python_type=datetime),
    SortKey(col(Document.id), descending=True, python_type=uuid.UUID),
)


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    employee_name: str | None = None
    date_of_birth: date | None = None
    state: str | None = None
    medical_center_id: uuid.UUID | None = None
    visit_type: VisitType | None = None
    claim_number: str | None = None
    name: str | None = None
    report_type: str | None = None
    location_id: uuid.UUID | None = None
    posted_after: datetime | None = None
    posted_before: datetime | None = None
    archived: bool | None = None
    employee_id: uuid.UUID | None = None
    # Narrows within the visibility rule: an account outside the caller's scope finds nothing.
    account_id: uuid.UUID | None = None

    def for_audit(self) -> dict[str, Any]:
        """The criteria given, as JSON-friendly values (for the audit trail)."""
        return {
            key: (str(value) if isinstance(value, (uuid.UUID, date, datetime)) else value)
            for key, value in asdict(self).items()
            if value is not None
        }


def _criteria(principal: Principal, filters: DocumentFilter) -> list[sa.ColumnElement[bool]]:
    criteria: list[sa.ColumnElement[bool]] = []
    employee_criteria: list[sa.ColumnElement[bool]] = []
    if filters.employee_name is not None:
        employee_criteria.append(
            employee_name_matches(
                filters.employee_name,
                scope=principal.scope,
                argument="employeeName",
                field="filter.employeeName",
            )
        )
    if filters.date_of_birth is not None:
        employee_criteria.append(col(Employee.date_of_birth) == filters.date_of_birth)
    if employee_criteria:
        # Scoped by account too, so every index used starts with the tenant.
        criteria.append(
            col(Document.employee_id).in_(
                sa.select(col(Employee.id)).where(
                    principal.scope.filter(col(Employee.account_id)), *employee_criteria
                )
            )
        )
    if filters.employee_id is not None:
        criteria.append(col(Document.employee_id) == filters.employee_id)
    state = normalize_state(filters.state, field="filter.state")
    if state is not None:
        criteria.append(
            col(Visit.medical_center_id).in_(
                sa.select(col(MedicalCenter.id)).where(col(MedicalCenter.state) == state)
            )
        )
    if filters.medical_center_id is not None:
        criteria.append(col(Visit.medical_center_id) == filters.medical_center_id)
    if filters.visit_type is not None:
        criteria.append(col(Visit.visit_type) == filters.visit_type)
    if filters.claim_number is not None and filters.claim_number.strip():
        criteria.append(
            sa.func.upper(col(Visit.claim_number)) == filters.claim_number.strip().upper()
        )
    if filters.name is not None and filters.name.strip():
        criteria.append(col(Document.name).ilike(f"%{escape_like(filters.name)}%", escape="\\"))
    if filters.report_type is not None:
        criteria.append(
            col(Document.report_type_id).in_(
                sa.select(col(ReportType.id)).where(
                    col(ReportType.code) == filters.report_type.strip().upper()
                )
            )
        )
    if filters.location_id is not None:
        criteria.append(col(Document.location_id) == filters.location_id)
    if filters.account_id is not None:
        criteria.append(col(Document.account_id) == filters.account_id)
    if filters.posted_after is not None:
        criteria.append(col(Document.posted_at) >= filters.posted_after)
    if filters.posted_before is not None:
        criteria.append(col(Document.posted_at) < filters.posted_before)
    if filters.archived is not None:
        if not may_filter_archived(principal):
            raise BadUserInput(
                "Only support staff may filter on `archived`: archived documents are not shown "
                "to employers.",
                field="filter.archived",
            )
        archived = archived_condition()
        criteria.append(archived if filters.archived else sa.not_(archived))
    return criteria


def _on_visit(filters: DocumentFilter) -> bool:
    """Whether a criterion reads the document's visit (``_criteria``'s conditions on ``Visit``)."""
    return (
        filters.state is not None
        or filters.medical_center_id is not None
        or filters.visit_type is not None
        or (filters.claim_number is not None and bool(filters.claim_number.strip()))
    )


def search_statement(principal: Principal, filters: DocumentFilter) -> sa.Select[Any]:
    """The visible documents matching ``filters`` (no order, no limit)."""
    return visible_documents(principal).where(*_criteria(principal, filters))


def matching_ids(principal: Principal, filters: DocumentFilter) -> sa.Select[Any]:
    """The ids of ``search_statement``'s rows: the same rows, cheaper to count. The visit is
    joined only when a criterion reads it: every document has exactly one visit, of its own
    account (a composite foreign key), which the same tenant policy admits, so the join never
    adds or drops a row."""
    ids = sa.select(col(Document.id)).select_from(Document)
    if _on_visit(filters):
        ids = ids.join(Visit, col(Visit.id) == col(Document.visit_id))
    return ids.where(visible_documents_condition(principal), *_criteria(principal, filters))


def counted_search(
    principal: Principal, filters: DocumentFilter
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """A page of the search and its total in one statement that finds the matches once: the
    matching ids as a CTE (referenced twice, so PostgreSQL computes it once), the page's records
    read for those ids and its total counting them. Before, the page and its count each ran the
    whole search (visibility rule, name lookup, the visit of every match)."""
    matching = matching_ids(principal, filters).cte("matching")
    page = document_records().where(col(Document.id).in_(sa.select(matching.c.id)))
    return page, sa.select(matching.c.id)


async def search_documents(
    *,
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    filters: DocumentFilter,
    count_with_page: bool = False,
) -> Page[DocumentRecord]:
    """The caller's documents matching ``filters``, newest first (with the total counted in the
    page's own statement when ``count_with_page``)."""
    values: dict[str, Any] | None = None
    counting: sa.Select[Any] | None = None
    prebuilt = (
        prebuilt_name_search(
            principal,
            filters.employee_name,
            argument="employeeName",
            field="filter.employeeName",
        )
        if filters.employee_name is not None
        and filters == DocumentFilter(employee_name=filters.employee_name)
        else None
    )
    if filters == DocumentFilter():
        # No criterion (the list every employer opens first): statements built once.
        statement, values = visible_documents_prebuilt(principal)
    elif prebuilt is not None:
        # The employee's name alone (the search employers run most): statements built once too.
        search, values = prebuilt
        statement = search.counted_records if count_with_page else search.records
        counting = search.counted_ids if count_with_page else search.ids
    elif count_with_page:
        statement, counting = counted_search(principal, filters)
    else:
        statement = search_statement(principal, filters)
        counting = matching_ids(principal, filters)
    return await paginate(
        session=session,
        statement=statement,
        keys=DOCUMENT_ORDER,
        request=page,
        convert=to_record,
        count_with_page=count_with_page,
        parameters=values,
        reusable=values is not None,
        counting=counting,
    )
