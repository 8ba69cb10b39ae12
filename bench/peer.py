"""PostGraphile v5 as the side-by-side benchmark's peer server (the third column).

Installed by ``make bench`` from the npm registry as ``bench/postgraphile/package-lock.json``
pins it (``npm ci --prefix bench/postgraphile``, scripts/ensure-postgraphile.sh): PostGraphile
5.x and the npm package ``node`` 22.x, which brings its own Node 22 binary (PostGraphile 5 needs
Node 22; the machine's may be older). ``bench/postgraphile/server.mjs`` serves the amber preset
over the benchmark's tables as one process, connecting as the app's role and bound by the same
row-level security: the caller's account family travels in the signed bearer token
(``portal_account_ids``) and becomes the same two transaction settings the app sets.

When anything is missing the benchmark says why and runs without this column."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from joserfc import jwt
from joserfc.jwk import ECKey

from bench.scenarios import PEER_QUERIES

BENCH = Path(__file__).resolve().parent
PEER_DIR = BENCH / "postgraphile"
NODE = PEER_DIR / "node_modules" / "node" / "bin" / "node"
SERVER = PEER_DIR / "server.mjs"
NAME = "postgraphile"
NODE_MAJOR = "v22."

# The account family of a user, as the app's principal statement reads it.
FAMILY = """SELECT array_agg(a.id ORDER BY a.id) FROM accounts a JOIN portal_users u
    ON a.id = u.account_id OR a.parent_account_id = u.account_id WHERE u.id = $1"""


def unavailable() -> str | None:
    """Why PostGraphile cannot run here (a sentence), or None when it can."""
    if not (PEER_DIR / "node_modules" / "postgraphile").is_dir():
        return (
            "PostGraphile is not installed (make bench runs scripts/ensure-postgraphile.sh: "
            "npm ci --prefix bench/postgraphile)"
        )
    if not NODE.exists():
        return "the npm package `node` (Node 22) is not installed in bench/postgraphile"
    try:
        version = subprocess.run(  # noqa: S603 - the locked Node binary, a fixed argument
            [str(NODE), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return f"the Node binary of bench/postgraphile does not run: {error}"
    if not version.startswith(NODE_MAJOR):
        return f"bench/postgraphile's Node is {version}, not 22"
    return None


def version() -> str:
    lock = json.loads((PEER_DIR / "package-lock.json").read_text())
    packages = lock.get("packages", {})
    postgraphile = packages.get("node_modules/postgraphile", {}).get("version", "?")
    node = packages.get("node_modules/node", {}).get("version", "?")
    return f"PostGraphile {postgraphile} (amber preset) on Node {node}"


def command() -> list[str]:
    return [str(NODE), str(SERVER)]


def environment(database_url: str, key_file: Path, port: int) -> dict[str, str]:
    return {
        "BENCH_PG_DATABASE_URL": database_url,
        "BENCH_PG_KEY_FILE": str(key_file),
        "BENCH_PG_PORT": str(port),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }


async def account_family(admin_database_url: str, user_id: uuid.UUID) -> list[uuid.UUID]:
    connection = await asyncpg.connect(admin_database_url)
    try:
        return list(await connection.fetchval(FAMILY, user_id) or [])
    finally:
        await connection.close()


def mint(
    key_file: Path,
    *,
    user_id: uuid.UUID,
    account_ids: list[uuid.UUID],
    issuer: str,
    audience: str,
    ttl_seconds: int,
) -> str:
    """A bearer token PostGraphile's ``pgSettings`` turns into the caller's scope."""
    key = ECKey.import_key(json.loads(key_file.read_text()))
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": f"user:{user_id}",
        "iat": now,
        "exp": now + ttl_seconds,
        "portal_account_ids": [str(i) for i in account_ids],
    }
    return jwt.encode({"alg": "ES256", "typ": "JWT"}, claims, key, algorithms=["ES256"])


def body(query: str, document_id: uuid.UUID) -> dict[str, Any]:
    variables = {"id": str(document_id)} if query == "one" else {}
    return {"query": PEER_QUERIES[query], "variables": variables}


def digest(answer: dict[str, Any]) -> tuple[int | None, list[str]] | None:
    """The total (None for one document) and the document ids of a PostGraphile answer."""
    data = answer.get("data") or {}
    if "allDocuments" in data and data["allDocuments"] is not None:
        documents = data["allDocuments"]
        return documents["totalCount"], [edge["node"]["rowId"] for edge in documents["edges"]]
    if "documentByRowId" in data:
        node = data["documentByRowId"]
        return None, [node["rowId"]] if node else []
    return None
