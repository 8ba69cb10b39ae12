"""``rateLimit``: the caller's query budget, as every answer's ``extensions.cost`` reports it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from portal.schema.context import Info


@strawberry.type(
    description="Your query budget: a leaky bucket of cost points per signed-in caller (per IP "
    "address for anonymous callers). An operation's cost is about the objects its answer may "
    "hold (an object 1, a scalar 0, a page of `first: n` n times what each item holds); an "
    "operation that does not fit what remains is refused with RATE_LIMITED. Every answer "
    "reports the same figures in `extensions.cost`."
)
class RateLimit:
    limit: int = strawberry.field(description="The most points the budget holds.")
    cost: int = strawberry.field(description="What this operation cost.")
    remaining: int = strawberry.field(description="Points left after this operation.")
    reset_at: datetime = strawberry.field(description="When the budget is full again.")


@strawberry.type
class RateLimitQueries:
    @strawberry.field(
        description="Your query budget after this operation (null when the server sets none)."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        decision = info.context.rate_limit
        if decision is None:
            return None
        return RateLimit(
            limit=decision.limit,
            cost=decision.requested,
            remaining=decision.remaining,
            reset_at=decision.reset_at,
        )
