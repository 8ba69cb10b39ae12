"""Self-hosted GraphiQL, served same-origin by the app (no CDN).

The JavaScript/CSS bundle is built from ``package.json`` by ``scripts/build-web.sh``
(``make web``) into ``src/portal/web/dist/``. The build writes ``dist/manifest.json``
listing the entry files and every file it produced; those files, and nothing else,
are served under ``/graphiql/assets/``. All of their names carry a content hash, so
they are sent with an immutable, one-year cache lifetime.

``GET /graphiql`` serves the page. It reads the optional URL search parameters
``query``, ``variables`` and ``headers`` (a JSON object as text) as the initial
editor contents, so testers and support agents can deep-link, e.g.::

    /graphiql?query={ viewer { email } }&headers={"Authorization": "Bearer ..."}

When the bundle has not been built, the page answers 503 with a short plain-text
hint instead of failing.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Final

from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    import os

    from starlette.requests import Request
    from starlette.routing import BaseRoute

__all__ = [
    "ASSETS_PATH",
    "CONTENT_SECURITY_POLICY",
    "GRAPHIQL_PATH",
    "GRAPHQL_ENDPOINT",
    "assets_installed",
    "graphiql_routes",
]

logger = logging.getLogger(__name__)

GRAPHIQL_PATH: Final = "/graphiql"
ASSETS_PATH: Final = "/graphiql/assets"
GRAPHQL_ENDPOINT: Final = "/graphql"

DEFAULT_WEB_ROOT: Final = Path(__file__).resolve().parent

#: Only files with these suffixes are ever served, with these content types.
CONTENT_TYPES: Final[dict[str, str]] = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".svg": "image/svg+xml",
}

#: Flat file names as esbuild writes them (``graphiql-ABC123.js``); no directories.
_ASSET_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")

#: What the bundle really needs:
#: - scripts, lazily imported chunks and Monaco's web workers: same origin only, no eval;
#: - styles: the bundled stylesheet, plus ``'unsafe-inline'`` because Monaco injects
#:   ``<style>`` elements at runtime (token colours, widget sizes);
#: - fonts and icons that GraphiQL's stylesheet embeds as ``data:`` URLs;
#: - ``fetch`` to ``/graphql`` on the same origin.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_PAGE_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # The page is tiny and names the current (hashed) bundle: always revalidate.
    "Cache-Control": "no-cache",
}

_ASSET_HEADERS: Final[dict[str, str]] = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_NOT_BUILT_MESSAGE: Final = (
    "GraphiQL is not available: its web assets have not been built.\n"
    "Run `make web` (which runs scripts/build-web.sh) and reload this page.\n"
)

_PAGE_TEMPLATE: Final = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>GraphiQL \u2013 Employer Health Portal API</title>
<link rel="stylesheet" href="{stylesheet}">
<script type="module" src="{script}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL\u2026</div>
<noscript>GraphiQL needs JavaScript.</noscript>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class _Manifest:
    """The validated content of ``dist/manifest.json``."""

    dist: Path
    script: str
    stylesheet: str
    files: frozenset[str]


# Parsed manifests, keyed by the manifest's path and its (mtime, size) at parse time,
# so a rebuild while the server runs is picked up on the next request.
_manifest_cache: dict[Path, tuple[tuple[int, int], _Manifest]] = {}


def _dist_dir(web_root: Path | None) -> Path:
    return (web_root if web_root is not None else DEFAULT_WEB_ROOT) / "dist"


def _is_asset_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and _ASSET_NAME.fullmatch(name) is not None
        and Path(name).suffix in CONTENT_TYPES
    )


def _parse_manifest(dist: Path, text: str) -> _Manifest | None:
    data = json.loads(text)
    if not isinstance(data, dict):
        return None
    entry = data.get("entry")
    files = data.get("files")
    if not isinstance(entry, dict) or not isinstance(files, list):
        return None
    script = entry.get("script")
    stylesheet = entry.get("stylesheet")
    if not all(_is_asset_name(name) for name in files):
        return None
    names = frozenset(str(name) for name in files)
    if not isinstance(script, str) or not script.endswith(".js") or script not in names:
        return None
    if not isinstance(stylesheet, str) or not stylesheet.endswith(".css"):
        return None
    if stylesheet not in names:
        return None
    return _Manifest(dist=dist, script=script, stylesheet=stylesheet, files=names)


def _load_manifest(web_root: Path | None) -> _Manifest | None:
    """The build's manifest, or ``None`` when the assets are missing or unusable."""
    dist = _dist_dir(web_root)
    path = dist / "manifest.json"
    try:
        info = path.stat()
        key = (info.st_mtime_ns, info.st_size)
        cached = _manifest_cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        manifest = _parse_manifest(dist, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring unreadable GraphiQL manifest %s: %s", path, exc)
        return None
    if manifest is None:
        logger.warning("Ignoring malformed GraphiQL manifest %s", path)
        return None
    _manifest_cache[path] = (key, manifest)
    return manifest


def _stat_file(path: Path) -> os.stat_result | None:
    """``stat`` of a regular file, or ``None`` when it is missing or not a file."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def assets_installed(web_root: Path | None = None) -> bool:
    """Whether the GraphiQL bundle has been built (``make web``) and is complete."""
    manifest = _load_manifest(web_root)
    if manifest is None:
        return False
    return all(_stat_file(manifest.dist / name) is not None for name in manifest.files)


def _render_page(manifest: _Manifest) -> str:
    return _PAGE_TEMPLATE.format(
        stylesheet=escape(f"{ASSETS_PATH}/{manifest.stylesheet}"),
        script=escape(f"{ASSETS_PATH}/{manifest.script}"),
        endpoint=escape(GRAPHQL_ENDPOINT),
    )


def _not_built() -> Response:
    return PlainTextResponse(
        _NOT_BUILT_MESSAGE,
        status_code=503,
        headers={**_PAGE_HEADERS, "Cache-Control": "no-store", "Retry-After": "60"},
    )


def graphiql_routes(*, web_root: Path | None = None) -> list[BaseRoute]:
    """Routes serving GraphiQL at ``/graphiql`` and its bundle at ``/graphiql/assets/``.

    ``web_root`` is the directory holding ``dist/`` (default: this package directory).
    """

    async def page(request: Request) -> Response:
        manifest = _load_manifest(web_root)
        if manifest is None:
            return _not_built()
        if any(
            _stat_file(manifest.dist / name) is None
            for name in (manifest.script, manifest.stylesheet)
        ):
            return _not_built()
        return HTMLResponse(_render_page(manifest), headers=_PAGE_HEADERS)

    async def asset(request: Request) -> Response:
        name = request.path_params["path"]
        manifest = _load_manifest(web_root)
        # Only names listed by the build are served: this lookup is the whole
        # whitelist, so "..", "/" or encoded variants can never reach the disk.
        if manifest is None or not isinstance(name, str) or name not in manifest.files:
            return _not_found()
        path = manifest.dist / name
        info = _stat_file(path)
        if info is None:
            return _not_found()
        return FileResponse(
            path,
            media_type=CONTENT_TYPES[path.suffix],
            headers=_ASSET_HEADERS,
            stat_result=info,
        )

    return [
        Route(GRAPHIQL_PATH, page, methods=["GET"], name="graphiql"),
        Route(
            ASSETS_PATH + "/{path:path}",
            asset,
            methods=["GET"],
            name="graphiql-asset",
        ),
    ]


def _not_found() -> Response:
    return PlainTextResponse(
        "Not Found\n",
        status_code=404,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )
