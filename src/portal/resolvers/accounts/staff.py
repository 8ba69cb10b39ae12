"""Operations only the provider's support staff perform: opening an account with its first User
Admin, attaching and detaching a third-party administrator's employer clients, the retention
policy, and the sign-on page links.

Opening an account is the one way staff start portal access without an approval, because the
account has no User Admin yet to approve: the first contact is invited as its User Admin."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Account, Contact, PortalLink
from portal.models.enums import Role
from portal.resolvers.accounts.contacts import ContactValues, insert_contact
from portal.resolvers.accounts.targets import lock_account
from portal.resolvers.accounts.validation import (
    MAX_NAME,
    AddressValue,
    normalize_phone,
    optional_text,
    required_text,
)
from portal.resolvers.errors import BadUserInput, NotFound
from portal.resolvers.invitations import send_invitation
from portal.settings import Settings

ACCOUNT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650
MAX_LINKS = 20


@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    account_number: str
    mailing_address: AddressValue | None
    billing_address: AddressValue | None
    main_phone: str | None
    fax: str | None
    retention_days: int
    is_third_party_administrator: bool


@dataclass(frozen=True, slots=True)
class Opened:
    account: Account
    contact: Contact
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LinkValue:
    label: str
    url: str
    description: str | None


def new_account(
    *,
    name: str,
    account_number: str,
    mailing_address: AddressValue | None,
    billing_address: AddressValue | None,
    main_phone: str | None,
    fax: str | None,
    retention_days: int | None,
    is_third_party_administrator: bool,
) -> NewAccount:
    number = account_number.strip().upper()
    if not ACCOUNT_NUMBER.match(number):
        raise BadUserInput(
            "An account number is 1 to 32 letters, digits or dashes.", field="accountNumber"
        )
    return NewAccount(
        name=required_text(name, field="name", limit=MAX_NAME, what="the company name"),
        account_number=number,
        mailing_address=mailing_address,
        billing_address=billing_address,
        main_phone=normalize_phone(main_phone, field="mainPhone"),
        fax=normalize_phone(fax, field="fax"),
        retention_days=check_retention(retention_days if retention_days is not None else 90),
        is_third_party_administrator=is_third_party_administrator,
    )


def check_retention(days: int, *, field: str = "retentionDays") -> int:
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise BadUserInput(
            f"Retention is {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days.", field=field
        )
    return days


async def create_account(
    *,
    session: AsyncSession,
    settings: Settings,
    values: NewAccount,
    first_admin: ContactValues,
) -> Opened:
    taken = await session.scalar(
        sa.select(sa.literal(1)).where(col(Account.account_number) == values.account_number)
    )
    if taken is not None:
        raise BadUserInput("Another account has this account number.", field="accountNumber")
    mailing = values.mailing_address
    billing = values.billing_address
    account = Account(
        name=values.name,
        account_number=values.account_number,
        is_third_party_administrator=values.is_third_party_administrator,
        mailing_street=mailing.street if mailing else None,
        mailing_city=mailing.city if mailing else None,
        mailing_state=mailing.state if mailing else None,
        mailing_postal_code=mailing.postal_code if mailing else None,
        billing_street=billing.street if billing else None,
        billing_city=billing.city if billing else None,
        billing_state=billing.state if billing else None,
        billing_postal_code=billing.postal_code if billing else None,
        main_phone=values.main_phone,
        fax=values.fax,
        retention_days=values.retention_days,
    )
    session.add(account)
    await session.flush()
    contact = await insert_contact(session, account.id, first_admin, field="firstAdmin.workEmail")
    user_id = await send_invitation(
        session=session,
        settings=settings,
        contact=contact,
        role=Role.USER_ADMIN,
        field="firstAdmin.workEmail",
        invited_by="The portal's support team",
    )
    await session.commit()
    return Opened(account=account, contact=contact, user_id=user_id)


async def add_employer_client(
    *, session: AsyncSession, administrator_id: uuid.UUID, client_id: uuid.UUID
) -> tuple[Account, Account, uuid.UUID | None]:
    """Make ``client_id`` an employer client of the third-party administrator; answers both and
    the client's previous administrator (None)."""
    if administrator_id == client_id:
        raise BadUserInput("An account cannot be its own employer client.", field="clientAccountId")
    administrator = await lock_account(session, administrator_id)
    client = await lock_account(session, client_id, field="clientAccountId")
    if not administrator.is_third_party_administrator:
        raise BadUserInput(
            "Only a third-party administrator has employer clients.", field="accountId"
        )
    if client.is_third_party_administrator:
        raise BadUserInput(
            "A third-party administrator cannot be another's employer client.",
            field="clientAccountId",
        )
    previous = client.parent_account_id
    if previous == administrator.id:
        return administrator, client, previous
    if previous is not None:
        raise BadUserInput(
            "This account is already an employer client of another administrator; remove it "
            "there first.",
            field="clientAccountId",
        )
    client.parent_account_id = administrator.id
    session.add(client)
    await session.flush()
    await session.commit()
    return administrator, client, previous


async def remove_employer_client(
    *, session: AsyncSession, administrator_id: uuid.UUID, client_id: uuid.UUID
) -> tuple[Account, Account]:
    administrator = await lock_account(session, administrator_id)
    client = await lock_account(session, client_id, field="clientAccountId")
    if client.parent_account_id != administrator.id:
        raise NotFound(
            "This account is not an employer client of that one.", field="clientAccountId"
        )
    client.parent_account_id = None
    session.add(client)
    await session.flush()
    await session.commit()
    return administrator, client


async def set_retention_policy(
    *, session: AsyncSession, account_id: uuid.UUID, archive_after_days: int
) -> tuple[Account, int]:
    """Answers the account and its previous retention."""
    days = check_retention(archive_after_days, field="archiveAfterDays")
    account = await lock_account(session, account_id)
    previous = account.retention_days
    account.retention_days = days
    session.add(account)
    await session.flush()
    await session.commit()
    return account, previous


def link_values(items: Sequence[tuple[str, str, str | None]]) -> list[LinkValue]:
    if len(items) > MAX_LINKS:
        raise BadUserInput(f"At most {MAX_LINKS} sign-on links.", field="links")
    values: list[LinkValue] = []
    seen: set[str] = set()
    for index, (label, url, description) in enumerate(items):
        text = required_text(label, field=f"links.{index}.label", limit=120, what="a label")
        address = url.strip()
        if not address.startswith("https://") or len(address) > 500 or " " in address:
            raise BadUserInput(
                "A sign-on link is an https:// address of at most 500 characters.",
                field=f"links.{index}.url",
            )
        if text.lower() in seen:
            raise BadUserInput("Each link has its own label.", field=f"links.{index}.label")
        seen.add(text.lower())
        values.append(
            LinkValue(
                label=text,
                url=address,
                description=optional_text(
                    description, field=f"links.{index}.description", limit=500, what="a description"
                ),
            )
        )
    return values


async def set_sign_on_links(
    *, session: AsyncSession, links: Sequence[LinkValue]
) -> tuple[list[PortalLink], list[dict[str, str | None]]]:
    """Replace the sign-on page links (published at once, in this order); answers the new links
    and the previous ones (for the audit trail)."""
    previous = list(
        await session.scalars(
            sa.select(PortalLink).order_by(col(PortalLink.sort_order), col(PortalLink.label))
        )
    )
    before: list[dict[str, str | None]] = [
        {"label": link.label, "url": link.url} for link in previous
    ]
    await session.execute(sa.delete(PortalLink).execution_options(synchronize_session=False))
    if links:
        # Published by the database clock, the clock the sign-on page's list reads.
        await session.execute(
            sa.insert(PortalLink).values(
                [
                    {
                        "id": uuid.uuid4(),
                        "label": link.label,
                        "url": link.url,
                        "description": link.description,
                        "sort_order": (index + 1) * 10,
                        "published_at": sa.func.now(),
                    }
                    for index, link in enumerate(links)
                ]
            )
        )
    rows = list(
        await session.scalars(
            sa.select(PortalLink)
            .order_by(col(PortalLink.sort_order), col(PortalLink.label))
            .execution_options(populate_existing=True)
        )
    )
    await session.commit()
    return rows, before
