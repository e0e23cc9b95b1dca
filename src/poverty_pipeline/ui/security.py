"""The headers every response of the pages' app carries: a Content-Security-Policy chosen by
what is served, and ``X-Content-Type-Options: nosniff``.

- Our pages draw their charts as SVG on the server and need no script at all: none may run.
- A feedback report is HTML the ingest wrote about a submitter's file: no script, and a
  sandbox (an origin of its own), so even a file that got there by other means cannot act as
  the signed-in user.
- The dbt docs site is one page of inline script that fetches its manifest and catalog from
  beside it; nothing in it comes from a submitter.
- The Great Expectations Data Docs site uses inline scripts and loads its libraries from the
  site's own copies (``data_docs.localise``), nothing from the internet; its names derive from
  landing folders, so it runs sandboxed (scripts, but an opaque origin: no cookie, no storage
  and no authority of the Airflow UI; its static files are served without sign-in for that).
"""

from __future__ import annotations

NO_BASE_NO_FORMS = "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

PAGE = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
FEEDBACK = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; {NO_BASE_NO_FORMS}; sandbox"
DBT_DOCS = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; " + NO_BASE_NO_FORMS)
DATA_DOCS = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             "font-src 'self' data:; img-src 'self' data:; "
             f"{NO_BASE_NO_FORMS}; sandbox allow-scripts allow-popups")


def policy_for(path: str) -> str:
    """The policy of a path of the app (without the mount prefix)."""
    if path.startswith("/feedback/"):
        return FEEDBACK
    if path.startswith("/dbt-docs/"):
        return DBT_DOCS
    if path.startswith("/data-docs/"):
        return DATA_DOCS
    return PAGE


class SecurityHeaders:
    """ASGI middleware: adds the headers to every HTTP response, errors included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        headers = [(b"content-security-policy", policy_for(path).encode()),
                   (b"x-content-type-options", b"nosniff"),
                   (b"referrer-policy", b"same-origin")]

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in headers if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)
