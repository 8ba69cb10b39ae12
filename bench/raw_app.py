"""The raw reference endpoint of the side-by-side benchmark: what the fastest hand-written server
answering the benchmark's requests would do, with nothing generic in the way.

A bare ASGI app (no framework) over an asyncpg pool, answering ``POST /graphql`` with orjson. It
does the app's work by hand, per request on one connection in one transaction: verify the ES256
bearer token (joserfc, like the app), read the principal and scope the transaction for row-level
security in one statement (the app's own database function), run the same reads (the page with
its ``totalCount``, then the page's nested objects in one statement; one document and its nested
objects in one statement) or the same writes (``createAuthorization``,
``bench.raw_authorizations``), and insert the audit rows. It does not parse GraphQL: it knows the
benchmark's queries by their text (``bench.scenarios``).

Run (the benchmark does): ``BENCH_RAW_DATABASE_URL=... BENCH_RAW_KEY_FILE=... uvicorn
bench.raw_app:app``."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from bench.raw_authorizations import create_authorization
from bench.scenarios import QUERIES

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

ISSUER = "employer-health-portal"
AUDIENCE = "employer-health-portal-api"

# The app's own principal lookup (migration 0017): one round trip sets the system scope, reads
# the user (sign-in session, permissions, account family) and scopes the transaction to them.
PRINCIPAL = """
SELECT id, email, account_id, role, status, contact_active, family, alive, scope_ids, scope_all
FROM portal_user_principal($1, $2)"""

SCOPE = (
    "SELECT set_config('portal.account_ids', $1, true), set_config('portal.all_accounts', $2, true)"
)

# What an employer may see of ``documents d``: $1 the account family, $2 the user when Basic
# (NULL for a User Admin): not retracted, not archived, and for Basic users subscribed.
VISIBLE = """
d.account_id = ANY($1::uuid[]) AND d.retracted_at IS NULL
AND NOT (d.restored_at IS NULL AND d.posted_at + make_interval(0, 0, 0,
    (SELECT a.retention_days FROM accounts a WHERE a.id = d.account_id)) <= now())
AND ($2::uuid IS NULL OR EXISTS (
    SELECT 1 FROM report_subscriptions rs JOIN portal_users pu ON pu.contact_id = rs.contact_id
    WHERE pu.id = $2 AND rs.report_type_id = d.report_type_id
      AND rs.location_id = d.location_id))"""

NAME = """
AND d.employee_id IN (SELECT e.id FROM employees e
    WHERE e.account_id = ANY($1::uuid[]) AND e.full_name LIKE $3
      AND e.id IN (SELECT t.employee_id FROM employee_name_trigrams t
                   WHERE t.account_id = ANY($1::uuid[]) AND t.trigram = ANY($4::text[])
                   GROUP BY t.employee_id HAVING count(*) = $5))"""

COLUMNS = """d.id, d.name, d.posted_at, d.page_count, d.employee_id, d.visit_id, d.location_id,
    d.report_type_id, v.medical_center_id"""
ONE_COLUMNS = (
    "id",
    "name",
    "posted_at",
    "page_count",
    "employee_id",
    "visit_id",
    "location_id",
    "report_type_id",
    "medical_center_id",
)

# A page carries the whole list's count (an uncorrelated subquery, computed once), like the app.
COUNT = f"SELECT count(*) FROM documents d WHERE {VISIBLE}"
PAGE = f"""SELECT {COLUMNS}, ({COUNT}) AS total FROM documents d JOIN visits v ON v.id = d.visit_id
WHERE {VISIBLE} ORDER BY d.posted_at DESC, d.id DESC LIMIT 51"""
SEARCH_COUNT = f"SELECT count(*) FROM documents d WHERE {VISIBLE} {NAME}"
# Like the app, the search's page finds the matches once (a CTE referenced twice is computed once):
# the page reads its records for those ids and its total counts them.
SEARCH_PAGE = f"""WITH matching AS (SELECT d.id FROM documents d WHERE {VISIBLE} {NAME})
SELECT {COLUMNS}, (SELECT count(*) FROM matching) AS total
FROM documents d JOIN visits v ON v.id = d.visit_id
WHERE d.id IN (SELECT id FROM matching) ORDER BY d.posted_at DESC, d.id DESC LIMIT 51"""
ONE = f"""SELECT {COLUMNS} FROM documents d JOIN visits v ON v.id = d.visit_id
WHERE {VISIBLE} AND d.id = $3"""

# The search's employees (one nested type: one statement of its own, as in the app).
EMPLOYEES = """SELECT id, first_name, last_name, date_of_birth FROM employees
WHERE id = ANY($1::uuid[]) AND account_id = ANY($2::uuid[])"""

# The page's nested objects in one statement, as the app reads them (each type's rows as one
# record array): $1 report type ids, $2 employee ids, $3 visit ids, $4 center ids, $5 location
# ids, $6 the account family.
NESTED_PARTS = """
(SELECT array_agg(t) FROM (SELECT id, code, name, category FROM report_types
    WHERE id = ANY({report_types})) t) AS report_types,
(SELECT array_agg(t) FROM (SELECT id, first_name, last_name, date_of_birth FROM employees
    WHERE id = ANY({employees}) AND account_id = ANY({family})) t) AS employees,
(SELECT array_agg(t) FROM (SELECT id, visit_type, claim_number, status FROM visits
    WHERE id = ANY({visits}) AND account_id = ANY({family})) t) AS visits,
(SELECT array_agg(t) FROM (SELECT id, name, state FROM medical_centers
    WHERE id = ANY({centers})) t) AS centers,
(SELECT array_agg(t) FROM (SELECT id, name, state FROM locations
    WHERE id = ANY({locations}) AND account_id = ANY({family})) t) AS locations"""
NESTED = "SELECT " + NESTED_PARTS.format(
    report_types="$1::uuid[]",
    employees="$2::uuid[]",
    visits="$3::uuid[]",
    centers="$4::uuid[]",
    locations="$5::uuid[]",
    family="$6::uuid[]",
)
# One document and its nested objects in one statement, as the app reads ``node(id:)``.
ONE_WITH_NESTED = (
    f"WITH d AS ({ONE}) SELECT (SELECT array_agg(d) FROM d) AS documents, "
    + NESTED_PARTS.format(
        report_types="ARRAY(SELECT report_type_id FROM d)",
        employees="ARRAY(SELECT employee_id FROM d)",
        visits="ARRAY(SELECT visit_id FROM d)",
        centers="ARRAY(SELECT medical_center_id FROM d)",
        locations="ARRAY(SELECT location_id FROM d)",
        family="$1::uuid[]",
    )
)

AUDIT = """INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, actor_label,
    account_id, action, object_ids, result, ip_address, request_id, operation_name, details)
SELECT gen_random_uuid(), now(), 'USER', $1, $2, $3, action, ids, 'ALLOWED', $4, $5, $8,
       coalesce(($9::jsonb) -> action, '{}'::jsonb)
FROM unnest($6::text[]) WITH ORDINALITY AS a(action, n)
JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(($7::jsonb) -> (n::int - 1)))
    AS ids) i ON true"""
# The audit rows' details by action (the app's mutation records whether it sent).
AUDIT_DETAILS = orjson.dumps({"authorization.created": {"sent": True}}).decode()
# The operation names the app records (the benchmark's anonymous queries have none).
OPERATION_NAMES = {QUERIES["one"]: "One", QUERIES["create"]: "Create"}


def global_id(type_name: str, value: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def cursor(posted_at: datetime, value: uuid.UUID) -> str:
    return base64.b64encode(orjson.dumps([posted_at.isoformat(), str(value)])).decode()


def decode_id(value: str) -> uuid.UUID:
    kind, _, raw = base64.b64decode(value).decode().partition(":")
    if kind != "Document":
        raise ValueError("not a document id")
    return uuid.UUID(raw)


class Principal:
    __slots__ = ("account_id", "email", "family", "id", "role")

    def __init__(self, row: asyncpg.Record) -> None:
        self.id: uuid.UUID = row["id"]
        self.email: str = row["email"]
        self.account_id: uuid.UUID = row["account_id"]
        self.role: str = row["role"]
        self.family: list[uuid.UUID] = list(row["family"] or ())


async def _kept(connection: asyncpg.Connection) -> None:
    """No reset round trip when a connection goes back to the pool: each request's transaction
    has ended and its settings were transaction-local (the app's pool sends none either)."""


class RawApp:
    def __init__(self) -> None:
        key = ECKey.import_key(json.loads(Path(os.environ["BENCH_RAW_KEY_FILE"]).read_text()))
        self.keys = KeySet([key])
        self.pool: asyncpg.Pool | None = None
        self.handlers = {
            QUERIES["list"]: self.page,
            QUERIES["one"]: self.one,
            QUERIES["search"]: self.search,
            QUERIES["viewer"]: self.viewer,
            QUERIES["create"]: self.create,
        }

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        status, payload = await self.answer(scope, headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": orjson.dumps(payload)})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(
                    os.environ["BENCH_RAW_DATABASE_URL"], min_size=1, max_size=20, reset=_kept
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def subject(self, headers: dict[bytes, bytes]) -> tuple[uuid.UUID, uuid.UUID | None] | None:
        """The user a valid token names, and the sign-in session it was issued for (if any)."""
        token = headers.get(b"authorization", b"").removeprefix(b"Bearer ").decode()
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["ES256"])
            jwt.JWTClaimsRegistry(
                leeway=30,
                iss={"essential": True, "value": ISSUER},
                aud={"essential": True, "value": AUDIENCE},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            return None
        kind, _, subject = str(decoded.claims["sub"]).partition(":")
        if kind != "user":
            return None
        sid = decoded.claims.get("sid")
        return uuid.UUID(subject), uuid.UUID(str(sid)) if sid is not None else None

    async def answer(
        self, scope: dict[str, Any], headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        request = orjson.loads(body)
        handler = self.handlers.get(request.get("query"))
        if handler is None:
            return 400, {"errors": [{"message": "unknown query"}]}
        subject = self.subject(headers)
        if subject is None:
            return 401, {"errors": [{"message": "unauthenticated"}]}
        assert self.pool is not None
        client = scope.get("client") or ("", 0)
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(PRINCIPAL, *subject)
            if (
                row is None
                or row["status"] != "ACTIVE"
                or not row["contact_active"]
                or not row["alive"]
            ):
                return 401, {"errors": [{"message": "unauthenticated"}]}
            principal = Principal(row)
            if row["scope_all"] or set(row["scope_ids"]) != set(principal.family):
                # As the app: a scope other than the family is corrected (never, today).
                family = ",".join(map(str, sorted(principal.family)))
                await connection.fetchrow(SCOPE, family, "off")
            data, audit = await handler(connection, principal, request.get("variables") or {})
            if audit:
                await connection.execute(
                    AUDIT,
                    principal.id,
                    principal.email,
                    principal.account_id,
                    client[0],
                    str(uuid.uuid4()),
                    list(audit),
                    orjson.dumps(list(audit.values())).decode(),
                    OPERATION_NAMES.get(request["query"]),
                    AUDIT_DETAILS,
                )
        return 200, {"data": data}

    def _basic(self, principal: Principal) -> uuid.UUID | None:
        return principal.id if principal.role == "BASIC" else None

    async def _nested(
        self, connection: asyncpg.Connection, principal: Principal, rows: list[Any]
    ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        found = await connection.fetchrow(
            NESTED,
            list({r["report_type_id"] for r in rows}),
            list({r["employee_id"] for r in rows}),
            list({r["visit_id"] for r in rows}),
            list({r["medical_center_id"] for r in rows}),
            list({r["location_id"] for r in rows}),
            principal.family,
        )
        return self._build(principal, rows, found)

    def _build(
        self, principal: Principal, rows: list[Any], found: Any
    ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        # Records come back as tuples in their columns' order (see NESTED_PARTS).
        basic = principal.role == "BASIC"
        report_types = {
            r[0]: {"code": r[1], "name": r[2], "category": r[3]}
            for r in found["report_types"] or ()
        }
        employees = {
            r[0]: {
                "id": global_id("Employee", r[0]),
                "firstName": r[1],
                "lastName": r[2],
                # Minimum necessary, as the app: a Basic user gets no date of birth.
                "dateOfBirth": None if basic else r[3].isoformat(),
            }
            for r in found["employees"] or ()
        }
        visits = {
            r[0]: {
                "id": global_id("Visit", r[0]),
                "visitType": r[1],
                "claimNumber": r[2],
                "status": r[3],
            }
            for r in found["visits"] or ()
        }
        centers = {
            r[0]: {"id": global_id("MedicalCenter", r[0]), "name": r[1], "state": r[2]}
            for r in found["centers"] or ()
        }
        locations = {
            r[0]: {"id": global_id("Location", r[0]), "name": r[1], "state": r[2]}
            for r in found["locations"] or ()
        }
        nodes = [
            {
                "id": global_id("Document", r["id"]),
                "name": r["name"],
                "postedAt": r["posted_at"].isoformat(),
                "pageCount": r["page_count"],
                "reportType": report_types.get(r["report_type_id"]),
                "employee": employees.get(r["employee_id"]),
                "visit": visits.get(r["visit_id"]),
                "medicalCenter": centers.get(r["medical_center_id"]),
                "location": locations.get(r["location_id"]),
            }
            for r in rows
        ]
        audit = {
            "documents.read": [str(r["id"]) for r in rows],
            "employees.read": [str(i) for i in employees],
            "visits.read": [str(i) for i in visits],
        }
        return nodes, audit

    async def page(
        self, connection: asyncpg.Connection, principal: Principal, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        basic = self._basic(principal)
        rows = (await connection.fetch(PAGE, principal.family, basic))[:50]
        total = (
            rows[0]["total"] if rows else await connection.fetchval(COUNT, principal.family, basic)
        )
        nodes, audit = await self._nested(connection, principal, rows)
        edges = [
            {"cursor": cursor(r["posted_at"], r["id"]), "node": node}
            for r, node in zip(rows, nodes, strict=True)
        ]
        return {"documents": {"totalCount": total, "edges": edges}}, audit

    async def one(
        self, connection: asyncpg.Connection, principal: Principal, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        document_id = decode_id(str(variables.get("id")))
        found = await connection.fetchrow(
            ONE_WITH_NESTED, principal.family, self._basic(principal), document_id
        )
        rows = [dict(zip(ONE_COLUMNS, record, strict=True)) for record in found["documents"] or ()]
        if not rows:
            return {"node": None}, {}
        nodes, audit = self._build(principal, rows, found)
        return {"node": nodes[0]}, audit

    async def search(
        self, connection: asyncpg.Connection, principal: Principal, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        word = "smi"
        pieces = [word]
        arguments = (principal.family, self._basic(principal), f"%{word}%", pieces, len(pieces))
        rows = (await connection.fetch(SEARCH_PAGE, *arguments))[:50]
        total = rows[0]["total"] if rows else await connection.fetchval(SEARCH_COUNT, *arguments)
        employees = {
            r["id"]: r
            for r in await connection.fetch(
                EMPLOYEES, list({r["employee_id"] for r in rows}), principal.family
            )
        }
        edges = [
            {
                "node": {
                    "id": global_id("Document", r["id"]),
                    "name": r["name"],
                    "employee": {
                        "firstName": employees[r["employee_id"]]["first_name"],
                        "lastName": employees[r["employee_id"]]["last_name"],
                    },
                }
            }
            for r in rows
        ]
        audit = {
            "documents.read": [str(r["id"]) for r in rows],
            "employees.read": [str(i) for i in employees],
        }
        return {"documents": {"totalCount": total, "edges": edges}}, audit

    async def create(
        self, connection: asyncpg.Connection, principal: Principal, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        return await create_authorization(
            connection,
            user_id=principal.id,
            account_id=principal.account_id,
            family=principal.family,
            given=dict(variables.get("input") or {}),
        )

    async def viewer(
        self, connection: asyncpg.Connection, principal: Principal, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        return {"viewer": {"email": principal.email}}, {}


app = RawApp()
