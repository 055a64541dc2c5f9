"""`/static`: the vendored NL Design System CSS and htmx, and our own `app.css`.

Pages link these files with a `?v=` fingerprint of their contents (`pages.static`), so an
answer to such a request may be cached for a year; a request without it is revalidated.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from service.web.pages import STATIC_DIR

LONG = "public, max-age=31536000, immutable"


class StaticAssets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = LONG if versioned else "no-cache"
        return response


def static_files() -> StaticAssets:
    return StaticAssets(directory=STATIC_DIR)
