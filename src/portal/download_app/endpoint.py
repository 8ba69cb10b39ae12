"""The GET /downloads/{token} endpoint: redeem, stage, merge in a worker process, stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from portal.auth.bearer import authenticate_bearer, bearer_token
from portal.auth.principal import Principal
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.download_app.after_response import StreamThenClose
from portal.download_app.refusals import Refusal, attachment_name, error_response, refusal_for
from portal.middleware import request_id_of
from portal.models.db import AccountScope, rescope, set_scope
from portal.models.enums import AuditResult
from portal.observability.access import PRINCIPAL_KEY
from portal.resolvers.audit import AuditEntry, RequestMeta, to_row, write_events
from portal.resolvers.downloads import (
    PDF_PREFIX,
    STREAM_CHUNK_BYTES,
    ClaimedTicket,
    DocumentIntegrityError,
    DocumentsNoLongerAccessible,
    DownloadJob,
    DownloadProducer,
    MergeFailedError,
    MergePool,
    StagedPart,
    TicketRefusal,
    TicketRefused,
    check_claimable,
    claim_by_token,
    read_by_bearer,
    release_claim,
    renew_claim,
    spend_ticket,
    ticket_principal,
)
from portal.resolvers.errors import ErrorCode

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Outcome:
    """What a streamed download came to (filled in by the stream, read once it has ended)."""

    delivered: bool = False
    page_count: int = 0
    # The delivery was recorded (the ticket spent, the audit written) by the stream itself.
    recorded: bool = False


@dataclass(frozen=True, slots=True)
class Staging:
    """A job's files being staged into a private folder (a task of their own)."""

    folder: Path
    task: asyncio.Future[list[StagedPart]]

    @classmethod
    def start(cls, job: DownloadJob) -> Staging:
        folder = Path(tempfile.mkdtemp(prefix="portal-download-"))
        return cls(folder=folder, task=asyncio.ensure_future(job.stage(folder)))

    async def abandon(self) -> None:
        """Stop the staging, wait until it has stopped, remove the folder."""
        self.task.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.gather(self.task, return_exceptions=True)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Redemption:
    principal: Principal
    ticket: ClaimedTicket
    job: DownloadJob
    staging: Staging


def _first_chunk(merged: IO[bytes]) -> bytes:
    """Runs in a worker thread: the merged file's first chunk after its prefix (which the
    response sent before the merge), once the file was seen to start with that prefix."""
    if merged.read(len(PDF_PREFIX)) != PDF_PREFIX:
        raise MergeFailedError("the merged PDF does not start as announced")
    return merged.read(STREAM_CHUNK_BYTES)


class DownloadEndpoint:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: TokenService,
        producers: Mapping[str, DownloadProducer],
        merges: MergePool,
        claim_lease: timedelta,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.tokens = tokens
        self.producers = dict(producers)
        self.merges = merges
        self.claim_lease = claim_lease
        # Downloads being streamed now (for metrics and a graceful shutdown).
        self.in_flight = 0

    async def _audit(
        self, *, principal: Principal, meta: RequestMeta, entries: Sequence[AuditEntry]
    ) -> None:
        await write_events(
            sessionmaker=self.sessionmaker, principal=principal, meta=meta, entries=entries
        )

    async def endpoint(self, request: Request) -> Response:
        request_id = request_id_of(request.scope)
        meta = RequestMeta(
            ip_address=request.client.host if request.client else None,
            request_id=request_id,
            operation_name=None,
        )
        # One session for the whole request: it holds a connection only while it reads or
        # writes the ticket, never during the merge or the streaming.
        session = self.sessionmaker()
        streaming = False
        principal = Principal.anonymous()
        try:
            try:
                bearer = await self._bearer(session=session, request=request, meta=meta)
            except InvalidTokenError:
                return error_response(
                    401,
                    ErrorCode.UNAUTHENTICATED,
                    "The access token is invalid or expired; sign in again, or open the link "
                    "without an Authorization header.",
                    request_id,
                )
            principal = bearer or principal
            outcome = await self._redeem(
                session=session, bearer=bearer, token=request.path_params["token"]
            )
            if isinstance(outcome, Redemption):
                principal = outcome.principal
                request.scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
                staged = await self._stage(session=session, redemption=outcome)
                if isinstance(staged, Refusal):
                    outcome = staged
                else:
                    folder, parts = staged
                    streaming = True
                    return self._response(
                        session=session,
                        redemption=outcome,
                        meta=meta,
                        folder=folder,
                        parts=parts,
                    )
        finally:
            if not streaming:
                await session.close()
        await self._audit(
            principal=principal,
            meta=meta,
            entries=[
                AuditEntry(
                    action="document.download_refused",
                    result=AuditResult.DENIED,
                    object_ids=outcome.object_ids,
                    details={"reason": outcome.reason},
                )
            ],
        )
        return error_response(
            outcome.status_code,
            outcome.code,
            outcome.message,
            request_id,
            **({"requestId": request_id} if outcome.code is ErrorCode.INTERNAL else {}),
        )

    async def _bearer(
        self, *, session: AsyncSession, request: Request, meta: RequestMeta
    ) -> Principal | None:
        """The principal of an Authorization header, when one is sent (it must then be valid)."""
        token = bearer_token(request.headers)
        if token is None:
            return None
        return await authenticate_bearer(
            session=session,
            sessionmaker=self.sessionmaker,
            tokens=self.tokens,
            token=token,
            meta=meta,
        )

    async def _redeem(
        self, *, session: AsyncSession, bearer: Principal | None, token: str
    ) -> Redemption | Refusal:
        """Find and claim the ticket, read its preparer again and check access to every object
        again, all in one transaction: committed once every check passed, rolled back (the
        claim with it) on any refusal."""
        try:
            # A ticket is no tenant row: it is claimed in whatever scope the transaction has
            # (the bearer's, after a bearer lookup; none, when the claim begins it).
            attempt = await claim_by_token(session=session, token=token, lease=self.claim_lease)
            ticket = attempt.ticket
            if bearer is not None and not ticket.owned_by(bearer):
                raise TicketRefused(TicketRefusal.FOREIGN, ticket.id)
            claimed = attempt.claimed
            if claimed is None:
                check_claimable(ticket)
                # Claimable a moment ago: another redemption took it at the same time.
                raise TicketRefused(TicketRefusal.IN_PROGRESS, ticket.id)
            if bearer is not None and read_by_bearer(bearer, ticket):
                # The preparer, in their sign-in session, read a moment ago in this transaction
                # by the bearer's lookup, which left it scoped to them: no second lookup.
                principal, applied = bearer, bearer.scope
            else:
                resolved = await ticket_principal(session=session, ticket=ticket)
                principal, applied = resolved.principal, resolved.applied
            producer = self.producers.get(ticket.kind)
            if producer is None:
                logger.error("download ticket %s has an unknown kind %r", ticket.id, ticket.kind)
                raise TicketRefused(TicketRefusal.UNKNOWN)
            if applied == principal.scope:
                # The lookup left the transaction scoped to the preparer: no round trip.
                set_scope(session, principal.scope)
            else:
                await rescope(session, principal.scope)
            job = await producer(session=session, principal=principal, ticket=claimed)
            # Staging reads and checks files only (the database has no part in it): it runs
            # while the claim commits.
            staging = Staging.start(job)
            try:
                await session.commit()
            except BaseException:
                await staging.abandon()
                raise
        except TicketRefused as refused:
            await session.rollback()
            return refusal_for(refused)
        except DocumentsNoLongerAccessible as gone:
            await session.rollback()
            return Refusal(
                403,
                ErrorCode.FORBIDDEN,
                "Some documents of this download are no longer available to you; "
                "prepare a new download.",
                reason="DOCUMENTS_NO_LONGER_ACCESSIBLE",
                object_ids=(str(gone.ticket_id), *(str(i) for i in gone.document_ids)),
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await session.rollback()
            raise
        return Redemption(principal=principal, ticket=claimed, job=job, staging=staging)

    async def _release(self, session: AsyncSession, ticket: ClaimedTicket) -> None:
        set_scope(session, AccountScope.everything())
        try:
            await release_claim(session=session, ticket=ticket)
        except Exception as error:  # the lease runs out by itself; never fail the answer for it
            logger.warning("could not release download ticket %s: %s", ticket.id, error)

    async def _stage(
        self, *, session: AsyncSession, redemption: Redemption
    ) -> tuple[Path, list[StagedPart]] | Refusal:
        staging = redemption.staging
        try:
            return staging.folder, await staging.task
        except DocumentIntegrityError as broken:
            shutil.rmtree(staging.folder, ignore_errors=True)
            await self._release(session, redemption.ticket)
            # Never serve bytes that differ from what was posted: alert, audit, refuse.
            logger.error("download refused: integrity check failed for %s", broken)
            return Refusal(
                500,
                ErrorCode.INTERNAL,
                "A document of this download could not be read intact. Quote the request id "
                "to support.",
                reason="INTEGRITY_CHECK_FAILED",
                object_ids=(str(broken.document_id),),
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await staging.abandon()
                await self._release(session, redemption.ticket)
            raise

    def _response(
        self,
        *,
        session: AsyncSession,
        redemption: Redemption,
        meta: RequestMeta,
        folder: Path,
        parts: list[StagedPart],
    ) -> Response:
        filename = redemption.job.filename or attachment_name(datetime.now(UTC))
        outcome = _Outcome()
        output = folder / "merged.pdf"
        # The merge begins now, while the response and its first bytes go out.
        merging = asyncio.ensure_future(self.merges.merge(output, parts))
        return StreamThenClose(
            self._stream(
                session=session,
                redemption=redemption,
                output=output,
                merging=merging,
                meta=meta,
                outcome=outcome,
            ),
            # The files are removed (and an undelivered ticket released) once the response has
            # ended, however it ended.
            close=partial(
                self._close,
                session=session,
                redemption=redemption,
                meta=meta,
                folder=folder,
                merging=merging,
                outcome=outcome,
            ),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Request-ID": meta.request_id or "-",
            },
        )

    async def _keep_claim(self, session: AsyncSession, ticket: ClaimedTicket) -> None:
        """Renew the claim while the merge and the streaming run."""
        interval = self.claim_lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                if not await renew_claim(session=session, ticket=ticket, lease=self.claim_lease):
                    logger.warning("download ticket %s: claim lost while producing", ticket.id)
                    return
            except Exception as error:  # a hiccup: the next renewal may succeed
                await session.rollback()
                logger.warning("download ticket %s: claim not renewed: %s", ticket.id, error)

    async def _stream(
        self,
        *,
        session: AsyncSession,
        redemption: Redemption,
        output: Path,
        merging: asyncio.Future[int],
        meta: RequestMeta,
        outcome: _Outcome,
    ) -> AsyncGenerator[bytes, None]:
        ticket = redemption.ticket
        set_scope(session, AccountScope.everything())
        keeper = asyncio.create_task(self._keep_claim(session, ticket))
        self.in_flight += 1
        try:
            # Every merged PDF starts with the same bytes: the client sees the download start
            # (and no proxy times out) while the merge runs.
            yield PDF_PREFIX
            try:
                outcome.page_count = await merging
            except MergeFailedError:
                raise
            except Exception as error:
                logger.error(
                    "download ticket %s: the merge failed: %s", ticket.id, type(error).__name__
                )
                raise MergeFailedError("the merge failed") from None
            with output.open("rb") as merged:
                # One thread hop for a PDF of one chunk: a short read of a file is its end.
                chunk = await asyncio.to_thread(_first_chunk, merged)
                while chunk:
                    yield chunk
                    if len(chunk) < STREAM_CHUNK_BYTES:
                        break
                    chunk = await asyncio.to_thread(merged.read, STREAM_CHUNK_BYTES)
            outcome.delivered = True
        finally:
            self.in_flight -= 1
            keeper.cancel()
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(BaseException):
                    await keeper
                if outcome.delivered:
                    # Spent before the response ends: a link opened again once its response
                    # has ended is used (410), never still in progress.
                    await self._finish(
                        session=session,
                        redemption=redemption,
                        meta=meta,
                        delivered=True,
                        page_count=outcome.page_count,
                    )
                    outcome.recorded = True

    async def _close(
        self,
        *,
        session: AsyncSession,
        redemption: Redemption,
        meta: RequestMeta,
        folder: Path,
        merging: asyncio.Future[int],
        outcome: _Outcome,
    ) -> None:
        """Once the response has ended: stop a merge still running or waiting for a worker (a
        client gone before its end), give an undelivered ticket back, remove the files."""
        merging.cancel()
        await asyncio.gather(merging, return_exceptions=True)
        try:
            if not outcome.recorded:
                await self._finish(
                    session=session,
                    redemption=redemption,
                    meta=meta,
                    delivered=False,
                    page_count=outcome.page_count,
                )
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)

    async def _finish(
        self,
        *,
        session: AsyncSession,
        redemption: Redemption,
        meta: RequestMeta,
        delivered: bool,
        page_count: int,
    ) -> None:
        ticket = redemption.ticket
        recorded = False
        try:
            await session.rollback()
            set_scope(session, AccountScope.everything())
            if not delivered:
                await self._release(session, ticket)
                logger.info("download ticket %s not delivered; left usable", ticket.id)
                return
            # Spent and audited in one statement: a spent ticket always has its audit rows.
            spent = await spend_ticket(
                session=session,
                ticket=ticket,
                audit_rows=[
                    to_row(principal=redemption.principal, meta=meta, entry=entry)
                    for entry in redemption.job.audit(page_count)
                ],
            )
            await session.commit()
            recorded = True
            if not spent:
                logger.warning(
                    "download ticket %s was delivered after its claim ran out", ticket.id
                )
        except Exception as error:
            logger.warning("download ticket %s: outcome not recorded: %s", ticket.id, error)
        finally:
            await session.close()
        if not recorded:
            # The ticket could not be spent: the delivery is still audited, on its own.
            await self._audit(
                principal=redemption.principal, meta=meta, entries=redemption.job.audit(page_count)
            )
