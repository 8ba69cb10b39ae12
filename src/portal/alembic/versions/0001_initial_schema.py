"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Trigram search (pg_trgm) and composite GIN indexes that start with the account (btree_gin).
    # Both are trusted extensions: a database owner may create them without superuser rights.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_table(
        "accounts",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("parent_account_id", sa.Uuid(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("account_number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "is_third_party_administrator",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column("mailing_street", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("mailing_city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("mailing_state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column(
            "mailing_postal_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True
        ),
        sa.Column("billing_street", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("billing_city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("billing_state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column(
            "billing_postal_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True
        ),
        sa.Column("main_phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("fax", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("retention_days", sa.Integer(), server_default="90", nullable=False),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_accounts_name_not_blank")),
        sa.CheckConstraint(
            "parent_account_id IS NULL OR parent_account_id <> id",
            name=op.f("ck_accounts_not_own_parent"),
        ),
        sa.CheckConstraint(
            "retention_days BETWEEN 1 AND 3650", name=op.f("ck_accounts_retention_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["parent_account_id"],
            ["accounts.id"],
            name=op.f("fk_accounts_parent_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("account_number", name=op.f("uq_accounts_account_number")),
    )
    op.create_index(
        op.f("ix_accounts_parent_account_id"), "accounts", ["parent_account_id"], unique=False
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "actor_type",
            sa.Enum(
                "USER",
                "STAFF",
                "API_CLIENT",
                "ANONYMOUS",
                "SYSTEM",
                name="actor_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "object_ids",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.Enum(
                "ALLOWED",
                "DENIED",
                name="audit_result",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("operation_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_account_id_occurred_at",
        "audit_events",
        ["account_id", sa.literal_column("occurred_at DESC")],
        unique=False,
    )
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"], unique=False)
    op.create_index(
        "ix_audit_events_occurred_at",
        "audit_events",
        [sa.literal_column("occurred_at DESC")],
        unique=False,
    )
    op.create_table(
        "medical_centers",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("hours", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "telemedicine_capable", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint("state ~ '^[A-Z]{2}$'", name=op.f("ck_medical_centers_state_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_centers")),
        sa.UniqueConstraint("code", name=op.f("uq_medical_centers_code")),
    )
    op.create_index(
        "ix_medical_centers_name_trgm",
        "medical_centers",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_medical_centers_state"), "medical_centers", ["state"], unique=False)
    op.create_table(
        "portal_links",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("url ~ '^https://'", name=op.f("ck_portal_links_url_https")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_links")),
        sa.UniqueConstraint("label", name=op.f("uq_portal_links_label")),
    )
    op.create_table(
        "report_types",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "INJURY",
                "NON_INJURY",
                name="service_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_types")),
        sa.UniqueConstraint("code", name=op.f("uq_report_types_code")),
    )
    op.create_table(
        "services",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "INJURY",
                "NON_INJURY",
                name="service_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("code", name=op.f("uq_services_code")),
    )
    op.create_table(
        "staff_users",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'", name=op.f("ck_staff_users_email_format")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
    )
    op.create_index(
        "uq_staff_users_lower_email",
        "staff_users",
        [sa.literal_column("lower(email)")],
        unique=True,
    )
    op.create_table(
        "contacts",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("work_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            "work_email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'",
            name=op.f("ck_contacts_work_email_format"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_contacts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("account_id", "id", name="uq_contacts_account_id_id"),
    )
    op.create_index(op.f("ix_contacts_account_id"), "contacts", ["account_id"], unique=False)
    op.create_index(
        "uq_contacts_account_id_lower_work_email",
        "contacts",
        ["account_id", sa.literal_column("lower(work_email)")],
        unique=True,
    )
    op.create_table(
        "locations",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.CheckConstraint("state ~ '^[A-Z]{2}$'", name=op.f("ck_locations_state_code")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_locations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("account_id", "id", name="uq_locations_account_id_id"),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_locations_account_id_name")),
    )
    op.create_index(op.f("ix_locations_account_id"), "locations", ["account_id"], unique=False)
    op.create_index(op.f("ix_locations_state"), "locations", ["state"], unique=False)
    op.create_table(
        "outbox_messages",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "EMAIL",
                "WEBHOOK",
                name="outbox_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "DELIVERED",
                "FAILED",
                name="outbox_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'DELIVERED') = (delivered_at IS NOT NULL)",
            name=op.f("ck_outbox_messages_delivered_iff_delivered_at"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_messages_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_outbox_messages_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        op.f("ix_outbox_messages_account_id"), "outbox_messages", ["account_id"], unique=False
    )
    op.create_index(
        "ix_outbox_messages_due",
        "outbox_messages",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_table(
        "service_packages",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_service_packages_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_packages")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_service_packages_account_id_name")),
    )
    op.create_index(
        op.f("ix_service_packages_account_id"), "service_packages", ["account_id"], unique=False
    )
    op.create_table(
        "employees",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "full_name",
            sa.Text(),
            sa.Computed("lower(first_name || ' ' || last_name)", persisted=True),
            nullable=True,
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("employee_number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.CheckConstraint(
            "date_of_birth > DATE '1900-01-01'", name=op.f("ck_employees_date_of_birth_plausible")
        ),
        sa.CheckConstraint(
            "length(btrim(first_name)) > 0 AND length(btrim(last_name)) > 0",
            name=op.f("ck_employees_names_not_blank"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_employees_location_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_employees_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_employees_location_id_locations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint(
            "account_id", "employee_number", name=op.f("uq_employees_account_id_employee_number")
        ),
        sa.UniqueConstraint("account_id", "id", name="uq_employees_account_id_id"),
    )
    op.create_index(
        "ix_employees_account_id_date_of_birth",
        "employees",
        ["account_id", "date_of_birth"],
        unique=False,
    )
    op.create_index(
        "ix_employees_account_id_full_name_trgm",
        "employees",
        ["account_id", "full_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"full_name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_employees_location_id"), "employees", ["location_id"], unique=False)
    op.create_table(
        "notification_preferences",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "email_on_new_results", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_notification_preferences_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_notification_preferences_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_notification_preferences")),
    )
    op.create_index(
        op.f("ix_notification_preferences_account_id"),
        "notification_preferences",
        ["account_id"],
        unique=False,
    )
    op.create_table(
        "portal_users",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "USER_ADMIN",
                "BASIC",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "INVITED",
                "ACTIVE",
                "DEACTIVATED",
                name="user_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_login_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'", name=op.f("ck_portal_users_email_format")
        ),
        sa.CheckConstraint(
            "status <> 'ACTIVE' OR password_hash IS NOT NULL",
            name=op.f("ck_portal_users_active_has_password"),
        ),
        sa.CheckConstraint(
            "totp_confirmed_at IS NULL OR totp_secret IS NOT NULL",
            name=op.f("ck_portal_users_totp_confirmed_has_secret"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.id"],
            name="fk_portal_users_contact_same_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_portal_users_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_portal_users_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_users")),
        sa.UniqueConstraint("account_id", "id", name="uq_portal_users_account_id_id"),
        sa.UniqueConstraint("contact_id", name=op.f("uq_portal_users_contact_id")),
    )
    op.create_index(
        op.f("ix_portal_users_account_id"), "portal_users", ["account_id"], unique=False
    )
    op.create_index(
        "uq_portal_users_lower_email",
        "portal_users",
        [sa.literal_column("lower(email)")],
        unique=True,
    )
    op.create_table(
        "report_subscriptions",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("report_type_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.id"],
            name="fk_report_subscriptions_contact_same_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_report_subscriptions_location_same_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_report_subscriptions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_report_subscriptions_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_report_subscriptions_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_type_id"],
            ["report_types.id"],
            name=op.f("fk_report_subscriptions_report_type_id_report_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_subscriptions")),
        sa.UniqueConstraint(
            "contact_id",
            "report_type_id",
            "location_id",
            name=op.f("uq_report_subscriptions_contact_id_report_type_id_location_id"),
        ),
    )
    op.create_index(
        op.f("ix_report_subscriptions_account_id"),
        "report_subscriptions",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_subscriptions_contact_id"),
        "report_subscriptions",
        ["contact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_subscriptions_location_id"),
        "report_subscriptions",
        ["location_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_subscriptions_report_type_id"),
        "report_subscriptions",
        ["report_type_id"],
        unique=False,
    )
    op.create_table(
        "service_package_items",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_service_package_items_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["service_packages.id"],
            name=op.f("fk_service_package_items_package_id_service_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_service_package_items_service_id_services"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("package_id", "service_id", name=op.f("pk_service_package_items")),
    )
    op.create_index(
        op.f("ix_service_package_items_account_id"),
        "service_package_items",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_service_package_items_service_id"),
        "service_package_items",
        ["service_id"],
        unique=False,
    )
    op.create_table(
        "access_requests",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column(
            "requested_role",
            sa.Enum(
                "USER_ADMIN",
                "BASIC",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_staff_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "APPROVED",
                "DECLINED",
                name="access_request_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.CheckConstraint(
            "(status = 'PENDING') = (decided_at IS NULL)",
            name=op.f("ck_access_requests_decided_iff_not_pending"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_access_requests_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_access_requests_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["portal_users.id"],
            name=op.f("fk_access_requests_decided_by_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_access_requests_requested_by_staff_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index(
        op.f("ix_access_requests_account_id"), "access_requests", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_access_requests_contact_id"), "access_requests", ["contact_id"], unique=False
    )
    op.create_index(
        op.f("ix_access_requests_requested_by_staff_id"),
        "access_requests",
        ["requested_by_staff_id"],
        unique=False,
    )
    op.create_index(
        "uq_access_requests_pending_contact",
        "access_requests",
        ["contact_id"],
        unique=True,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_table(
        "api_clients",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("scopes", sa.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cardinality(scopes) > 0", name=op.f("ck_api_clients_has_scopes")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_api_clients_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["portal_users.id"],
            name=op.f("fk_api_clients_created_by_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    op.create_index(op.f("ix_api_clients_account_id"), "api_clients", ["account_id"], unique=False)
    op.create_table(
        "user_permissions",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "permission",
            sa.Enum(
                "VIEW_VISIT_ACTIVITY",
                name="permission",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "user_id"],
            ["portal_users.account_id", "portal_users.id"],
            name="fk_user_permissions_user_same_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_user_permissions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["portal_users.id"],
            name=op.f("fk_user_permissions_granted_by_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_user_permissions_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "permission", name=op.f("pk_user_permissions")),
    )
    op.create_index(
        op.f("ix_user_permissions_account_id"), "user_permissions", ["account_id"], unique=False
    )
    op.create_table(
        "authorizations",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("employee_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column(
            "modality",
            sa.Enum(
                "IN_CENTER",
                "CENTER_TELEMEDICINE",
                "TELEMEDICINE",
                "TELEREHAB",
                name="modality",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("medical_center_id", sa.Uuid(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column(
            "special_instructions", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.Column(
            "state",
            sa.Enum(
                "ACTIVE",
                "USED",
                "CANCELLED",
                name="authorization_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("service_package_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_user_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(state = 'CANCELLED') = (cancelled_at IS NOT NULL)",
            name=op.f("ck_authorizations_cancelled_iff_cancelled_at"),
        ),
        sa.CheckConstraint(
            "modality NOT IN ('IN_CENTER', 'CENTER_TELEMEDICINE') OR medical_center_id IS NOT NULL",
            name=op.f("ck_authorizations_center_modality_has_center"),
        ),
        sa.CheckConstraint(
            "(deleted_at IS NULL) = (deleted_by_user_id IS NULL)",
            name=op.f("ck_authorizations_deleted_has_actor"),
        ),
        sa.CheckConstraint(
            "template_id IS NULL OR template_id <> id",
            name=op.f("ck_authorizations_not_own_template"),
        ),
        sa.CheckConstraint("valid_until >= valid_from", name=op.f("ck_authorizations_valid_range")),
        sa.ForeignKeyConstraint(
            ["account_id", "employee_id"],
            ["employees.account_id", "employees.id"],
            name="fk_authorizations_employee_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_authorizations_location_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_authorizations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_authorizations_created_by_client_id_api_clients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["portal_users.id"],
            name=op.f("fk_authorizations_created_by_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_user_id"],
            ["portal_users.id"],
            name=op.f("fk_authorizations_deleted_by_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_authorizations_employee_id_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_authorizations_location_id_locations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["medical_center_id"],
            ["medical_centers.id"],
            name=op.f("fk_authorizations_medical_center_id_medical_centers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_package_id"],
            ["service_packages.id"],
            name=op.f("fk_authorizations_service_package_id_service_packages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["authorizations.id"],
            name=op.f("fk_authorizations_template_id_authorizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
        sa.UniqueConstraint("account_id", "id", name="uq_authorizations_account_id_id"),
        sa.UniqueConstraint("number", name=op.f("uq_authorizations_number")),
    )
    op.create_index(
        "ix_authorizations_account_id_created_at",
        "authorizations",
        ["account_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_authorizations_created_by_user_id_created_at",
        "authorizations",
        ["created_by_user_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_authorizations_employee_id"), "authorizations", ["employee_id"], unique=False
    )
    op.create_index(
        op.f("ix_authorizations_location_id"), "authorizations", ["location_id"], unique=False
    )
    op.create_index(
        op.f("ix_authorizations_medical_center_id"),
        "authorizations",
        ["medical_center_id"],
        unique=False,
    )
    op.create_table(
        "authorization_events",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CREATED",
                "SENT",
                "EXTENDED",
                "CANCELLED",
                "USED",
                "DELETED",
                name="authorization_event_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("previous_valid_until", sa.Date(), nullable=True),
        sa.Column("new_valid_until", sa.Date(), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_client_id", sa.Uuid(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.CheckConstraint(
            "kind <> 'EXTENDED' OR (previous_valid_until IS NOT NULL AND new_valid_until > previous_valid_until)",
            name=op.f("ck_authorization_events_extension_moves_end_later"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_authorization_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_client_id"],
            ["api_clients.id"],
            name=op.f("fk_authorization_events_actor_client_id_api_clients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["portal_users.id"],
            name=op.f("fk_authorization_events_actor_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_events_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_events")),
    )
    op.create_index(
        op.f("ix_authorization_events_account_id"),
        "authorization_events",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_authorization_events_authorization_id"),
        "authorization_events",
        ["authorization_id"],
        unique=False,
    )
    op.create_table(
        "authorization_recipients",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "EMPLOYEE",
                "OTHER",
                name="recipient_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_authorization_recipients_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_recipients_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_recipients")),
    )
    op.create_index(
        op.f("ix_authorization_recipients_account_id"),
        "authorization_recipients",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        "uq_authorization_recipients_authorization_id_lower_email",
        "authorization_recipients",
        ["authorization_id", sa.literal_column("lower(email)")],
        unique=True,
    )
    op.create_table(
        "authorization_services",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_authorization_services_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_services_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_authorization_services_service_id_services"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "authorization_id", "service_id", name=op.f("pk_authorization_services")
        ),
    )
    op.create_index(
        op.f("ix_authorization_services_account_id"),
        "authorization_services",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_authorization_services_service_id"),
        "authorization_services",
        ["service_id"],
        unique=False,
    )
    op.create_table(
        "visits",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("employee_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("medical_center_id", sa.Uuid(), nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "visit_type",
            sa.Enum(
                "INJURY",
                "NON_INJURY",
                name="visit_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("claim_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CHECKED_IN",
                "CHECKED_OUT",
                "RESULTS_PENDING",
                "COMPLETE",
                name="visit_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status = 'CHECKED_IN' OR checked_out_at IS NOT NULL",
            name=op.f("ck_visits_checked_out_has_time"),
        ),
        sa.CheckConstraint(
            "visit_type = 'INJURY' OR claim_number IS NULL",
            name=op.f("ck_visits_claim_number_only_for_injury"),
        ),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= visited_at",
            name=op.f("ck_visits_check_out_after_visit"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "employee_id"],
            ["employees.account_id", "employees.id"],
            name="fk_visits_employee_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_visits_location_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_visits_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_visits_authorization_id_authorizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_visits_employee_id_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_visits_location_id_locations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["medical_center_id"],
            ["medical_centers.id"],
            name=op.f("fk_visits_medical_center_id_medical_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("account_id", "id", name="uq_visits_account_id_id"),
    )
    op.create_index(
        "ix_visits_account_id_claim_number", "visits", ["account_id", "claim_number"], unique=False
    )
    op.create_index(
        "ix_visits_account_id_visited_at",
        "visits",
        ["account_id", sa.literal_column("visited_at DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_visits_authorization_id"), "visits", ["authorization_id"], unique=False
    )
    op.create_index(op.f("ix_visits_employee_id"), "visits", ["employee_id"], unique=False)
    op.create_index(op.f("ix_visits_location_id"), "visits", ["location_id"], unique=False)
    op.create_index(
        op.f("ix_visits_medical_center_id"), "visits", ["medical_center_id"], unique=False
    )
    op.create_table(
        "documents",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("employee_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("report_type_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "posted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "retraction_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True
        ),
        sa.Column("retracted_by_staff_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_documents_sha256_hex")),
        sa.CheckConstraint(
            "(retracted_at IS NULL) = (retracted_by_staff_id IS NULL)",
            name=op.f("ck_documents_retraction_has_actor"),
        ),
        sa.CheckConstraint(
            "(retracted_at IS NULL) = (retraction_reason IS NULL)",
            name=op.f("ck_documents_retraction_has_reason"),
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_documents_name_not_blank")),
        sa.CheckConstraint("page_count > 0", name=op.f("ck_documents_page_count_positive")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["account_id", "employee_id"],
            ["employees.account_id", "employees.id"],
            name="fk_documents_employee_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_documents_location_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "visit_id"],
            ["visits.account_id", "visits.id"],
            name="fk_documents_visit_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_documents_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_documents_employee_id_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_documents_location_id_locations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_type_id"],
            ["report_types.id"],
            name=op.f("fk_documents_report_type_id_report_types"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["retracted_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_documents_retracted_by_staff_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_documents_visit_id_visits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(
        "ix_documents_account_id_posted_at",
        "documents",
        ["account_id", sa.literal_column("posted_at DESC"), "id"],
        unique=False,
    )
    op.create_index(op.f("ix_documents_employee_id"), "documents", ["employee_id"], unique=False)
    op.create_index(op.f("ix_documents_location_id"), "documents", ["location_id"], unique=False)
    op.create_index(
        "ix_documents_name_trgm",
        "documents",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_documents_report_type_id"), "documents", ["report_type_id"], unique=False
    )
    op.create_index(op.f("ix_documents_visit_id"), "documents", ["visit_id"], unique=False)
    op.create_table(
        "support_requests",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "request_type",
            sa.Enum(
                "ACCOUNT_UPDATE",
                "TREATMENT_RESULT",
                name="support_request_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "topic",
            sa.Enum(
                "NEW_REPORT_TYPE",
                "EMAIL_CHANGE",
                "NOTIFICATIONS",
                "ADD_REMOVE_SERVICES",
                "OTHER",
                "SERVICES_QUESTION",
                "MISSING_RESULTS",
                "BILLING",
                "PRIVACY",
                name="support_topic",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "urgent", sa.Boolean(), sa.Computed("topic = 'PRIVACY'", persisted=True), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum(
                "NEW",
                "IN_PROGRESS",
                "RESOLVED",
                "CLOSED",
                name="support_request_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requester_user_id", sa.Uuid(), nullable=True),
        sa.Column("requester_staff_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_staff_id", sa.Uuid(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.CheckConstraint(
            "(request_type = 'ACCOUNT_UPDATE') = (topic IN ('NEW_REPORT_TYPE', 'EMAIL_CHANGE', 'NOTIFICATIONS', 'ADD_REMOVE_SERVICES', 'OTHER'))",
            name=op.f("ck_support_requests_topic_matches_type"),
        ),
        sa.CheckConstraint(
            "(requester_user_id IS NULL) <> (requester_staff_id IS NULL)",
            name=op.f("ck_support_requests_one_requester"),
        ),
        sa.CheckConstraint(
            "length(btrim(description)) > 0", name=op.f("ck_support_requests_description_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_support_requests_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_support_requests_assigned_staff_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_support_requests_document_id_documents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requester_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_support_requests_requester_staff_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requester_user_id"],
            ["portal_users.id"],
            name=op.f("fk_support_requests_requester_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_support_requests_visit_id_visits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_support_requests_number")),
    )
    op.create_index(
        "ix_support_requests_account_id_created_at",
        "support_requests",
        ["account_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_support_requests_requester_user_id"),
        "support_requests",
        ["requester_user_id"],
        unique=False,
    )
    op.create_table(
        "support_comments",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("support_request_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("author_staff_id", sa.Uuid(), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.CheckConstraint(
            "(author_user_id IS NULL) <> (author_staff_id IS NULL)",
            name=op.f("ck_support_comments_one_author"),
        ),
        sa.CheckConstraint(
            "length(btrim(body)) > 0", name=op.f("ck_support_comments_body_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_support_comments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_support_comments_author_staff_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["portal_users.id"],
            name=op.f("fk_support_comments_author_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["support_request_id"],
            ["support_requests.id"],
            name=op.f("fk_support_comments_support_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_comments")),
    )
    op.create_index(
        op.f("ix_support_comments_account_id"), "support_comments", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_support_comments_support_request_id"),
        "support_comments",
        ["support_request_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_support_comments_support_request_id"), table_name="support_comments")
    op.drop_index(op.f("ix_support_comments_account_id"), table_name="support_comments")
    op.drop_table("support_comments")
    op.drop_index(op.f("ix_support_requests_requester_user_id"), table_name="support_requests")
    op.drop_index("ix_support_requests_account_id_created_at", table_name="support_requests")
    op.drop_table("support_requests")
    op.drop_index(op.f("ix_documents_visit_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_report_type_id"), table_name="documents")
    op.drop_index(
        "ix_documents_name_trgm",
        table_name="documents",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_index(op.f("ix_documents_location_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_employee_id"), table_name="documents")
    op.drop_index("ix_documents_account_id_posted_at", table_name="documents")
    op.drop_table("documents")
    op.drop_index(op.f("ix_visits_medical_center_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_location_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_employee_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_authorization_id"), table_name="visits")
    op.drop_index("ix_visits_account_id_visited_at", table_name="visits")
    op.drop_index("ix_visits_account_id_claim_number", table_name="visits")
    op.drop_table("visits")
    op.drop_index(op.f("ix_authorization_services_service_id"), table_name="authorization_services")
    op.drop_index(op.f("ix_authorization_services_account_id"), table_name="authorization_services")
    op.drop_table("authorization_services")
    op.drop_index(
        "uq_authorization_recipients_authorization_id_lower_email",
        table_name="authorization_recipients",
    )
    op.drop_index(
        op.f("ix_authorization_recipients_account_id"), table_name="authorization_recipients"
    )
    op.drop_table("authorization_recipients")
    op.drop_index(
        op.f("ix_authorization_events_authorization_id"), table_name="authorization_events"
    )
    op.drop_index(op.f("ix_authorization_events_account_id"), table_name="authorization_events")
    op.drop_table("authorization_events")
    op.drop_index(op.f("ix_authorizations_medical_center_id"), table_name="authorizations")
    op.drop_index(op.f("ix_authorizations_location_id"), table_name="authorizations")
    op.drop_index(op.f("ix_authorizations_employee_id"), table_name="authorizations")
    op.drop_index("ix_authorizations_created_by_user_id_created_at", table_name="authorizations")
    op.drop_index("ix_authorizations_account_id_created_at", table_name="authorizations")
    op.drop_table("authorizations")
    op.drop_index(op.f("ix_user_permissions_account_id"), table_name="user_permissions")
    op.drop_table("user_permissions")
    op.drop_index(op.f("ix_api_clients_account_id"), table_name="api_clients")
    op.drop_table("api_clients")
    op.drop_index(
        "uq_access_requests_pending_contact",
        table_name="access_requests",
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.drop_index(op.f("ix_access_requests_requested_by_staff_id"), table_name="access_requests")
    op.drop_index(op.f("ix_access_requests_contact_id"), table_name="access_requests")
    op.drop_index(op.f("ix_access_requests_account_id"), table_name="access_requests")
    op.drop_table("access_requests")
    op.drop_index(op.f("ix_service_package_items_service_id"), table_name="service_package_items")
    op.drop_index(op.f("ix_service_package_items_account_id"), table_name="service_package_items")
    op.drop_table("service_package_items")
    op.drop_index(op.f("ix_report_subscriptions_report_type_id"), table_name="report_subscriptions")
    op.drop_index(op.f("ix_report_subscriptions_location_id"), table_name="report_subscriptions")
    op.drop_index(op.f("ix_report_subscriptions_contact_id"), table_name="report_subscriptions")
    op.drop_index(op.f("ix_report_subscriptions_account_id"), table_name="report_subscriptions")
    op.drop_table("report_subscriptions")
    op.drop_index("uq_portal_users_lower_email", table_name="portal_users")
    op.drop_index(op.f("ix_portal_users_account_id"), table_name="portal_users")
    op.drop_table("portal_users")
    op.drop_index(
        op.f("ix_notification_preferences_account_id"), table_name="notification_preferences"
    )
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_employees_location_id"), table_name="employees")
    op.drop_index(
        "ix_employees_account_id_full_name_trgm",
        table_name="employees",
        postgresql_using="gin",
        postgresql_ops={"full_name": "gin_trgm_ops"},
    )
    op.drop_index("ix_employees_account_id_date_of_birth", table_name="employees")
    op.drop_table("employees")
    op.drop_index(op.f("ix_service_packages_account_id"), table_name="service_packages")
    op.drop_table("service_packages")
    op.drop_index(
        "ix_outbox_messages_due",
        table_name="outbox_messages",
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.drop_index(op.f("ix_outbox_messages_account_id"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index(op.f("ix_locations_state"), table_name="locations")
    op.drop_index(op.f("ix_locations_account_id"), table_name="locations")
    op.drop_table("locations")
    op.drop_index("uq_contacts_account_id_lower_work_email", table_name="contacts")
    op.drop_index(op.f("ix_contacts_account_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("uq_staff_users_lower_email", table_name="staff_users")
    op.drop_table("staff_users")
    op.drop_table("services")
    op.drop_table("report_types")
    op.drop_table("portal_links")
    op.drop_index(op.f("ix_medical_centers_state"), table_name="medical_centers")
    op.drop_index(
        "ix_medical_centers_name_trgm",
        table_name="medical_centers",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_table("medical_centers")
    op.drop_index("ix_audit_events_occurred_at", table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_action"), table_name="audit_events")
    op.drop_index("ix_audit_events_account_id_occurred_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_accounts_parent_account_id"), table_name="accounts")
    op.drop_table("accounts")
    op.execute("DROP EXTENSION IF EXISTS btree_gin")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
