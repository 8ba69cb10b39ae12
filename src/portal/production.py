"""What production mode (``PORTAL_ENVIRONMENT=production``) refuses to start with.

A production instance must sign tokens with a key its operators manage (not one generated into
the data folder), and must not serve a database that holds the demo data (its people share one
published password)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.seed.demo.facts import MARKER_ACCOUNT_ID
from portal.settings import Settings


class ProductionMisconfigured(RuntimeError):
    """Production mode found something only a development or demo instance may have."""


def configuration_problems(settings: Settings) -> list[str]:
    if settings.environment != "production":
        return []
    problems = []
    if settings.signing_key_file is None:
        problems.append(
            "PORTAL_SIGNING_KEY_FILE is not set: production signs tokens with a key you manage, "
            "never one generated into the data folder"
        )
    return problems


async def demo_data_present(connection: AsyncConnection) -> bool:
    """Whether the database holds the demo accounts (read past row-level security, in the
    connection's current transaction, which the caller ends)."""
    await connection.execute(sa.text("SELECT set_config('portal.all_accounts', 'on', true)"))
    found = await connection.scalar(
        sa.text("SELECT 1 FROM accounts WHERE id = :marker"), {"marker": MARKER_ACCOUNT_ID}
    )
    return found is not None


def refuse(problems: list[str]) -> None:
    if problems:
        raise ProductionMisconfigured("refusing to start in production: " + "; ".join(problems))
