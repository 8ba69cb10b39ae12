"""Failures at start-up that an operator must act on: one readable line, no traceback.

``StartupError`` carries that line. The ``portal`` command prints it as ``error: <line>`` and
exits with status 1; with ``PORTAL_DEBUG=true`` it also prints the traceback."""

from __future__ import annotations


class StartupError(Exception):
    """The service cannot start; the message says why and what to do, in one line."""


async def check_database(url: str, *, within: float) -> None:
    """Connect once and run ``SELECT 1`` within ``within`` seconds, or raise ``StartupError``
    naming the server (never its password) and what went wrong."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
    if parsed.query.get("host"):
        where = f"{parsed.query['host']}/{parsed.database or ''}"
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        async with asyncio.timeout(within):
            connection = await asyncpg.connect(plain, timeout=within)  # type: ignore[no-untyped-call]
            try:
                await connection.fetchval("SELECT 1")
            finally:
                await connection.close(timeout=within)
    except TimeoutError:
        raise StartupError(
            f"the database at {where} did not answer within {within:g} s "
            "(PORTAL_DB_CONNECT_TIMEOUT_SECONDS)"
        ) from None
    except asyncpg.InvalidPasswordError:
        raise StartupError(f"the database at {where} refused the user name or password") from None
    except asyncpg.InvalidCatalogNameError:
        raise StartupError(f"the database at {where} does not exist") from None
    except asyncpg.PostgresError as error:  # type: ignore[attr-defined]
        raise StartupError(
            f"the database at {where} refused the connection: {type(error).__name__}"
        ) from None
    except OSError as error:
        raise StartupError(
            f"cannot reach the database at {where}: {error.strerror or type(error).__name__}"
        ) from None
