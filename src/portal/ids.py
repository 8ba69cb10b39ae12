"""The API's global ids, below every layer: resolvers, workers and the CLI name objects the way
GraphQL clients see them (``node(id:)`` fetches what a webhook event or a CLI line names).

A global id is the Relay convention: base64 of ``"<TypeName>:<uuid>"``."""

from __future__ import annotations

import uuid

from strawberry.relay import GlobalID


def global_id(type_name: str, row_id: uuid.UUID) -> str:
    """The opaque id clients see for the row ``row_id`` of GraphQL type ``type_name``."""
    return str(GlobalID(type_name, str(row_id)))


def parse_global_id(value: str, *, expected_type: str | None = None) -> tuple[str, uuid.UUID]:
    """The type name and row id a global id names; ``ValueError`` when it is not one (or not
    of ``expected_type``)."""
    try:
        decoded = GlobalID.from_id(value)
        row_id = uuid.UUID(decoded.node_id)
    except Exception as error:  # strawberry raises several types for undecodable ids
        raise ValueError("not a valid id") from error
    if expected_type is not None and decoded.type_name != expected_type:
        raise ValueError("not a valid id")
    return decoded.type_name, row_id
