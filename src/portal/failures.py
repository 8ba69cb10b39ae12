"""Unexpected failures, answered inside the error contract and logged once without secrets.

Every failure a client sees is JSON with ``extensions.code``: ``SERVICE_UNAVAILABLE`` (HTTP 503
with ``Retry-After``) when the database is down, restarting or has no connection to spare, and
``INTERNAL`` (HTTP 500) for anything else, both with the request id. The log line names the
exception types, the SQLSTATE and the stack, but never the text of a database error: PostgreSQL
and asyncpg put the offending values (names, emails, filters) into their messages."""

from __future__ import annotations

import logging
import traceback

from sqlalchemy import exc as sa_exc
from starlette.responses import JSONResponse

from portal.models.db import database_unavailable
from portal.resolvers.errors import ErrorCode

logger = logging.getLogger("portal.failures")

RETRY_AFTER_SECONDS = 2
UNAVAILABLE_MESSAGE = "The service is briefly unavailable; retry in a few seconds."
INTERNAL_MESSAGE = "Internal server error. Quote the request id to support."


def _from_database(error: BaseException) -> bool:
    if isinstance(error, sa_exc.SQLAlchemyError):
        return True
    module = type(error).__module__
    return module.startswith(("asyncpg", "sqlalchemy"))


def describe(error: BaseException) -> str:
    """A one-paragraph account of ``error`` safe to log: types, SQLSTATE and stack frames, and
    the message only of errors that do not come from the database."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = f"{type(current).__module__}.{type(current).__qualname__}"
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if _from_database(current):
            parts.append(f"{name}" + (f" (SQLSTATE {sqlstate})" if sqlstate else ""))
        else:
            parts.append(f"{name}: {current}")
        current = current.__cause__ or current.__context__
    stack = "".join(traceback.format_tb(error.__traceback__)) if error.__traceback__ else ""
    return " <- ".join(parts) + ("\n" + stack.rstrip() if stack else "")


def log_failure(error: BaseException, *, request_id: str | None, where: str) -> ErrorCode:
    """Log ``error`` once and say which code answers it."""
    if database_unavailable(error):
        logger.warning(
            "database unavailable in %s (request %s): %s",
            where,
            request_id,
            describe(error).splitlines()[0],
        )
        return ErrorCode.SERVICE_UNAVAILABLE
    logger.error("unexpected error in %s (request %s): %s", where, request_id, describe(error))
    return ErrorCode.INTERNAL


def contract_response(code: ErrorCode, request_id: str) -> JSONResponse:
    """The JSON answer of a request that failed as a whole."""
    unavailable = code is ErrorCode.SERVICE_UNAVAILABLE
    headers = {"X-Request-ID": request_id}
    if unavailable:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse(
        {
            "data": None,
            "errors": [
                {
                    "message": UNAVAILABLE_MESSAGE if unavailable else INTERNAL_MESSAGE,
                    "extensions": {"code": code.value, "requestId": request_id},
                }
            ],
        },
        status_code=503 if unavailable else 500,
        headers=headers,
    )


def failure_response(error: BaseException, request_id: str, *, where: str) -> JSONResponse:
    return contract_response(log_failure(error, request_id=request_id, where=where), request_id)
