"""The side-by-side benchmark's data set, in a scratch database of its own.

A login role neither superuser nor BYPASSRLS (like production) owns a fresh database; the
migrations run as that role; then the data is generated as the admin with set-based SQL
(``INSERT ... SELECT generate_series``, see ``bench.document_search.generate``): accounts with two
locations each, employees, one visit per document, documents. The first account gets a User Admin
and a Basic user (subscribed to half the report types at both locations), and its 20 newest
documents get real one-page PDFs in the document store (the download scenarios merge them);
scenario (f) authorizes one of its employees for a catalog service at a center.
Everything is dropped at the end (``Scratch.drop``)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bench.document_search import generate
from portal.auth.keys import generate_key
from portal.embedded import (
    database_url,
    drop_app_role,
    drop_database,
    ensure_app_role,
    ensure_database,
)
from portal.migrations import upgrade_async
from portal.models.db import AccountScope, create_engine, set_scope
from portal.seed.pdfs import render_document_pdf
from portal.seed.reference import seed_reference_data
from portal.storage import LocalDocumentStorage

# How many documents of the first account carry real PDF bytes (scenario g merges them all).
PDF_DOCUMENTS = 20


@dataclass
class Scratch:
    """Where the data set lives: the database (as the app role and as the admin) and the folder
    holding the signing key and the documents' bytes."""

    admin_url: str
    name: str
    role: str
    url: str
    data_dir: Path

    @property
    def storage(self) -> LocalDocumentStorage:
        return LocalDocumentStorage(root=self.data_dir / "documents")

    @property
    def admin_database_url(self) -> str:
        return database_url(self.admin_url, self.name)

    @property
    def key_file(self) -> Path:
        return self.data_dir / "signing-key.jwk"

    async def drop(self) -> None:
        await drop_database(self.admin_url, self.name)
        await drop_app_role(self.admin_url, self.role)


@dataclass
class DataSet:
    scratch: Scratch
    account_id: uuid.UUID
    admin_id: uuid.UUID
    basic_id: uuid.UUID
    pdf_document_ids: list[uuid.UUID]
    pdf_keys: list[str]
    documents: int
    generated_seconds: float
    # What (f) createAuthorization names: an employee of the first account, a catalog service
    # and a medical center, all active.
    employee_id: uuid.UUID
    service_id: uuid.UUID
    center_id: uuid.UUID


async def create_scratch(admin_url: str, data_dir: Path) -> Scratch:
    tag = uuid.uuid4().hex[:8]
    role = f"portal_bench_app_{tag}"
    name = f"portal_bench_{tag}"
    await ensure_app_role(admin_url, role)
    await ensure_database(admin_url, name, owner=role)
    scratch = Scratch(
        admin_url=admin_url,
        name=name,
        role=role,
        url=database_url(admin_url, name, user=role),
        data_dir=data_dir,
    )
    key = generate_key()
    scratch.key_file.write_text(json.dumps(key.as_dict(private=True)))
    scratch.key_file.chmod(0o600)
    return scratch


async def build(scratch: Scratch, *, accounts: int, documents: int) -> DataSet:
    await upgrade_async(scratch.url)
    engine = create_engine(scratch.url, pool_size=1, max_overflow=0)
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        await seed_reference_data(session)
        await session.commit()
    await engine.dispose()

    employees = max(accounts * 2, documents // 3)
    admin_engine = create_engine(scratch.admin_database_url, pool_size=1, max_overflow=0)
    started = time.perf_counter()
    async with admin_engine.begin() as connection:
        account_id = await generate(
            connection,
            accounts=accounts,
            employees=employees,
            documents=documents,
            trusted=await _superuser(connection),
        )
    await admin_engine.dispose()
    generated = time.perf_counter() - started

    connection = await asyncpg.connect(scratch.admin_database_url)
    try:
        admin_id, basic_id = await _users(connection, account_id)
        pdf_ids, pdf_keys = await _pdfs(connection, account_id, scratch.data_dir / "documents")
        employee_id = await connection.fetchval(
            "SELECT id FROM employees WHERE account_id = $1 ORDER BY id LIMIT 1", account_id
        )
        service_id = await connection.fetchval(
            "SELECT id FROM services WHERE is_active ORDER BY code LIMIT 1"
        )
        center_id = await connection.fetchval(
            "SELECT id FROM medical_centers WHERE is_active ORDER BY code LIMIT 1"
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return DataSet(
        scratch=scratch,
        account_id=account_id,
        admin_id=admin_id,
        basic_id=basic_id,
        pdf_document_ids=pdf_ids,
        pdf_keys=pdf_keys,
        documents=documents,
        generated_seconds=generated,
        employee_id=employee_id,
        service_id=service_id,
        center_id=center_id,
    )


async def _superuser(connection: AsyncConnection) -> bool:
    return bool(
        await connection.scalar(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )
    )


async def _users(
    connection: asyncpg.Connection, account_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID]:
    ids: list[uuid.UUID] = []
    for role, email in (("USER_ADMIN", "admin@bench.example"), ("BASIC", "basic@bench.example")):
        contact_id = await connection.fetchval(
            "INSERT INTO contacts (account_id, first_name, last_name, work_email) "
            "VALUES ($1, 'Bench', $2, $3) RETURNING id",
            account_id,
            role.title(),
            email,
        )
        user_id = await connection.fetchval(
            # Signed in by minted tokens only: the password hash matches no password.
            "INSERT INTO portal_users (contact_id, account_id, email, role, status, "
            "password_hash, password_changed_at) "
            "VALUES ($1, $2, $3, $4, 'ACTIVE', '!bench', now()) RETURNING id",
            contact_id,
            account_id,
            email,
            role,
        )
        ids.append(user_id)
        if role == "BASIC":
            await connection.execute(
                """INSERT INTO report_subscriptions (account_id, contact_id, report_type_id,
                                                     location_id)
                   SELECT $1, $2, rt.id, l.id
                   FROM (SELECT id FROM report_types ORDER BY code LIMIT 4) rt
                   CROSS JOIN (SELECT id FROM locations WHERE account_id = $1) l""",
                account_id,
                contact_id,
            )
    return ids[0], ids[1]


async def _pdfs(
    connection: asyncpg.Connection, account_id: uuid.UUID, root: Path
) -> tuple[list[uuid.UUID], list[str]]:
    storage = LocalDocumentStorage(root=root)
    keys: list[str] = []
    rows = await connection.fetch(
        "SELECT id, name FROM documents WHERE account_id = $1 "
        "ORDER BY posted_at DESC, id DESC LIMIT $2",
        account_id,
        PDF_DOCUMENTS,
    )
    for index, row in enumerate(rows):
        data = render_document_pdf(
            title=row["name"],
            employee_name=f"Bench Employee {index}",
            date_of_birth=date(1980, 1, 1),
            visit_date=date(2026, 1, 1),
            center_name="Bench Center",
            report_type_name="Drug Screen",
            pages=1,
            lines=[f"Result line {n} of document {index}" for n in range(12)],
        )
        key = await storage.put(data)
        keys.append(key)
        await connection.execute(
            "UPDATE documents SET storage_key = $2, sha256 = $3, size_bytes = $4, page_count = 1 "
            "WHERE id = $1",
            row["id"],
            key,
            hashlib.sha256(data).hexdigest(),
            len(data),
        )
    return [row["id"] for row in rows], keys
