"""The self-hosted GraphiQL page and its assets: same-origin only, no CDN, no traversal."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from portal.web.graphiql import (
    CONTENT_SECURITY_POLICY,
    DEFAULT_WEB_ROOT,
    assets_installed,
    graphiql_routes,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, MutableMapping

BASE_URL = "http://portal.test"
ASSETS_PREFIX = "/graphiql/assets/"

JS_TYPES = ("text/javascript", "application/javascript")
CSS_TYPES = ("text/css",)

# Hosts that serve JavaScript, CSS or fonts to pages: none may appear in the bundle.
CDN_HOSTS = (
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "unpkg.com",
    "cdn.jsdelivr.net",
    "jsdelivr.net",
    "esm.sh",
    "esm.run",
    "cdnjs.cloudflare.com",
    "cdn.skypack.dev",
    "ga.jspm.io",
    "jspm.dev",
    "use.typekit.net",
    "stackpath.bootstrapcdn.com",
    "maxcdn.bootstrapcdn.com",
    "code.jquery.com",
    "ajax.googleapis.com",
    "cdn.graphql.org",
)

# Places where a URL in JS/CSS is actually requested by the browser at runtime.
_RUNTIME_FETCH = re.compile(
    r"""
    url\(\s*["']?\s*(?:https?:)?//                                # CSS url(...)
    | @import\s+(?:url\()?\s*["']\s*(?:https?:)?//                # CSS @import
    | \bimport\s*\(\s*["'`]\s*(?:https?:)?//                      # dynamic import()
    | \b(?:from|import)\s*["'`]\s*(?:https?:)?//                  # static import
    | \bimportScripts\s*\(\s*["'`]\s*(?:https?:)?//               # worker scripts
    | \bnew\s+(?:Shared)?Worker\s*\(\s*["'`]\s*(?:https?:)?//     # workers
    | \bfetch\s*\(\s*["'`]\s*(?:https?:)?//                       # fetch()
    | \bsrc\s*=\s*\\?["']\s*(?:https?:)?//                        # src="..." in markup
    """,
    re.VERBOSE | re.IGNORECASE,
)

# Module specifiers in the (minified) ES module bundle.
_IMPORT_SPECIFIER = re.compile(
    r"""(?:\bimport\s*\(\s*|\bfrom\s*|\bimport\s*)(["'])(?P<spec>\.{1,2}/[^"'\s]+\.js)\1"""
)
_CSS_URL = re.compile(r"""url\(\s*(["']?)(?P<url>[^"')]*)\1\s*\)""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?(?P<url>[^"');\s]+)""")


def _in_ci() -> bool:
    """In CI the bundle must have been built: the tests may not skip there."""
    return os.environ.get("CI") == "true"


def _require_assets() -> None:
    if assets_installed():
        return
    message = "GraphiQL assets are not built: run `make web` (scripts/build-web.sh)"
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


class _References(HTMLParser):
    """Every URL the page makes the browser load, plus inline code it carries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []  # (tag/attribute, url)
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.style_attributes: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for attribute in ("src", "href", "srcset", "poster", "data", "action", "formaction"):
            if attribute in values and not (tag == "a" and attribute == "href"):
                self.urls.append((f"{tag}[{attribute}]", values[attribute]))
        if "style" in values:
            self.style_attributes.append(values["style"])
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.urls.append(("meta[refresh]", values.get("content", "")))
        if tag == "script" and "src" not in values:
            self._in = "script"
        elif tag == "style":
            self._in = "style"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.inline_scripts.append(data)
        elif self._in == "style" and data.strip():
            self.inline_styles.append(data)


def _same_origin_asset(url: str) -> str:
    """Resolve ``url`` against the page; assert it stays under /graphiql/assets/."""
    parts = urlsplit(url)
    assert not parts.scheme or parts.scheme in ("http", "https"), url
    resolved = urlsplit(urljoin(f"{BASE_URL}/graphiql", url))
    assert f"{resolved.scheme}://{resolved.netloc}" == BASE_URL, f"not same-origin: {url}"
    assert resolved.path.startswith(ASSETS_PREFIX), f"not a GraphiQL asset: {url}"
    assert ".." not in resolved.path.split("/"), url
    return resolved.path


def _assert_no_runtime_cdn(name: str, text: str) -> None:
    lowered = text.lower()
    for host in CDN_HOSTS:
        assert host not in lowered, f"{name} references {host}"
    match = _RUNTIME_FETCH.search(text)
    assert match is None, (
        f"{name} fetches an absolute URL at runtime: {text[match.start() : match.end() + 80]!r}"
    )


def _app(web_root: Path | None = None) -> Starlette:
    return Starlette(routes=graphiql_routes(web_root=web_root))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app()), base_url=BASE_URL
    ) as http:
        yield http


async def _get_page(client: httpx.AsyncClient) -> httpx.Response:
    _require_assets()
    response = await client.get("/graphiql")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response


async def _raw_get(app: Starlette, raw_path: bytes) -> tuple[int, bytes]:
    """GET ``raw_path`` exactly as given (an HTTP client would normalise dot segments)."""
    status = 0
    body = b""
    path = raw_path.decode("latin-1")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"portal.test")],
        "client": ("127.0.0.1", 1234),
        "server": ("portal.test", 80),
    }

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(scope, receive, send)
    return status, body


# --- the page -------------------------------------------------------------------------


async def test_page_references_only_same_origin_assets(client: httpx.AsyncClient) -> None:
    page = await _get_page(client)
    refs = _References()
    refs.feed(page.text)
    refs.close()

    assert refs.inline_scripts == [], "inline <script> would need 'unsafe-inline'"
    assert refs.style_attributes == []
    for css in refs.inline_styles:
        for match in _CSS_URL.finditer(css):
            _same_origin_asset(match["url"])
        assert "@import" not in css

    kinds = {kind for kind, _ in refs.urls}
    assert "script[src]" in kinds
    assert "link[href]" in kinds
    for kind, url in refs.urls:
        path = _same_origin_asset(url)
        response = await client.get(path)
        assert response.status_code == 200, f"{kind} {url}: {response.status_code}"
        content_type = response.headers["content-type"]
        if kind == "script[src]":
            assert content_type.startswith(JS_TYPES), (url, content_type)
        elif kind == "link[href]":
            assert content_type.startswith(CSS_TYPES), (url, content_type)
        else:
            assert content_type.startswith(JS_TYPES + CSS_TYPES), (url, content_type)


async def test_page_points_graphiql_at_same_origin_graphql(client: httpx.AsyncClient) -> None:
    page = await _get_page(client)
    assert 'data-endpoint="/graphql"' in page.text
    assert 'type="module"' in page.text


async def test_page_security_headers(client: httpx.AsyncClient) -> None:
    page = await _get_page(client)
    csp = page.headers.get("content-security-policy")
    assert csp == CONTENT_SECURITY_POLICY
    directives = {
        name: values for name, *values in (part.split() for part in csp.split(";") if part.strip())
    }
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval
    assert directives["connect-src"] == ["'self'"]
    assert directives["worker-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    for values in directives.values():
        for value in values:
            assert value in ("'self'", "'none'", "'unsafe-inline'", "data:"), value
    assert "'unsafe-inline'" not in directives["script-src"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


# --- the assets -----------------------------------------------------------------------


async def _crawl_assets(client: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """Fetch the page's assets and, transitively, the modules and files they import."""
    page = await _get_page(client)
    refs = _References()
    refs.feed(page.text)
    pending = [_same_origin_asset(url) for _, url in refs.urls]
    fetched: dict[str, httpx.Response] = {}
    while pending:
        path = pending.pop()
        if path in fetched:
            continue
        response = await client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        fetched[path] = response
        content_type = response.headers["content-type"]
        base = f"{BASE_URL}{path}"
        if content_type.startswith(JS_TYPES):
            for match in _IMPORT_SPECIFIER.finditer(response.text):
                pending.append(_same_origin_asset(urljoin(base, match["spec"])))
        elif content_type.startswith(CSS_TYPES):
            for match in _CSS_URL.finditer(response.text):
                url = match["url"].strip()
                if not url.startswith(("data:", "#")):
                    pending.append(_same_origin_asset(urljoin(base, url)))
            for match in _CSS_IMPORT.finditer(response.text):
                pending.append(_same_origin_asset(urljoin(base, match["url"])))
    return fetched


async def test_imported_modules_and_css_urls_are_same_origin(client: httpx.AsyncClient) -> None:
    fetched = await _crawl_assets(client)
    # the entry module imports lazily loaded chunks (Monaco, Prettier)
    assert sum(path.endswith(".js") for path in fetched) > 1
    for path, response in fetched.items():
        assert response.headers["content-type"].startswith(JS_TYPES + CSS_TYPES), path


async def test_every_whitelisted_asset_is_served_without_cdn_urls(
    client: httpx.AsyncClient,
) -> None:
    _require_assets()
    manifest = json.loads((DEFAULT_WEB_ROOT / "dist" / "manifest.json").read_text())
    files: list[str] = manifest["files"]
    assert any(".worker-" in name for name in files), "Monaco workers are part of the bundle"
    for name in files:
        response = await client.get(ASSETS_PREFIX + name)
        assert response.status_code == 200, name
        content_type = response.headers["content-type"]
        cache_control = response.headers["cache-control"]
        assert "immutable" in cache_control
        assert "max-age=31536000" in cache_control
        assert response.headers["x-content-type-options"] == "nosniff"
        if name.endswith((".js", ".css")):
            assert content_type.startswith(JS_TYPES if name.endswith(".js") else CSS_TYPES)
            _assert_no_runtime_cdn(name, response.text)


def test_cdn_scan_catches_runtime_urls() -> None:
    """The scanner itself: each of these would make the browser fetch from elsewhere."""
    offenders = [
        '@import url("https://fonts.googleapis.com/css2?family=Roboto");',
        "src:url(https://example.org/font.woff2)",
        'import("https://esm.sh/monaco-editor")',
        'import{x}from"https://example.org/x.js"',
        'importScripts("https://example.org/worker.js")',
        'new Worker("//example.org/w.js")',
        'fetch("https://example.org/schema.json")',
        "a.innerHTML='<script src=\"https://example.org/x.js\">'",
    ]
    for text in offenders:
        with pytest.raises(AssertionError):
            _assert_no_runtime_cdn("sample", text)
    # a licence comment or an error-page link is not fetched
    _assert_no_runtime_cdn("sample", '/*! https://github.com/x/y */ e="https://react.dev/errors/"')


async def test_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/graphiql/assets/nope.js",
        "/graphiql/assets/manifest.json",  # in dist/, but not an asset
        "/graphiql/assets/.portal-build.sha256",
        "/graphiql/assets/",
        "/graphiql/assets/graphiql.py",
        "/graphiql/assets/package.json",
        "/graphiql/assets/node_modules/react/package.json",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/assets/../../pyproject.toml",
        "/graphiql/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/graphiql/assets/%2E%2E/%2E%2E/%2E%2E/pyproject.toml",
        "/graphiql/assets/..%2f..%2f..%2fpyproject.toml",
        "/graphiql/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/graphiql/assets/%252e%252e%252f%252e%252e%252fpyproject.toml",
        "/graphiql/assets/..\\..\\..\\pyproject.toml",
        "/graphiql/assets/..%5c..%5c..%5cpyproject.toml",
        "/graphiql/assets//work/main/pyproject.toml",
        "/graphiql/assets/%2fetc%2fpasswd",
        "/graphiql/assets/../graphiql.py",
        "/graphiql/assets/../package.json",
    ],
)
async def test_path_traversal_is_refused(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert b"[build-system]" not in response.content
    assert b"root:" not in response.content

    # and once more without any client-side normalisation of the path
    status, body = await _raw_get(_app(), path.encode())
    assert status == 404
    assert b"[build-system]" not in body


# --- missing or broken build ----------------------------------------------------------


async def _get(app: Starlette, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        return await http.get(path)


async def test_missing_assets_answer_503_with_hint(tmp_path: Path) -> None:
    assert not assets_installed(tmp_path)
    response = await _get(_app(tmp_path), "/graphiql")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert "make web" in response.text
    assert "Traceback" not in response.text
    assert "content-security-policy" in response.headers

    asset = await _get(_app(tmp_path), "/graphiql/assets/graphiql-ABC.js")
    assert asset.status_code == 404


@pytest.mark.parametrize(
    "manifest",
    [
        "{not json",
        "[]",
        '{"entry": {"script": "app.js", "stylesheet": "app.css"}, "files": ["app.js"]}',
        '{"entry": {"script": "../x.js", "stylesheet": "app.css"},'
        ' "files": ["../x.js", "app.css"]}',
        '{"entry": {"script": "app.exe", "stylesheet": "app.css"},'
        ' "files": ["app.exe", "app.css"]}',
    ],
)
async def test_broken_manifest_answers_503(tmp_path: Path, manifest: str) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "manifest.json").write_text(manifest)
    for name in ("app.js", "app.css", "app.exe"):
        (dist / name).write_text("/* */")
    assert not assets_installed(tmp_path)
    response = await _get(_app(tmp_path), "/graphiql")
    assert response.status_code == 503
    assert "make web" in response.text
    assert "Traceback" not in response.text


async def test_only_manifest_files_are_served(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "app-1.js").write_text("export {};\n")
    (dist / "app-1.css").write_text("body{}\n")
    (dist / "other-2.js").write_text("export {};\n")  # built, but not listed
    (dist / "manifest.json").write_text(
        json.dumps(
            {
                "entry": {"script": "app-1.js", "stylesheet": "app-1.css"},
                "files": ["app-1.js", "app-1.css"],
            }
        )
    )
    assert assets_installed(tmp_path)
    app = _app(tmp_path)
    page = await _get(app, "/graphiql")
    assert page.status_code == 200
    assert 'src="/graphiql/assets/app-1.js"' in page.text
    assert 'href="/graphiql/assets/app-1.css"' in page.text
    assert (await _get(app, "/graphiql/assets/app-1.js")).status_code == 200
    assert (await _get(app, "/graphiql/assets/other-2.js")).status_code == 404

    # a listed file that disappeared is a 404 (not a 500), the page a 503
    (dist / "app-1.js").unlink()
    assert not assets_installed(tmp_path)
    assert (await _get(app, "/graphiql/assets/app-1.js")).status_code == 404
    assert (await _get(app, "/graphiql")).status_code == 503
