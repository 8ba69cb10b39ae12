"""The ``portal`` command: one module per area registers its commands on ``cli``."""

from __future__ import annotations

from portal.cli.app import cli, resolve_database_url

# isort: off
# Registration order is the order `portal --help` lists the commands in.
from portal.cli import server, people, documents
# isort: on

__all__ = ["cli", "documents", "main", "people", "resolve_database_url", "server"]


def main() -> None:
    """The ``portal`` command. An embedded PostgreSQL it started stops however it ends (SIGTERM
    included); a start-up failure prints one line (``PORTAL_DEBUG=true``: and its traceback)."""
    import os
    import sys
    import traceback

    from portal.embedded import stopped_on_exit
    from portal.startup import StartupError

    try:
        with stopped_on_exit():
            cli(prog_name="portal")
    except StartupError as error:
        if os.environ.get("PORTAL_DEBUG", "").lower() in {"1", "true", "yes", "on"}:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
