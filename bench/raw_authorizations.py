"""The raw endpoint's (f) ``createAuthorization``: what the app's mutation writes, by hand.

On the request's one connection, inside its transaction (principal read and scope set by
``bench.raw_app``): claim the idempotency key (the app's upsert: a live key is left alone), read
the employee with its account's validity, the services and the center (what this input names;
a hand-written endpoint reads no package, location or contacts it was not given), check them as
the app does, then write in one statement the same rows as the app: the authorization (state
ACTIVE, sent now), its services, its history (CREATED, then SENT to the center), the two webhook
outbox messages (``authorization.created``, ``authorization.sent``), and the key's result. The
caller (``bench.raw_app``) inserts the same three audit rows as the app: ``authorization.created``
(details ``{"sent": true}``), ``authorizations.read`` and ``employees.read``.

Only an existing employee, an in-center or center-telemedicine modality, catalog services and
no extra recipients are handled (the benchmark's input); anything else answers a user error."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson

NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_VALIDITY_DAYS = 365
CENTER_MODALITIES = ("IN_CENTER", "CENTER_TELEMEDICINE")
OPERATION = "createAuthorization"
SENT_NOTE = "Sent electronically to the medical center."

CLAIM = """INSERT INTO idempotency_keys (id, account_id, principal_kind, principal_id, operation,
    key, request_hash, result, created_at, expires_at)
VALUES (gen_random_uuid(), $1, 'USER', $2, $3, $4, $5, NULL, now(), now() + interval '24 hours')
ON CONFLICT ON CONSTRAINT uq_idempotency_keys_principal_operation_key DO UPDATE
SET id = excluded.id, account_id = excluded.account_id, request_hash = excluded.request_hash,
    result = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
WHERE idempotency_keys.expires_at <= now()
RETURNING id"""

STORED = """SELECT request_hash, result FROM idempotency_keys
WHERE principal_kind = 'USER' AND principal_id = $1 AND operation = $2 AND key = $3"""

EMPLOYEE = """SELECT e.id, e.account_id, e.location_id, e.first_name, e.last_name,
       a.authorization_validity_days
FROM employees e JOIN accounts a ON a.id = e.account_id
WHERE e.id = $1 AND e.account_id = ANY($2::uuid[])"""
SERVICES = "SELECT id, code, name, is_active FROM services WHERE id = ANY($1::uuid[])"
CENTER = "SELECT id, name, is_active, telemedicine_capable FROM medical_centers WHERE id = $1"

# One statement, every row the app's mutation writes (foreign keys are checked at its end).
WRITE = """WITH authorization_row AS (
    INSERT INTO authorizations (id, account_id, number, employee_id, location_id, modality,
        medical_center_id, valid_from, valid_until, state, created_by_user_id, sent_at,
        created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ACTIVE', $10, $11, $12, $12)
), service_rows AS (
    INSERT INTO authorization_services (authorization_id, service_id, account_id)
    SELECT $1, s, $2 FROM unnest($13::uuid[]) AS s
), history_rows AS (
    INSERT INTO authorization_events (authorization_id, account_id, kind, actor_user_id, note,
        created_at, updated_at)
    VALUES ($1, $2, 'CREATED', $10, NULL, $12, $12), ($1, $2, 'SENT', $10, $14, $11, $11)
), outbox_rows AS (
    INSERT INTO outbox_messages (account_id, channel, topic, payload, status)
    VALUES ($2, 'WEBHOOK', 'authorization.created', $15::jsonb, 'PENDING'),
           ($2, 'WEBHOOK', 'authorization.sent', $16::jsonb, 'PENDING')
)
UPDATE idempotency_keys SET result = $17::jsonb WHERE id = $18"""


def global_id(type_name: str, value: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def decode(value: object, type_name: str) -> uuid.UUID:
    kind, _, raw = base64.b64decode(str(value)).decode().partition(":")
    if kind != type_name:
        raise ValueError(f"not a {type_name} id")
    return uuid.UUID(raw)


def new_number() -> str:
    return "AUTH-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


def request_hash(given: dict[str, Any]) -> str:
    """SHA-256 of the input's canonical JSON, the key left out (as the app fingerprints it)."""
    plain = {k: v for k, v in given.items() if k != "idempotencyKey" and v is not None}
    return hashlib.sha256(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _error(field: str, code: str, message: str) -> dict[str, Any]:
    return {
        "createAuthorization": {
            "authorization": None,
            "userErrors": [{"field": field, "code": code, "message": message}],
        }
    }


async def create_authorization(
    connection: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    family: list[uuid.UUID],
    given: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The answer's ``data`` and the audit rows' object ids by action."""
    key = given.get("idempotencyKey")
    if not isinstance(key, str) or not 1 <= len(key) <= 200:
        return _error("idempotencyKey", "BAD_USER_INPUT", "Give an idempotency key."), {}
    claimed = await connection.fetchval(
        CLAIM, account_id, user_id, OPERATION, key, request_hash(given)
    )
    if claimed is None:  # a replay (never in the benchmark: every request has a new key)
        stored = await connection.fetchrow(STORED, user_id, OPERATION, key)
        if stored["request_hash"] != request_hash(given):
            return _error("idempotencyKey", "IDEMPOTENCY_KEY_REUSED", "Key reused."), {}
        return {"createAuthorization": {"authorization": None, "userErrors": []}}, {}
    employee = await connection.fetchrow(
        EMPLOYEE, decode(given.get("employeeId"), "Employee"), family
    )
    if employee is None:
        return _error("employeeId", "NOT_FOUND", "No employee of yours has this id."), {}
    service_ids = list(dict.fromkeys(decode(s, "Service") for s in given.get("serviceIds", [])))
    services = {row["id"]: row for row in await connection.fetch(SERVICES, service_ids)}
    if not service_ids or any(not (services.get(s) or {}).get("is_active") for s in service_ids):
        return _error("serviceIds", "NOT_FOUND", "No active service has this id."), {}
    modality = given.get("modality")
    center = None
    if modality in CENTER_MODALITIES and given.get("medicalCenterId"):
        center = await connection.fetchrow(
            CENTER, decode(given["medicalCenterId"], "MedicalCenter")
        )
    if center is None or not center["is_active"] or given.get("recipients"):
        return _error("medicalCenterId", "BAD_USER_INPUT", "Not handled here."), {}
    if modality == "CENTER_TELEMEDICINE" and not center["telemedicine_capable"]:
        return _error("medicalCenterId", "BAD_USER_INPUT", "No telemedicine."), {}
    today = datetime.now(UTC).date()
    valid_from = date.fromisoformat(given["validFrom"]) if given.get("validFrom") else today
    valid_until = valid_from + timedelta(days=employee["authorization_validity_days"])
    if valid_from < today - timedelta(days=1) or (valid_until - valid_from).days > (
        MAX_VALIDITY_DAYS
    ):
        return _error("validFrom", "BAD_USER_INPUT", "Bad validity."), {}

    authorization_id = uuid.uuid4()
    number = new_number()
    now = datetime.now(UTC)
    sent_at = now + timedelta(microseconds=1)
    account = employee["account_id"]
    created = {
        "event": "authorization.created",
        "data": {
            "authorizationId": global_id("Authorization", authorization_id),
            "employeeId": global_id("Employee", employee["id"]),
            "locationId": global_id("Location", employee["location_id"]),
        },
    }
    sent = {
        "event": "authorization.sent",
        "data": {
            "authorizationId": global_id("Authorization", authorization_id),
            "medicalCenterId": global_id("MedicalCenter", center["id"]),
        },
    }
    await connection.execute(
        WRITE,
        authorization_id,
        account,
        number,
        employee["id"],
        employee["location_id"],
        modality,
        center["id"],
        valid_from,
        valid_until,
        user_id,
        sent_at,
        now,
        service_ids,
        SENT_NOTE,
        orjson.dumps(created).decode(),
        orjson.dumps(sent).decode(),
        orjson.dumps({"authorizationIds": [str(authorization_id)]}).decode(),
        claimed,
    )
    data = {
        "createAuthorization": {
            "authorization": {
                "id": global_id("Authorization", authorization_id),
                "number": number,
                "status": "ACTIVE",
                "modality": modality,
                "validFrom": valid_from.isoformat(),
                "validUntil": valid_until.isoformat(),
                "sentAt": sent_at.isoformat(),
                "employee": {
                    "id": global_id("Employee", employee["id"]),
                    "firstName": employee["first_name"],
                    "lastName": employee["last_name"],
                },
                "services": [
                    {"code": row["code"]}
                    for row in sorted(
                        (services[s] for s in service_ids), key=lambda r: (r["name"], r["id"])
                    )
                ],
                "medicalCenter": {"name": center["name"]},
            },
            "userErrors": [],
        }
    }
    audit = {
        "authorization.created": [str(authorization_id)],
        "authorizations.read": [str(authorization_id)],
        "employees.read": [str(employee["id"])],
    }
    return data, audit
