"""Every role's client by actor name, for parametrized tests."""

from __future__ import annotations

from tests.schema.users.conftest import clients

__all__ = ["clients"]
