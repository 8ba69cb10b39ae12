"""``prepareDocumentDownload``: a one-time URL for one merged PDF of the documents asked."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import strawberry

from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta
from portal.resolvers.downloads import DocumentsNotFound, prepare_download
from portal.resolvers.errors import BadUserInput, PortalError
from portal.schema.context import Info
from portal.schema.documents import DOCUMENTS_READ, Document
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires
from portal.schema.relay import decode_global_id


@strawberry.input(description="The documents of one merged PDF, in the order they should appear.")
class PrepareDocumentDownloadInput:
    document_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 200 document ids, in the order wanted; an id given twice is included "
        "once, where it first appears."
    )


@strawberry.type(description="Where to fetch the merged PDF, or why nothing was prepared.")
class PrepareDocumentDownloadPayload(MutationPayload):
    url: str | None = strawberry.field(
        description="A presigned link: open it as it is (a plain link, a new tab), no "
        "Authorization header needed; if one is sent it must be yours. It answers one PDF "
        "attachment (one bookmark per document), once, until `expiresAt`, while your sign-in "
        "lasts; access is checked again when it is opened. Keep it private like a password."
    )
    expires_at: datetime | None = strawberry.field(description="When the URL stops working.")
    document_count: int | None = strawberry.field(
        description="How many documents the PDF holds (duplicates counted once)."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> PrepareDocumentDownloadPayload:
        return cls(url=None, expires_at=None, document_count=None, user_errors=errors)


# How much of a malformed id a user error repeats.
SHOWN_ID_LENGTH = 80


class InvalidDocumentIds(Exception):
    """Ids that are not document ids at all: one user error naming each."""

    def __init__(self, errors: list[PortalError]) -> None:
        super().__init__(f"{len(errors)} invalid document id(s)")
        self.errors = errors


def _decode_all(values: list[strawberry.ID]) -> tuple[list[uuid.UUID], dict[uuid.UUID, str]]:
    ids: list[uuid.UUID] = []
    labels: dict[uuid.UUID, str] = {}
    invalid: list[PortalError] = []
    for value in values:
        try:
            document_id = decode_global_id(value, field="documentIds", expected=Document)
        except PortalError:
            shown = str(value)[:SHOWN_ID_LENGTH]
            invalid.append(BadUserInput(f"`{shown}` is not a document id.", field="documentIds"))
            continue
        ids.append(document_id)
        labels.setdefault(document_id, str(value))
    if invalid:
        raise InvalidDocumentIds(invalid)
    return ids, labels


@strawberry.type
class DownloadMutations:
    @strawberry.mutation(
        description="Check every document against your access and prepare one merged PDF of "
        "them. If any id is unknown or not yours to see, nothing is prepared and a user error "
        "names each such id.",
        extensions=[requires(DOCUMENTS_READ)],
    )
    async def prepare_document_download(
        self, info: Info, input: PrepareDocumentDownloadInput
    ) -> PrepareDocumentDownloadPayload | None:
        context = info.context
        try:
            ids, labels = _decode_all(input.document_ids)
            prepared = await prepare_download(
                session=context.session,
                principal=context.principal,
                document_ids=ids,
                labels=labels,
                ttl=timedelta(seconds=context.settings.download_ticket_ttl_seconds),
                public_url=context.settings.public_url,
                # The operation's name as the audit trail records it once the operation ends.
                meta=RequestMeta(
                    ip_address=context.client_ip,
                    request_id=context.request_id,
                    operation_name=info.operation.name.value if info.operation.name else None,
                ),
            )
        except DocumentsNotFound as not_found:
            context.audit(
                AuditEntry(
                    action="document.download_prepare_refused",
                    result=AuditResult.DENIED,
                    object_ids=tuple(str(i) for i in not_found.document_ids),
                    details={"reason": "NOT_FOUND"},
                )
            )
            return PrepareDocumentDownloadPayload.failed(
                [UserError.from_error(error) for error in not_found.errors]
            )
        except InvalidDocumentIds as invalid:
            return PrepareDocumentDownloadPayload.failed(
                [UserError.from_error(error) for error in invalid.errors]
            )
        except PortalError as error:
            return PrepareDocumentDownloadPayload.failed([UserError.from_error(error)])
        # Its audit entry was written with the ticket, in the same statement.
        ticket = prepared.ticket
        return PrepareDocumentDownloadPayload(
            url=prepared.url,
            expires_at=ticket.expires_at,
            document_count=ticket.document_count,
            user_errors=[],
        )
