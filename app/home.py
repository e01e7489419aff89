"""GET / (a small page pointing to GraphiQL, /healthz, /readyz and the README) and GET /readme
(the README, as installed with the package: the distribution's long description)."""

from importlib.metadata import PackageNotFoundError, metadata

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from db.settings import Settings

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
_GRAPHIQL = '<li><a href="graphql">GraphiQL</a>: explore and run queries in the browser</li>'
_NO_GRAPHIQL = "<li>GraphiQL is switched off on this server (setting <code>graphiql</code>)</li>"


def page(settings: Settings) -> str:
    graphiql = _GRAPHIQL if settings.graphiql else _NO_GRAPHIQL
    return f"""<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Boternity storage API</title></head>
  <body>
    <h1>Boternity storage API</h1>
    <p>GraphQL at <code>/graphql</code> (POST, GET for queries, WebSocket for subscriptions).</p>
    <ul>
      {graphiql}
      <li><a href="healthz">/healthz</a>: the process is up</li>
      <li><a href="readyz">/readyz</a>: the database answers and is migrated</li>
      <li><a href="readme">README</a>: how to run, authenticate, and every setting</li>
    </ul>
  </body>
</html>
"""


def readme_text() -> str:
    try:
        return metadata("boternity-graphql").get_payload() or ""  # type: ignore[attr-defined]
    except PackageNotFoundError:
        return ""


def routes(settings: Settings) -> list[Route]:
    html = page(settings)
    text = readme_text()

    async def home(request: Request) -> Response:
        return HTMLResponse(html, headers=HEADERS)

    async def readme(request: Request) -> Response:
        if not text:
            return PlainTextResponse("the README is not installed with this package", 404)
        return PlainTextResponse(text, headers=HEADERS, media_type="text/markdown")

    return [Route("/", home, methods=["GET"]), Route("/readme", readme, methods=["GET"])]
