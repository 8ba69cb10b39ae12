"""Shared column helpers: UUID keys and time-zone-aware timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Stable constraint names so that Alembic migrations and the models agree.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid_pk() -> Any:
    return Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
    )


def fk(
    target: str, *, nullable: bool = False, ondelete: str = "RESTRICT", index: bool = True
) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column_args=[sa.ForeignKey(target, ondelete=ondelete)],
        sa_type=sa.Uuid,
        nullable=nullable,
        index=index,
    )


def timestamp(*, nullable: bool = False, default_now: bool = False, index: bool = False) -> Any:
    if default_now:
        return Field(
            default_factory=utcnow,
            sa_type=sa.DateTime(timezone=True),
            sa_column_kwargs={"server_default": sa.func.now()},
            nullable=False,
            index=index,
        )
    return Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        nullable=nullable,
        index=index,
    )


def enum_column(enum: type[Enum], *, default: Any = ..., nullable: bool = False) -> Any:
    """A VARCHAR with a CHECK constraint: adding a value later is a plain migration."""
    return Field(
        default=default,
        sa_type=sa.Enum(
            enum,
            native_enum=False,
            create_constraint=True,
            length=32,
            name=f"{_snake(enum.__name__)}",
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        nullable=nullable,
    )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class TimestampedTable(SQLModel):
    created_at: datetime = timestamp(default_now=True)
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now(), "onupdate": utcnow},
        nullable=False,
    )
