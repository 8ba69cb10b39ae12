"""The ``portal`` command: one module per area registers its commands on ``cli``."""

from __future__ import annotations

from portal.cli.app import cli, resolve_database_url

# isort: off
# Registration order is the order `portal --help` lists the commands in.
from portal.cli import server, people, documents
# isort: on

__all__ = ["cli", "documents", "main", "people", "resolve_database_url", "server"]


def main() -> None:
    cli(prog_name="portal")


if __name__ == "__main__":
    main()
