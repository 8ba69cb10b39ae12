"""The shape every mutation answers with: the changed object(s) plus ``userErrors``."""

from __future__ import annotations

import strawberry

from portal.resolvers.errors import ErrorCode, PortalError

strawberry_error_code = strawberry.enum(
    ErrorCode,
    name="ErrorCode",
    description="Stable error codes, in `userErrors` and `extensions.code`.",
)


@strawberry.type(description="An expected failure of a mutation: fix the input and try again.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: ErrorCode
    message: str

    @classmethod
    def from_error(cls, error: PortalError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)


@strawberry.interface(description="Every mutation payload carries its user errors.")
class MutationPayload:
    user_errors: list[UserError]
