"""Security headers on every response: pages, API answers and errors, a 500 included.

`install` wraps the whole application, outside Starlette's own error middleware, so that even
the answer to an unhandled error carries them. A header a route set itself is left alone.

- Content-Security-Policy: the pages are server-rendered and load nothing from elsewhere:
  `default-src 'self'`, scripts and styles only from our own `/static` files (no inline
  `<script>`, `<style>` or `style=""` anywhere, no eval: htmx is configured without it), no
  plugins, no `<base>`, forms post only here, and no framing (`frame-ancestors 'none'`, with
  `X-Frame-Options: DENY` for old browsers). The interactive API docs (`/docs`, `/redoc`) load
  their scripts from /static too; they get policies of their own (`_DOCS_POLICY`).
- X-Content-Type-Options: nosniff; Referrer-Policy: no-referrer (pupil ids are in our URLs);
  Cross-Origin-Opener-Policy: same-origin.
- Strict-Transport-Security only in production (in development the service runs on plain
  http://127.0.0.1, where HSTS would stick to the browser for a year).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
_DOCS = ("/docs", "/redoc")
# The API docs (service/api/docs.py) load Swagger UI and Redoc from /static: no other origin,
# no inline script, no eval. Redoc writes its styles into <style> elements from script
# (styled-components) and searches in a worker made from a blob: `/redoc` sets REDOC_POLICY
# itself, with inline styles allowed on that page only.
_DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
REDOC_POLICY = _DOCS_POLICY.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';") + (
    "; worker-src blob:"
)
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, production: bool, policy: str | None = None) -> None:
        self.app = app
        common = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if production:
            common["Strict-Transport-Security"] = HSTS
        self._pages = {**common, "Content-Security-Policy": policy or PAGE_POLICY}
        self._docs = {**common, "Content-Security-Policy": _DOCS_POLICY}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = self._docs if scope["path"].startswith(_DOCS) else self._pages

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in chosen.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, *, production: bool) -> None:
    """Wrap the application's whole middleware stack (Starlette's error handling included)."""
    build = app.build_middleware_stack

    def build_secured() -> ASGIApp:
        return SecurityHeadersMiddleware(build(), production=production)

    app.build_middleware_stack = build_secured  # type: ignore[method-assign]
