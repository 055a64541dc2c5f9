"""Every error a client sees is `application/problem+json` (RFC 9457) with a stable code.

`type` is a relative URI built from the code, `title` is Dutch for people, `code` is for programs,
`errors` lists the offending fields. A 5xx never carries a stack trace or SQL: only the request id,
which is also in the log line that holds the details.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.store.events import ConcurrencyError
from service.store.sql import IdempotencyConflictError
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


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
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


E = TypeVar("E", bound=Exception)


def _on(
    app: FastAPI, kind: type[E], handler: Callable[[Request, E], Awaitable[JSONResponse]]
) -> None:
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
    _on(app, Exception, _unexpected)
