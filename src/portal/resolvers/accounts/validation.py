"""Checking and normalising what people type into company information: US addresses, ZIP codes,
phone numbers, names and emails. Every function raises ``BadUserInput`` naming the input field.

phonenumbers is imported by the first phone number checked (its metadata is about 1 MB that most
serving processes never use)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.resolvers.catalog import normalize_state
from portal.resolvers.display_text import check_display_text
from portal.resolvers.errors import BadUserInput

ZIP_PATTERN = re.compile(r"^\d{5}(-\d{4})?$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_STREET = 200
MAX_CITY = 100
MAX_NAME = 200
MAX_PERSON_NAME = 100
MAX_TITLE = 120
MAX_EMAIL = 254
MAX_PHONE_INPUT = 40


@dataclass(frozen=True, slots=True)
class AddressValue:
    """A full US postal address (every part required when an address is given)."""

    street: str
    city: str
    state: str
    postal_code: str


def required_text(value: str, *, field: str, limit: int, what: str) -> str:
    if len(value) > 2 * limit:
        raise BadUserInput(f"{what.capitalize()} is at most {limit} characters.", field=field)
    text = " ".join(value.split())
    if not text:
        raise BadUserInput(f"Enter {what}.", field=field)
    if len(text) > limit:
        raise BadUserInput(f"{what.capitalize()} is at most {limit} characters.", field=field)
    return check_display_text(text, field=field, what=what.capitalize())


def optional_text(value: str | None, *, field: str, limit: int, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    return required_text(value, field=field, limit=limit, what=what)


def normalize_zip(value: str, *, field: str) -> str:
    code = value.strip() if len(value) <= 20 else ""
    if not ZIP_PATTERN.match(code):
        raise BadUserInput(
            f"`{value[:20]}` is not a US ZIP code (5 digits, or ZIP+4 like 75201-1234).",
            field=field,
        )
    return code


def normalize_address(
    *, street: str, city: str, state: str, postal_code: str, field: str
) -> AddressValue:
    return AddressValue(
        street=required_text(street, field=f"{field}.street", limit=MAX_STREET, what="a street"),
        city=required_text(city, field=f"{field}.city", limit=MAX_CITY, what="a city"),
        state=normalize_state(state, field=f"{field}.state") or "",
        postal_code=normalize_zip(postal_code, field=f"{field}.postalCode"),
    )


def normalize_phone(value: str | None, *, field: str) -> str | None:
    """A valid phone number in one stored format: (214) 555-0100 for US numbers, international
    (+44 20 7946 0958) for others; blank clears it."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_PHONE_INPUT:
        raise BadUserInput(f"A phone number is at most {MAX_PHONE_INPUT} characters.", field=field)
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as error:
        raise BadUserInput(
            f"`{value}` is not a phone number (e.g. 214-555-0100).", field=field
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise BadUserInput(
            f"`{value}` is not a valid phone number (area code and 7 digits, e.g. 214-555-0100).",
            field=field,
        )
    if phonenumbers.region_code_for_number(number) == "US":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(value: str, *, field: str) -> str:
    address = value.strip() if len(value) <= 2 * MAX_EMAIL else ""
    if len(address) > MAX_EMAIL or not EMAIL_PATTERN.match(address):
        raise BadUserInput(f"`{value[:60]}` is not an email address.", field=field)
    return address
