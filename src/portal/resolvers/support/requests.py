"""Opening a support request, adding to its thread, and the privacy path (retraction from a
request).

A document or visit named by a request must be one the requester may see through the very rules
the documents and visits lists apply (``documents.visibility``, the visits resolver); anything
else answers like an unknown id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import Account, Document, SupportComment, SupportRequest
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import (
    ACCOUNT_UPDATE_TOPICS,
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
)
from portal.models.support import SUPPORT_REQUEST_NUMBERS
from portal.resolvers.documents.visibility import accessible_document_ids
from portal.resolvers.errors import BadUserInput, ErrorCode, Forbidden, NotFound, PortalError
from portal.resolvers.idempotency import Claim, Replay, claim_key, record_result
from portal.resolvers.ingestion.documents import retract_document
from portal.resolvers.support.records import visible_requests_condition
from portal.resolvers.support.workflow import (
    apply_status,
    flush_and_reload,
    locked_request,
    record_status_change,
)
from portal.resolvers.visits import load_visits, results_expected_at

SUBJECT_MAX = 200
DESCRIPTION_MAX = 5000
BODY_MAX = 5000
UNKNOWN_DOCUMENT = "No document has this id."
UNKNOWN_VISIT = "No visit has this id."
REMOVED_FROM_VIEW = "Removed from your view."
CREATE_OPERATION = "createSupportRequest"


class ResultsNotYetDue(PortalError):
    """A missing-results request about a visit whose results are not due yet."""

    code = ErrorCode.RESULTS_NOT_YET_DUE

    def __init__(self, message: str, expected_at: datetime | None) -> None:
        super().__init__(message, field="visitId")
        self.expected_at = expected_at


@dataclass(frozen=True, slots=True)
class NewSupportRequest:
    request_type: SupportRequestType
    topic: SupportTopic
    subject: str
    description: str
    document_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    # The account it is for: staff name it (a phone request); a third-party administrator may
    # name one of its employer clients; by default the requester's own.
    account_id: uuid.UUID | None = None


def topic_fits_type(request_type: SupportRequestType, topic: SupportTopic) -> bool:
    return (request_type is SupportRequestType.ACCOUNT_UPDATE) == (topic in ACCOUNT_UPDATE_TOPICS)


# Control characters other than tab, line feed and carriage return (NUL cannot even be stored).
_CONTROL = (frozenset(chr(code) for code in range(32)) - {"\t", "\n", "\r"}) | {"\x7f"}


def bounded_text(value: str, *, field: str, limit: int, what: str) -> str:
    too_long = BadUserInput(f"The {what} has at most {limit} characters.", field=field)
    if len(value) > 2 * limit:  # refused before even scanning it
        raise too_long
    if any(character in _CONTROL for character in value):
        raise BadUserInput(f"The {what} holds a control character.", field=field)
    cleaned = value.strip()
    if not cleaned:
        raise BadUserInput(f"Write the {what}.", field=field)
    if len(cleaned) > limit:
        raise too_long
    return cleaned


def check_new_request(new: NewSupportRequest) -> tuple[str, str]:
    """Every check that needs no database, in the order a form shows them; the cleaned subject
    and description."""
    if not topic_fits_type(new.request_type, new.topic):
        raise PortalError(
            f"{new.topic.value} is not a topic of {new.request_type.value} requests.",
            code=ErrorCode.TOPIC_NOT_IN_TYPE,
            field="topic",
        )
    subject = bounded_text(new.subject, field="subject", limit=SUBJECT_MAX, what="subject")
    description = bounded_text(
        new.description, field="description", limit=DESCRIPTION_MAX, what="description"
    )
    return subject, description


def _not_yet_due(expected_at: datetime | None, now: datetime) -> ResultsNotYetDue | None:
    if expected_at is None:
        return ResultsNotYetDue(
            "Results of an injury visit (the work-status report) are expected at check-out, "
            "and this visit has not checked out yet.",
            None,
        )
    if expected_at > now:
        return ResultsNotYetDue(
            "Results of this visit are not due yet: they are expected by "
            f"{expected_at.isoformat(timespec='minutes')}.",
            expected_at,
        )
    return None


async def create_support_request(
    *,
    session: AsyncSession,
    principal: Principal,
    new: NewSupportRequest,
    visit_scope: AccountScope,
    idempotency_key: str | None = None,
) -> tuple[SupportRequest, bool]:
    """Open a request for an account's user (or for an account, by staff taking a call);
    answers it and whether it is a replay. ``visit_scope`` is the accounts whose visits the
    requester may see (nothing for a user without visit activity). A retry with the same
    ``idempotency_key`` (and the same input) answers the request the first call opened, writing
    nothing."""
    staff = principal.kind is PrincipalKind.STAFF
    if principal.id is None or not (staff or principal.kind is PrincipalKind.USER):
        raise Forbidden("Support requests are opened by an account's users and by staff.")
    subject, description = check_new_request(new)
    claim: Claim | None = None
    if idempotency_key is not None:
        outcome = await claim_key(
            session=session,
            principal=principal,
            operation=CREATE_OPERATION,
            key=idempotency_key,
            request=new,
        )
        if isinstance(outcome, Replay):
            return await _replayed(session, principal, outcome), True
        claim = outcome
    account_id = await _named_account(session, principal, new.account_id)
    visit_id = new.visit_id
    if new.document_id is not None:
        visible = await accessible_document_ids(
            session=session, principal=principal, ids=[new.document_id]
        )
        document = (
            await session.get(Document, new.document_id) if new.document_id in visible else None
        )
        if document is None:
            raise NotFound(UNKNOWN_DOCUMENT, field="documentId")
        if visit_id is not None and visit_id != document.visit_id:
            raise BadUserInput("The document is not one of this visit's.", field="visitId")
        account_id = _same_account(account_id, document.account_id, new, "documentId")
        visit_id = document.visit_id
        if new.visit_id is None:
            # Reached through the document: its visit needs no visit-activity permission.
            visit_scope = AccountScope(account_ids=frozenset({document.account_id}))
    visit_status = None
    if visit_id is not None:
        (visit,) = await load_visits(session=session, scope=visit_scope, ids=[visit_id])
        if visit is None:
            raise NotFound(UNKNOWN_VISIT, field="visitId")
        account_id = _same_account(account_id, visit.account_id, new, "visitId")
        if new.topic is SupportTopic.MISSING_RESULTS:
            refused = _not_yet_due(
                results_expected_at(
                    visit_type=visit.visit_type,
                    visited_at=visit.visited_at,
                    checked_out_at=visit.checked_out_at,
                ),
                utcnow(),
            )
            if refused is not None:
                raise refused
            visit_status = visit.status
    if account_id is None:
        raise BadUserInput(
            "Name the account the request is for (or a document or visit of it).",
            field="accountId",
        )
    sequence_value = await session.scalar(sa.select(SUPPORT_REQUEST_NUMBERS.next_value()))
    now = utcnow()
    request = SupportRequest(
        account_id=account_id,
        number=f"SR-{int(sequence_value or 0):06d}",
        request_type=new.request_type,
        topic=new.topic,
        status=SupportRequestStatus.NEW,
        requester_user_id=None if staff else principal.id,
        requester_staff_id=principal.id if staff else None,
        document_id=new.document_id,
        visit_id=visit_id,
        subject=subject,
        description=description,
        visit_status=visit_status,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    record_status_change(
        session=session,
        request=request,
        principal=principal,
        to_status=SupportRequestStatus.NEW,
        from_status=None,
        now=now,
    )
    if claim is not None:
        await record_result(
            session=session, claim=claim, result={"supportRequestId": str(request.id)}
        )
    await flush_and_reload(session, request)
    await session.commit()
    return request, False


async def _named_account(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The account named by the caller, if within their scope (else unknown); by default the
    caller's own (none for staff)."""
    if account_id is None:
        return principal.account_id
    found = await session.scalar(
        sa.select(col(Account.id)).where(
            col(Account.id) == account_id, principal.scope.filter(col(Account.id))
        )
    )
    if found is None:
        raise NotFound("No account has this id.", field="accountId")
    return account_id


def _same_account(
    chosen: uuid.UUID | None, of_object: uuid.UUID, new: NewSupportRequest, field: str
) -> uuid.UUID:
    """A document's or visit's account is the request's; a named account must be the same."""
    if new.account_id is not None and chosen != of_object:
        raise BadUserInput(f"The {field[:-2]} is not of the account named.", field=field)
    return of_object


async def _replayed(session: AsyncSession, principal: Principal, replay: Replay) -> SupportRequest:
    """The request a first call opened, as the caller may see it now."""
    request = await session.scalar(
        sa.select(SupportRequest).where(
            col(SupportRequest.id) == uuid.UUID(str(replay.result["supportRequestId"])),
            visible_requests_condition(principal),
        )
    )
    if request is None:  # gone since (its account closed): say so rather than open another
        raise NotFound("The request this key opened no longer exists.", field="idempotencyKey")
    return request


async def add_comment(
    *,
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    body: str,
    internal: bool,
) -> tuple[SupportRequest, SupportComment]:
    """Add to a request's thread. Internal notes are staff-only; a closed request takes notes
    only (the requester reopens it to write again)."""
    text = bounded_text(body, field="body", limit=BODY_MAX, what="comment")
    request = await locked_request(session=session, principal=principal, request_id=request_id)
    staff = principal.kind is PrincipalKind.STAFF
    if internal and not staff:
        raise PortalError(
            "Only support staff write internal notes.", code=ErrorCode.FORBIDDEN, field="internal"
        )
    if request.status is SupportRequestStatus.CLOSED and not internal:
        raise PortalError(
            "This request is closed: reopen it to continue the conversation.",
            code=ErrorCode.INVALID_TRANSITION,
            field="id",
        )
    comment = SupportComment(
        support_request_id=request.id,
        account_id=request.account_id,
        author_user_id=None if staff else principal.id,
        author_staff_id=principal.id if staff else None,
        body=text,
        internal=internal,
    )
    session.add(comment)
    if not internal:
        # An internal note leaves the request as employers see it untouched, its time included.
        request.updated_at = utcnow()
        session.add(request)
    await flush_and_reload(session, request)
    await session.commit()
    return request, comment


async def retract_requested_document(
    *,
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    public_url: str,
) -> tuple[SupportRequest, Document]:
    """The privacy path: retract the request's document (its reason: the request number) and
    resolve the request, telling the requester it was removed from their view; one
    transaction."""
    if principal.kind is not PrincipalKind.STAFF or principal.id is None:
        raise Forbidden("Only support staff retract documents.")
    request = await locked_request(session=session, principal=principal, request_id=request_id)
    if request.topic is not SupportTopic.PRIVACY or request.document_id is None:
        raise PortalError(
            "Only a privacy request about a document leads to its retraction.",
            code=ErrorCode.INVALID_TRANSITION,
            field="id",
        )
    if request.status not in (SupportRequestStatus.NEW, SupportRequestStatus.IN_PROGRESS):
        raise PortalError(
            f"A {request.status.value} request is already dealt with: reopen it first.",
            code=ErrorCode.INVALID_TRANSITION,
            field="id",
        )
    await apply_status(
        session=session,
        request=request,
        principal=principal,
        status=SupportRequestStatus.RESOLVED,
        public_url=public_url,
        resolution=REMOVED_FROM_VIEW,
    )
    await flush_and_reload(session, request)
    # The one retraction rule there is; it commits the request's resolution with it.
    document = await retract_document(
        session=session,
        scope=principal.scope,
        staff_id=principal.id,
        document_id=request.document_id,
        reason=f"Support request {request.number}",
    )
    return request, document


async def continue_request_numbers(*, session: AsyncSession) -> None:
    """Move the number sequence past the highest number stored (after rows were inserted with
    their own numbers, as the demo seed does), so new requests never collide with them."""
    await session.execute(
        sa.text(
            "SELECT setval('support_request_numbers', highest) FROM ("
            "  SELECT max(substring(number FROM '[0-9]+$')::bigint) AS highest"
            "  FROM support_requests"
            ") AS stored "
            "WHERE highest > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
            "  FROM support_request_numbers)"
        )
    )
