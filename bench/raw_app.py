"""The raw reference endpoint of the side-by-side benchmark: what the fastest hand-written server
answering the benchmark's requests would do, with nothing generic in the way.

A bare ASGI app (no framework) over an asyncpg pool, answering ``POST /graphql`` with orjson. It
does the app's work by hand, per request on one connection in one transaction: verify the ES256
bearer token (joserfc, like the app), read the principal in one statement (the app's own
statement), scope the transaction for row-level security (``set_config``), run the same reads
(page, ``totalCount``, then the page's nested objects by ids) or the same writes
(``createAuthorization``, ``bench.raw_authorizations``), and insert the audit rows. It does not
parse GraphQL: it knows the benchmark's queries by their text (``bench.scenarios``).

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

PRINCIPAL = """
SELECT u.id, u.email, u.account_id, u.role, u.status, c.is_active,
       (SELECT array_agg(p.permission::text) FROM user_permissions p WHERE p.user_id = u.id)
         AS permissions,
       (SELECT array_agg(a.id) FROM accounts a
         WHERE a.id = u.account_id OR a.parent_account_id = u.account_id) AS family
FROM portal_users u JOIN contacts c ON c.id = u.contact_id
WHERE u.id = $1"""

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

# A page carries the whole list's count (an uncorrelated subquery, computed once), like the app.
COUNT = f"SELECT count(*) FROM documents d WHERE {VISIBLE}"
PAGE = f"""SELECT {COLUMNS}, ({COUNT}) AS total FROM documents d JOIN visits v ON v.id = d.visit_id
WHERE {VISIBLE} ORDER BY d.posted_at DESC, d.id DESC LIMIT 51"""
SEARCH_COUNT = f"SELECT count(*) FROM documents d WHERE {VISIBLE} {NAME}"
SEARCH_PAGE = f"""SELECT {COLUMNS}, ({SEARCH_COUNT}) AS total
FROM documents d JOIN visits v ON v.id = d.visit_id
WHERE {VISIBLE} {NAME} ORDER BY d.posted_at DESC, d.id DESC LIMIT 51"""
ONE = f"""SELECT {COLUMNS} FROM documents d JOIN visits v ON v.id = d.visit_id
WHERE {VISIBLE} AND d.id = $3"""

REPORT_TYPES = "SELECT id, code, name, category FROM report_types WHERE id = ANY($1::uuid[])"
EMPLOYEES = """SELECT id, first_name, last_name, date_of_birth FROM employees
WHERE id = ANY($1::uuid[]) AND account_id = ANY($2::uuid[])"""
VISITS = """SELECT id, visit_type, claim_number, status FROM visits
WHERE id = ANY($1::uuid[]) AND account_id = ANY($2::uuid[])"""
CENTERS = "SELECT id, name, state FROM medical_centers WHERE id = ANY($1::uuid[])"
LOCATIONS = """SELECT id, name, state FROM locations
WHERE id = ANY($1::uuid[]) AND account_id = ANY($2::uuid[])"""

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

    def subject(self, headers: dict[bytes, bytes]) -> uuid.UUID | None:
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
        return uuid.UUID(subject) if kind == "user" else None

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
            await connection.fetchrow(SCOPE, "", "on")
            row = await connection.fetchrow(PRINCIPAL, subject)
            if row is None or row["status"] != "ACTIVE" or not row["is_active"]:
                return 401, {"errors": [{"message": "unauthenticated"}]}
            principal = Principal(row)
            await connection.fetchrow(SCOPE, ",".join(map(str, sorted(principal.family))), "off")
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
        self, connection: asyncpg.Connection, principal: Principal, rows: list[asyncpg.Record]
    ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        family = principal.family
        basic = principal.role == "BASIC"
        report_types = {
            r["id"]: {"code": r["code"], "name": r["name"], "category": r["category"]}
            for r in await connection.fetch(REPORT_TYPES, list({r["report_type_id"] for r in rows}))
        }
        employees = {
            r["id"]: {
                "id": global_id("Employee", r["id"]),
                "firstName": r["first_name"],
                "lastName": r["last_name"],
                # Minimum necessary, as the app: a Basic user gets no date of birth.
                "dateOfBirth": None if basic else r["date_of_birth"].isoformat(),
            }
            for r in await connection.fetch(
                EMPLOYEES, list({r["employee_id"] for r in rows}), family
            )
        }
        visits = {
            r["id"]: {
                "id": global_id("Visit", r["id"]),
                "visitType": r["visit_type"],
                "claimNumber": r["claim_number"],
                "status": r["status"],
            }
            for r in await connection.fetch(VISITS, list({r["visit_id"] for r in rows}), family)
        }
        centers = {
            r["id"]: {"id": global_id("MedicalCenter", r["id"]), "name": r["name"], "state": r[2]}
            for r in await connection.fetch(CENTERS, list({r["medical_center_id"] for r in rows}))
        }
        locations = {
            r["id"]: {"id": global_id("Location", r["id"]), "name": r["name"], "state": r[2]}
            for r in await connection.fetch(
                LOCATIONS, list({r["location_id"] for r in rows}), family
            )
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
        rows = await connection.fetch(ONE, principal.family, self._basic(principal), document_id)
        if not rows:
            return {"node": None}, {}
        nodes, audit = await self._nested(connection, principal, rows)
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
