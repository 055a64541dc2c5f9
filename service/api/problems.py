"""Every error a client sees is `application/problem+json` (RFC 9457) with a stable code.

`type` is a relative URI built from the code, `title` is Dutch for people, `code` is for programs,
`errors` lists the offending fields. A 5xx never carries a stack trace or SQL: only the request id,
which is also in the log line that holds the details. A database that is away (down, restarting,
too slow, its disk full) is a 503 with Retry-After, not a 500: the client may simply try again.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.dbfaults import NOT_WRITABLE, is_driver_error, outage
from service.store.events import ConcurrencyError, IdempotencyConflictError
from workflows.errors import DomainError

log = logging.getLogger("adviestraject.api")

PROBLEM_JSON = "application/problem+json"


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route's problems: each status with its description, every
    body the RFC 9457 Problem schema."""
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        status: {"description": text, "content": content} for status, text in descriptions.items()
    }


UNAUTHENTICATED_401 = "No token, or one that is unknown, expired or revoked"

# Domain error codes that mean "no such thing here" rather than "not allowed".
NOT_FOUND_CODES = frozenset({"pupil_not_enrolled"})

_DUTCH_VALIDATION = {
    "missing": "dit veld is verplicht",
    "extra_forbidden": "dit veld bestaat niet",
    "date_parsing": "geen geldige datum; schrijf JJJJ-MM-DD",
    "date_from_datetime_parsing": "geen geldige datum; schrijf JJJJ-MM-DD",
    "date_type": "geen geldige datum; schrijf JJJJ-MM-DD",
    "string_type": "moet tekst zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "uuid_parsing": "geen geldige id (UUID)",
    "uuid_type": "geen geldige id (UUID)",
    "json_invalid": "de body is geen geldige JSON",
    "model_attributes_type": "de body moet een JSON-object zijn",
    "dict_type": "de body moet een JSON-object zijn",
    "string_too_long": "de tekst is te lang",
    "string_too_short": "de tekst is te kort",
}


class ProblemError(Exception):
    """Raised by routes for an HTTP-level problem that is not a domain rule (e.g. a bad header)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.field = (
            status,
            code,
            title,
            detail,
            field,
        )
        self.headers = headers or {}
        self.errors = errors
        self.extra = extra or {}


def problem(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    response = JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    if request_id:
        # also here, not only in the middleware: a 500 is answered outside every middleware
        response.headers["X-Request-ID"] = request_id
    return response


def _field_of(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "path", "query", "header")]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "value_error":
        cause = error.get("ctx", {}).get("error")
        if cause is not None:
            return str(cause)
    return _DUTCH_VALIDATION.get(error.get("type", ""), str(error.get("msg", "ongeldige waarde")))


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field_of(tuple(e["loc"])), "code": e["type"], "message": _message(e)}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(
        request, 422, "validation_failed", "De invoer is ongeldig", detail, errors=errors
    )


async def _domain(request: Request, exc: DomainError) -> JSONResponse:
    status = 404 if exc.code in NOT_FOUND_CODES else 422
    extra: dict[str, Any] = {}
    if exc.field:
        extra["errors"] = [{"field": exc.field, "code": exc.code, "message": exc.message}]
    title = "Niet gevonden" if status == 404 else "Dit kan niet volgens de regels"
    return problem(request, status, exc.code, title, exc.message, **extra)


async def _conflict(request: Request, exc: ConcurrencyError) -> JSONResponse:
    response = problem(
        request,
        409,
        "version_conflict",
        "Iemand anders heeft dit intussen gewijzigd",
        f"u werkte met versie {exc.expected_version}, de huidige versie is "
        f"{exc.current_version}; laad opnieuw en probeer het nog eens",
        current_version=exc.current_version,
    )
    response.headers["ETag"] = f'"{exc.current_version}"'
    return response


async def _idempotency(request: Request, exc: IdempotencyConflictError) -> JSONResponse:
    return problem(
        request,
        422,
        "idempotency_key_reused",
        "Deze Idempotency-Key hoort bij een ander verzoek",
        "gebruik voor elke bedoelde wijziging een nieuwe sleutel",
    )


async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
    extra: dict[str, Any] = dict(exc.extra)
    if exc.errors:
        extra["errors"] = exc.errors
    elif exc.field:
        extra["errors"] = [{"field": exc.field, "code": exc.code, "message": exc.detail}]
    response = problem(request, exc.status, exc.code, exc.title, exc.detail, **extra)
    response.headers.update(exc.headers)
    return response


_HTTP_TITLES = {
    404: ("not_found", "Niet gevonden"),
    405: ("method_not_allowed", "Deze methode is hier niet toegestaan"),
    406: ("not_acceptable", "Dit antwoordformaat wordt niet geleverd"),
    415: ("unsupported_media_type", "Dit formaat wordt niet ondersteund"),
}


HtmlPage = Callable[[Request], Response]
"""A page for a person in a browser; `service.api.app` sets `app.state.html_not_found`."""


async def _http(request: Request, exc: StarletteHTTPException) -> Response:
    """problem+json; an unknown address asked for by a browser outside /api/ gets a Dutch page."""
    html_page: HtmlPage | None = getattr(request.app.state, "html_not_found", None)
    wants: Callable[[Request], bool] | None = getattr(request.app.state, "wants_page", None)
    if exc.status_code == 404 and html_page is not None and wants is not None and wants(request):
        return html_page(request)
    code, title = _HTTP_TITLES.get(exc.status_code, ("http_error", "Verzoek niet verwerkt"))
    response = problem(request, exc.status_code, code, title)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return problem(
        request,
        500,
        "internal_error",
        "Er ging iets mis aan onze kant",
        "de fout is vastgelegd; noem dit verzoek-id als u contact opneemt",
    )


async def _driver_or_unexpected(request: Request, exc: Exception) -> Response:
    """A driver's own error (the store runs statements on the driver connection, outside
    SQLAlchemy's wrapping) is an outage when it says so; anything else is a bug."""
    if is_driver_error(exc):
        return await _database(request, exc)
    return await _unexpected(request, exc)


_OUTAGE_TEXT = {  # code: (title, what a client or a person can do)
    "database_unavailable": (
        "De database is even niet bereikbaar",
        "probeer het over enkele seconden opnieuw; er is niets opgeslagen",
    ),
    NOT_WRITABLE: (
        "De database kan nu niets opslaan",
        "de opslag is vol of geeft fouten; er is niets opgeslagen en een beheerder is nodig",
    ),
}

_OUTAGE_PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{detail}. Probeer het over een minuut opnieuw.</p>
<p><a href="/">Naar de startpagina</a></p></body></html>
"""


def record_storage_failure(request: Request) -> None:
    request.app.state.storage_failed_at = time.monotonic()


def record_storage_success(state: Any) -> None:
    """A write succeeded: /health no longer remembers an earlier failure (after space was
    freed on a full disk it said 503 for another 30 s while writes already worked)."""
    if getattr(state, "storage_failed_at", None) is not None:
        state.storage_failed_at = None


def storage_failed_within(request: Request, seconds: float) -> bool:
    """Whether a write failed on a full or broken disk in the last `seconds` (for /health)."""
    failed_at = getattr(request.app.state, "storage_failed_at", None)
    return failed_at is not None and time.monotonic() - failed_at < seconds


async def _database(request: Request, exc: Exception) -> Response:
    down = outage(exc)
    if down is None:
        return await _unexpected(request, exc)
    request_id = getattr(request.state, "request_id", None)
    log.warning("database unavailable (request %s): %s", request_id, down.reason)
    if down.code == NOT_WRITABLE:
        record_storage_failure(request)
    title, detail = _OUTAGE_TEXT[down.code]
    headers = {"Retry-After": str(down.retry_after), "Cache-Control": "no-store"}
    if "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api"):
        page = _OUTAGE_PAGE.format(title=title, detail=detail[0].upper() + detail[1:])
        return HTMLResponse(page, status_code=503, headers=headers)
    response = problem(request, 503, down.code, title, detail)
    response.headers.update(headers)
    return response


E = TypeVar("E", bound=Exception)


def _on(app: FastAPI, kind: type[E], handler: Callable[[Request, E], Awaitable[Response]]) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, kind):  # Starlette only calls us for `kind`; keep mypy honest
            raise exc
        return await handler(request, exc)

    app.add_exception_handler(kind, handle)


def install(app: FastAPI) -> None:
    _on(app, RequestValidationError, _validation)
    _on(app, DomainError, _domain)
    _on(app, ConcurrencyError, _conflict)
    _on(app, IdempotencyConflictError, _idempotency)
    _on(app, ProblemError, _problem)
    _on(app, StarletteHTTPException, _http)
    _on(app, SQLAlchemyError, _database)
    _on(app, sqlite3.Error, _database)  # raised by an engine hook, outside SQLAlchemy's wrapping
    _on(app, Exception, _driver_or_unexpected)
