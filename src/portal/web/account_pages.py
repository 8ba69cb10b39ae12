"""The two small pages an email starts, served same-origin by the API: set a password from an
invitation (``/accept-invitation``) and reset a password (``/reset-password``).

Emailed links point here unless ``PORTAL_APP_URL`` names the employer web app (which then
serves the same two paths itself). The pages are static HTML plus one script
(``account/account.js``) that calls ``/graphql``; they are sent under GraphiQL's
Content-Security-Policy (no inline script, nothing from another origin, no form submission)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Final

from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from portal.resolvers.invitations import ACCEPT_PATH
from portal.resolvers.passwords import RESET_PATH
from portal.web.graphiql import CONTENT_SECURITY_POLICY, GRAPHQL_ENDPOINT

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

SCRIPT_PATH: Final = "/account/assets/account.js"
SCRIPT_FILE: Final = Path(__file__).resolve().parent / "account" / "account.js"

_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_TEMPLATE: Final = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} \u2013 Employer Health Portal</title>
<script src="{script}" defer></script>
</head>
<body data-page="{page}" data-endpoint="{endpoint}">
<main>
<h1>{title}</h1>
<p>{intro}</p>
<form id="form" novalidate>
<p id="email-row"><label for="email">Email</label><br>
<input id="email" name="email" type="email" autocomplete="username" maxlength="254" required></p>
<p id="password-row"><label for="password">New password</label><br>
<input id="password" name="password" type="password" autocomplete="new-password"
 maxlength="256" required></p>
<p id="confirm-row"><label for="confirm">The same password again</label><br>
<input id="confirm" name="confirm" type="password" autocomplete="new-password"
 maxlength="256" required></p>
<p><button id="submit" type="submit">{action}</button></p>
</form>
<p id="message" role="status" aria-live="polite"></p>
<p><small>At least 15 characters (8 once you use a second factor). A few unrelated words make
a long password easy to remember. Common and breached passwords are refused.</small></p>
</main>
<noscript>This page needs JavaScript.</noscript>
</body>
</html>
"""

PAGES: Final[dict[str, dict[str, str]]] = {
    ACCEPT_PATH: {
        "page": "accept-invitation",
        "title": "Set your password",
        "intro": "You were invited to the Employer Health Portal. Choose the password you will "
        "sign in with.",
        "action": "Set password and sign in",
    },
    RESET_PATH: {
        "page": "reset-password",
        "title": "Reset your password",
        "intro": "Choose a new password. Every other sign-in session of yours ends.",
        "action": "Reset password and sign in",
    },
}


def render(path: str) -> str:
    texts = PAGES[path]
    return _TEMPLATE.format(
        script=escape(SCRIPT_PATH),
        endpoint=escape(GRAPHQL_ENDPOINT),
        **{key: escape(value) for key, value in texts.items()},
    )


def account_routes() -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        return HTMLResponse(render(request.url.path), headers=_HEADERS)

    async def script(request: Request) -> Response:
        return FileResponse(
            SCRIPT_FILE,
            media_type="text/javascript; charset=utf-8",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )

    return [
        *(Route(path, page, methods=["GET"]) for path in PAGES),
        Route(SCRIPT_PATH, script, methods=["GET"]),
    ]
