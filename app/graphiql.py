"""GraphiQL at GET /graphql, served entirely from this package.

The page and its assets (app/static/graphiql/: GraphiQL, React, the explorer plugin, pinned
and recorded with their sha256 in manifest.json by scripts/refresh_graphiql.py) come from this
server only: the page names no other origin, and its Content-Security-Policy allows nothing
else (no inline script, no eval, no framing). boternity-graphiql.js starts GraphiQL: it
fetches the schema again when the headers change, says how to create a key when the server
answers UNAUTHENTICATED, and keeps headers out of localStorage unless
`graphiql_persist_headers` is on.
"""

from html import escape
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.settings import Settings

ASSETS = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "boternity-graphiql.js",
)
_STYLES = ("graphiql.min.css", "plugin-explorer.css", "boternity-graphiql.css")
_KEY_HINT = "boternity-graphql api-key create --name NAME --scope read"


def page(settings: Settings) -> str:
    """The HTML of the GraphiQL page (asset URLs are relative: it works behind a prefix)."""
    persist = "true" if settings.graphiql_persist_headers else "false"
    styles = "".join(
        f'\n    <link rel="stylesheet" href="{ASSETS_PATH[1:]}/{name}">' for name in _STYLES
    )
    scripts = "".join(
        f'\n    <script src="{ASSETS_PATH[1:]}/{name}"></script>' for name in _SCRIPTS
    )
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Boternity storage API: GraphiQL</title>
    <link rel="icon" href="data:,">{styles}
  </head>
  <body>
    <div id="auth-hint" class="auth-hint" role="alert" hidden>
      This server needs an API key. Create one on the server's machine with
      <code>{escape(_KEY_HINT)}</code> (it prints the key once; use
      <code>--scope write</code> to run mutations), then put
      <code>{{"Authorization": "Bearer &lt;key&gt;"}}</code> in the Headers tab below.
    </div>
    <div id="graphiql" data-persist-headers="{persist}">Loading GraphiQL...</div>{scripts}
  </body>
</html>
"""


def page_response(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=PAGE_HEADERS)


class _Assets:
    """The static assets, each answered with nosniff and no framing."""

    def __init__(self) -> None:
        self._files = StaticFiles(directory=ASSETS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message["headers"],
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                ]
            await send(message)

        await self._files(scope, receive, send_with_headers)


def routes(settings: Settings) -> list[BaseRoute]:
    """The assets' route, when GraphiQL is on."""
    if not settings.graphiql:
        return []
    assets: ASGIApp = _Assets()
    return [Mount(ASSETS_PATH, app=assets, name="graphiql-assets")]
