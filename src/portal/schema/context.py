"""The typed per-request context and the ``Info`` alias every resolver uses."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from portal.auth.principal import Principal
from portal.auth.tokens import TokenService
from portal.events import EventHub
from portal.models.db import AccountScope
from portal.ratelimit import Decision
from portal.resolvers.audit import AuditEntry, RequestMeta
from portal.resolvers.loaders import Loaders
from portal.settings import Settings


class SocketOperation(Protocol):
    """One operation started on a websocket (see ``portal.live_socket``): it holds one pooled
    database connection only while it works, and its caller is re-read before each piece of work."""

    def event(self) -> AbstractAsyncContextManager[Principal | None]:
        """Hold one connection for one subscription event and re-read the caller on it; ``None``
        when the socket's credentials have ended (the socket is then closed)."""
        ...

    async def release(self) -> None:
        """Give the connection back (a subscription, while it waits for its next event)."""
        ...

    async def settle(self) -> None:
        """End the open transaction and write the audit entries gathered so far."""
        ...


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    session: AsyncSession
    principal: Principal
    settings: Settings
    tokens: TokenService
    request_id: str
    operation_name: str | None = None
    # Permission decisions depend only on the principal: made once per request (by rule).
    decisions: dict[object, bool] = field(default_factory=dict)
    # Audit entries of this request, written in their own transaction when the operation ends.
    audit_entries: list[AuditEntry] = field(default_factory=list)
    # Where each PHI read action's entry is in ``audit_entries``, the ids it names and those
    # read since, not yet in the entry (``portal.schema.reads``): a page adds one object at a
    # time. Read the entries through ``settled_audit_entries``.
    phi_reads: dict[str, tuple[int, AuditEntry, set[str], list[str]]] = field(default_factory=dict)
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    # Live subscribers (``documentPosted``); publish only after the change has committed.
    events: EventHub = field(default_factory=EventHub)
    # The graphql-transport-ws ``connection_init`` payload (websocket connections only).
    connection_params: dict[str, object] | None = None
    # The operation this context serves on a websocket (None over HTTP).
    live: SocketOperation | None = None
    # The query budget after this operation was charged (schema/limits), for ``rateLimit``.
    rate_limit: Decision | None = None

    @property
    def scope(self) -> AccountScope:
        return self.principal.scope

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(session=self.session, scope=self.scope, principal=self.principal)

    def reset_loaders(self) -> None:
        """Forget batch-loaded rows: a websocket's context lives for many events, each of which
        must be read afresh (and must not pin rows in memory for the life of the connection)."""
        self.__dict__.pop("loaders", None)

    def audit(self, entry: AuditEntry) -> None:
        if entry not in self.audit_entries:
            self.audit_entries.append(entry)

    def settled_audit_entries(self) -> list[AuditEntry]:
        """``audit_entries`` with the PHI reads recorded since each entry was last written into
        it (``phi_reads``) added to their entries."""
        entries = self.audit_entries
        for action, (index, entry, seen, added) in self.phi_reads.items():
            if added and index < len(entries) and entries[index] is entry:
                entries[index] = entry = replace(entry, object_ids=entry.object_ids + tuple(added))
                self.phi_reads[action] = (index, entry, seen, [])
        return entries

    @property
    def request_meta(self) -> RequestMeta:
        return RequestMeta(
            ip_address=self.client_ip,
            request_id=self.request_id,
            operation_name=self.operation_name,
        )

    @property
    def client_ip(self) -> str | None:
        client = self.request.client
        return client.host if client else None


Info = strawberry.Info[Context, None]

__all__ = ["Context", "Info", "SocketOperation"]
