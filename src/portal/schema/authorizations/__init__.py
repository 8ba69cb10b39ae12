"""Authorizations: the type and its parts (``types``), the list (``queries``), and the
mutations that create, send, print, extend, cancel and delete them (``mutations``)."""

from portal.schema.authorizations.mutations import AuthorizationMutations
from portal.schema.authorizations.queries import AuthorizationQueries
from portal.schema.authorizations.types import Authorization

__all__ = ["Authorization", "AuthorizationMutations", "AuthorizationQueries"]
