"""Mutations: create (one, or many from a template), send, print, extend, cancel, delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import strawberry

from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.resolvers.authorizations import changes, create, printing
from portal.resolvers.authorizations.create import MAX_BULK, TemplateRow
from portal.resolvers.authorizations.drafts import InvalidDrafts
from portal.resolvers.errors import PortalError
from portal.schema.authorizations.inputs import (
    CancelAuthorizationInput,
    CreateAuthorizationInput,
    CreateAuthorizationsFromTemplateInput,
    DeleteAuthorizationInput,
    ExtendAuthorizationInput,
    PrepareAuthorizationDownloadInput,
    SendAuthorizationInput,
    bounded,
    new_employee,
    recipients,
    to_draft,
)
from portal.schema.authorizations.types import (
    AUTHORIZATIONS_DELETE,
    AUTHORIZATIONS_WRITE,
    Authorization,
)
from portal.schema.context import Info
from portal.schema.employees import AUTHORIZATIONS_READ, Employee
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires
from portal.schema.relay import decode_global_id, global_id


@strawberry.type
class AuthorizationPayload(MutationPayload):
    authorization: Authorization | None


@strawberry.type
class CreateAuthorizationPayload(AuthorizationPayload):
    pass


@strawberry.type
class SendAuthorizationPayload(AuthorizationPayload):
    pass


@strawberry.type
class ExtendAuthorizationPayload(AuthorizationPayload):
    pass


@strawberry.type
class CancelAuthorizationPayload(AuthorizationPayload):
    pass


@strawberry.type
class DeleteAuthorizationPayload(MutationPayload):
    deleted_authorization_id: strawberry.ID | None


@strawberry.type
class PrepareAuthorizationDownloadPayload(MutationPayload):
    url: str | None = strawberry.field(
        description="GET it once, within minutes, with your own `Authorization: Bearer` token."
    )
    expires_at: datetime | None


@strawberry.type(description="The outcome of one employee's row of a bulk call.")
class TemplateRowResult:
    index: int = strawberry.field(description="The row's position in `employees` (from 0).")
    user_errors: list[UserError]


@strawberry.type
class CreateAuthorizationsFromTemplatePayload(MutationPayload):
    authorizations: list[Authorization] | None = strawberry.field(
        description="Those created, in the order of `employees` (null on a dry run or errors)."
    )
    rows: list[TemplateRowResult] = strawberry.field(
        description="Every row's errors (empty lists when fine); all rows or none are created."
    )


def _errors(error: PortalError | InvalidDrafts) -> list[UserError]:
    if isinstance(error, InvalidDrafts):
        return [UserError.from_error(e) for e in error.flat]
    return [UserError.from_error(error)]


def _audit(info: Info, action: str, ids: Sequence[uuid.UUID], **details: Any) -> None:
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            object_ids=tuple(str(i) for i in ids),
            details=details,
        )
    )


async def _read(info: Info, authorization_id: uuid.UUID) -> Authorization | None:
    row = await info.context.loaders.authorization.load(authorization_id)
    return Authorization.read(info, row) if row else None


def _id(value: strawberry.ID) -> uuid.UUID:
    return decode_global_id(value, field="id", expected=Authorization)


@strawberry.type
class AuthorizationMutations:
    @strawberry.mutation(
        description="Authorize services for an existing employee or a new one, and send it "
        "(to the center electronically, by email to the employee and the recipients, with the "
        "printable PDF attached). Bad input answers user errors and writes nothing.",
        extensions=[requires(AUTHORIZATIONS_WRITE)],
    )
    async def create_authorization(
        self, info: Info, input: CreateAuthorizationInput
    ) -> CreateAuthorizationPayload | None:
        context = info.context
        try:
            created = await create.create_authorization(
                session=context.session,
                principal=context.principal,
                draft=to_draft(input),
                send=input.send,
                idempotency_key=input.idempotency_key,
                request=input,
            )
        except (PortalError, InvalidDrafts) as error:
            return CreateAuthorizationPayload(authorization=None, user_errors=_errors(error))
        if not created.replayed:
            _audit(info, "authorization.created", created.authorization_ids, sent=input.send)
        if created.new_employee_ids:
            _audit(info, "employee.created", created.new_employee_ids)
        [authorization_id] = created.authorization_ids
        return CreateAuthorizationPayload(
            authorization=await _read(info, authorization_id), user_errors=[]
        )

    @strawberry.mutation(
        description="Send an active authorization again: to the center, and by email to the "
        "given recipients (or everyone it was sent to before). Each send is kept per recipient.",
        extensions=[requires(AUTHORIZATIONS_WRITE)],
    )
    async def send_authorization(
        self, info: Info, input: SendAuthorizationInput
    ) -> SendAuthorizationPayload | None:
        context = info.context
        try:
            authorization_id, replayed = await changes.send_authorization(
                session=context.session,
                principal=context.principal,
                authorization_id=_id(input.id),
                recipients=recipients(input.recipients) if input.recipients is not None else None,
                idempotency_key=input.idempotency_key,
                request=input,
            )
        except (PortalError, InvalidDrafts) as error:
            return SendAuthorizationPayload(authorization=None, user_errors=_errors(error))
        if not replayed:
            _audit(info, "authorization.sent", [authorization_id])
        return SendAuthorizationPayload(
            authorization=await _read(info, authorization_id), user_errors=[]
        )

    @strawberry.mutation(
        description="A short-lived, single-use URL for the printable authorization PDF (no PDF "
        "bytes travel in GraphQL).",
        extensions=[requires(AUTHORIZATIONS_READ)],
    )
    async def prepare_authorization_download(
        self, info: Info, input: PrepareAuthorizationDownloadInput
    ) -> PrepareAuthorizationDownloadPayload | None:
        context = info.context
        try:
            prepared, account_id = await printing.prepare_authorization_download(
                session=context.session,
                principal=context.principal,
                authorization_id=_id(input.id),
                ttl=timedelta(seconds=context.settings.download_ticket_ttl_seconds),
                public_url=context.settings.public_url,
            )
        except PortalError as error:
            return PrepareAuthorizationDownloadPayload(
                url=None, expires_at=None, user_errors=_errors(error)
            )
        context.audit(
            AuditEntry(
                action="authorization.download_prepared",
                result=AuditResult.ALLOWED,
                account_id=account_id,
                object_ids=(str(_id(input.id)),),
                details={"ticket_id": str(prepared.ticket.id)},
            )
        )
        return PrepareAuthorizationDownloadPayload(
            url=prepared.url, expires_at=prepared.ticket.expires_at, user_errors=[]
        )

    @strawberry.mutation(
        description="Move the end of an active or expired authorization later; the history "
        "keeps the old and new end dates.",
        extensions=[requires(AUTHORIZATIONS_WRITE)],
    )
    async def extend_authorization(
        self, info: Info, input: ExtendAuthorizationInput
    ) -> ExtendAuthorizationPayload | None:
        context = info.context
        try:
            authorization_id, previous = await changes.extend_authorization(
                session=context.session,
                principal=context.principal,
                authorization_id=_id(input.id),
                valid_until=input.valid_until,
                note=input.note,
                send=input.send,
            )
        except (PortalError, InvalidDrafts) as error:
            return ExtendAuthorizationPayload(authorization=None, user_errors=_errors(error))
        _audit(
            info,
            "authorization.extended",
            [authorization_id],
            previous_valid_until=previous.isoformat(),
            valid_until=input.valid_until.isoformat(),
        )
        return ExtendAuthorizationPayload(
            authorization=await _read(info, authorization_id), user_errors=[]
        )

    @strawberry.mutation(
        description="Cancel an active or expired authorization (its creator, a User Admin, or "
        "an HR system holding `authorizations:write`).",
        extensions=[requires(AUTHORIZATIONS_WRITE)],
    )
    async def cancel_authorization(
        self, info: Info, input: CancelAuthorizationInput
    ) -> CancelAuthorizationPayload | None:
        context = info.context
        try:
            authorization_id = await changes.cancel_authorization(
                session=context.session,
                principal=context.principal,
                authorization_id=_id(input.id),
                reason=input.reason,
            )
        except PortalError as error:
            return CancelAuthorizationPayload(authorization=None, user_errors=_errors(error))
        _audit(info, "authorization.cancelled", [authorization_id])
        return CancelAuthorizationPayload(
            authorization=await _read(info, authorization_id), user_errors=[]
        )

    @strawberry.mutation(
        description="Delete an authorization (User Admins): it disappears from every list; the "
        "deletion is audited.",
        extensions=[requires(AUTHORIZATIONS_DELETE)],
    )
    async def delete_authorization(
        self, info: Info, input: DeleteAuthorizationInput
    ) -> DeleteAuthorizationPayload | None:
        context = info.context
        try:
            authorization_id = _id(input.id)
            account_id = await changes.delete_authorization(
                session=context.session,
                principal=context.principal,
                authorization_id=authorization_id,
            )
        except PortalError as error:
            return DeleteAuthorizationPayload(
                deleted_authorization_id=None, user_errors=_errors(error)
            )
        context.audit(
            AuditEntry(
                action="authorization.deleted",
                result=AuditResult.ALLOWED,
                account_id=account_id,
                object_ids=(str(authorization_id),),
            )
        )
        return DeleteAuthorizationPayload(
            deleted_authorization_id=global_id(Authorization, authorization_id), user_errors=[]
        )

    @strawberry.mutation(
        description="Onboarding: one authorization per employee (existing or new) with the "
        "template's services, modality, center and instructions. `dryRun` checks every row "
        "and writes nothing; otherwise all rows or none, in one transaction.",
        extensions=[requires(AUTHORIZATIONS_WRITE)],
    )
    async def create_authorizations_from_template(
        self, info: Info, input: CreateAuthorizationsFromTemplateInput
    ) -> CreateAuthorizationsFromTemplatePayload | None:
        context = info.context
        try:
            bounded(input.employees, limit=MAX_BULK, field="employees")
            rows = [
                TemplateRow(
                    employee_id=(
                        decode_global_id(
                            row.employee_id,
                            field=f"employees.{index}.employeeId",
                            expected=Employee,
                        )
                        if row.employee_id
                        else None
                    ),
                    new_employee=new_employee(row.new_employee, prefix=f"employees.{index}."),
                )
                for index, row in enumerate(input.employees)
            ]
            drafts = await create.template_drafts(
                session=context.session,
                principal=context.principal,
                template_id=decode_global_id(
                    input.template_id, field="templateId", expected=Authorization
                ),
                rows=rows,
                valid_from=input.valid_from,
                valid_until=input.valid_until,
            )
            if input.dry_run:
                checked = await create.check_template_rows(
                    session=context.session, principal=context.principal, drafts=drafts
                )
                results = [
                    TemplateRowResult(
                        index=index, user_errors=[UserError.from_error(e) for e in errors]
                    )
                    for index, errors in enumerate(checked)
                ]
                return CreateAuthorizationsFromTemplatePayload(
                    authorizations=None,
                    rows=results,
                    user_errors=[e for row in results for e in row.user_errors],
                )
            created = await create.create_from_template(
                session=context.session,
                principal=context.principal,
                drafts=drafts,
                send=input.send,
                idempotency_key=input.idempotency_key,
                request=input,
            )
        except InvalidDrafts as invalid:
            results = [
                TemplateRowResult(index=index, user_errors=[UserError.from_error(e) for e in row])
                for index, row in enumerate(invalid.errors)
            ]
            return CreateAuthorizationsFromTemplatePayload(
                authorizations=None, rows=results, user_errors=_errors(invalid)
            )
        except PortalError as error:
            await context.session.rollback()
            return CreateAuthorizationsFromTemplatePayload(
                authorizations=None, rows=[], user_errors=_errors(error)
            )
        if not created.replayed:
            _audit(
                info,
                "authorization.created",
                created.authorization_ids,
                template_id=str(drafts[0].template_id),
                sent=input.send,
            )
        if created.new_employee_ids:
            _audit(info, "employee.created", created.new_employee_ids)
        loaded = await context.loaders.authorization.load_many(created.authorization_ids)
        return CreateAuthorizationsFromTemplatePayload(
            authorizations=[Authorization.read(info, row) for row in loaded if row is not None],
            rows=[TemplateRowResult(index=i, user_errors=[]) for i in range(len(loaded))],
            user_errors=[],
        )
