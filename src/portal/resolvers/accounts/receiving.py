"""Who receives what: each contact's report subscriptions and notification preferences, and
setting the preferences (one's own, or a User Admin for anyone of the account)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Contact, NotificationPreference, ReportSubscription
from portal.models.db import AccountScope
from portal.models.enums import Role
from portal.resolvers.errors import NotFound
from portal.resolvers.users import UNKNOWN_CONTACT, SubscriptionView


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    contact_id: uuid.UUID
    email_on_new_results: bool


async def load_subscriptions(
    *, session: AsyncSession, scope: AccountScope, contact_ids: Sequence[uuid.UUID]
) -> list[list[SubscriptionView]]:
    """Each contact's (report type, location) pairs."""
    rows = await session.execute(
        sa.select(
            col(ReportSubscription.contact_id),
            col(ReportSubscription.report_type_id),
            col(ReportSubscription.location_id),
        )
        .where(
            col(ReportSubscription.contact_id).in_(contact_ids),
            scope.filter(col(ReportSubscription.account_id)),
        )
        .order_by(col(ReportSubscription.report_type_id), col(ReportSubscription.location_id))
    )
    by_contact: dict[uuid.UUID, list[SubscriptionView]] = {}
    for row in rows:
        by_contact.setdefault(row.contact_id, []).append(
            SubscriptionView(row.report_type_id, row.location_id)
        )
    return [by_contact.get(contact_id, []) for contact_id in contact_ids]


async def load_notification_settings(
    *, session: AsyncSession, scope: AccountScope, contact_ids: Sequence[uuid.UUID]
) -> list[NotificationSettings]:
    """Each contact's preferences; a contact who never chose gets the default (email on)."""
    rows = await session.execute(
        sa.select(
            col(NotificationPreference.contact_id),
            col(NotificationPreference.email_on_new_results),
        ).where(
            col(NotificationPreference.contact_id).in_(contact_ids),
            scope.filter(col(NotificationPreference.account_id)),
        )
    )
    chosen = {row.contact_id: row.email_on_new_results for row in rows}
    return [
        NotificationSettings(contact_id, chosen.get(contact_id, True)) for contact_id in contact_ids
    ]


async def set_notification_preferences(
    *,
    session: AsyncSession,
    principal: Principal,
    contact_id: uuid.UUID | None,
    email_on_new_results: bool,
) -> tuple[Contact, bool, bool]:
    """Set a contact's preferences: one's own (``contact_id`` omitted or one's own), or, for a
    User Admin, any contact of the account. Answers the contact and the value before and after."""
    own = principal.contact_id
    wanted = contact_id if contact_id is not None else own
    if wanted is None or principal.account_id is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    statement = sa.select(Contact).where(
        col(Contact.id) == wanted, col(Contact.account_id) == principal.account_id
    )
    if principal.user_role is not Role.USER_ADMIN:
        # Anyone else changes only their own preferences: other contacts are not theirs to find.
        statement = statement.where(col(Contact.id) == own)
    contact = await session.scalar(statement.with_for_update())
    if contact is None:
        raise NotFound(
            "No contact with this id whose preferences you may change (a Basic user changes "
            "only their own).",
            field="contactId",
        )
    preference = await session.get(NotificationPreference, contact.id, with_for_update=True)
    before = preference.email_on_new_results if preference is not None else True
    if preference is None:
        preference = NotificationPreference(contact_id=contact.id, account_id=contact.account_id)
    preference.email_on_new_results = email_on_new_results
    session.add(preference)
    await session.flush()
    await session.commit()
    return contact, before, email_on_new_results
