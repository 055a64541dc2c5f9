"""`/docs` (Swagger UI) and `/redoc` (Redoc) from our own `/static` files: they work offline and
under a policy that allows no other origin and no inline script (`headers._DOCS_POLICY`).

FastAPI's own pages load both from a CDN and start Swagger UI with an inline script; these load
the copies vendored in `service/web/static/vendor/{swagger-ui,redoc}` (versions and licences
beside them) and start Swagger UI with `swagger-ui/adviestraject-init.js`, which reads the
OpenAPI URL from the page. `/redoc` answers with its own policy (`headers.REDOC_POLICY`: Redoc
writes its styles from script); `/docs` gets the docs' policy from the middleware.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.headers import REDOC_POLICY
from service.web.pages import static

router = APIRouter(include_in_schema=False)

SWAGGER = "vendor/swagger-ui"
REDOC = "vendor/redoc"


def _openapi_url(request: Request) -> str:
    return escape(str(request.app.openapi_url or "/api/v1/openapi.json"))


def _title(request: Request) -> str:
    return escape(str(request.app.title))


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_title(request)} – Swagger UI</title>\n"
        f'<link rel="stylesheet" href="{static(SWAGGER + "/swagger-ui.css")}">\n'
        f'<link rel="icon" type="image/png" href="{static(SWAGGER + "/favicon-32x32.png")}">\n'
        "</head>\n<body>\n"
        f'<div id="swagger-ui" data-openapi-url="{_openapi_url(request)}"></div>\n'
        f'<script src="{static(SWAGGER + "/swagger-ui-bundle.js")}"></script>\n'
        f'<script src="{static(SWAGGER + "/adviestraject-init.js")}"></script>\n'
        "</body>\n</html>\n"
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return HTMLResponse(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_title(request)} – ReDoc</title>\n"
        f'<link rel="icon" type="image/png" href="{static(SWAGGER + "/favicon-32x32.png")}">\n'
        "</head>\n<body>\n"
        f'<redoc spec-url="{_openapi_url(request)}"></redoc>\n'
        f'<script src="{static(REDOC + "/redoc.standalone.js")}"></script>\n'
        "</body>\n</html>\n",
        headers={"Content-Security-Policy": REDOC_POLICY},
    )
