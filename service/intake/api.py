"""`POST /leerlingresultaat` of the Doorstroomtoetsketen v1.1, as the standard defines it.

Mounted under `/doorstroomtoetsketen/v1.1`. A test provider's system (a machine client with a
bearer token from `/api/v1/oauth/token`) delivers one pupil's result, addressed with the
Edukoppeling routing parameters: `edu-to` is the school administration's routeringskenmerk,
`edu-from` the school's OIN. The answers are the standard's: `202` with an `Ontvangstmelding`
once the delivery is stored (processing follows in the worker), `401` when the sender is not
mandated by the school, `405` when the school is unknown here, `422` for a message that does not
match the standard's schema. Every answer is `application/json` with `melding`, as the standard
says; the problem members (`code`, `title`, `errors`, `request_id`) ride along for people.

The standard's request body is `application/json` and nothing else: a body sent as text/plain,
XML, a form or without a Content-Type is refused unread with the standard's `422` ("ongeldige
berichtinhoud"), not the generic 415, which the standard does not list for this operation.
A `charset` parameter other than UTF-8 is refused the same way (JSON is UTF-8, RFC 8259).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.accounts.roles import Role
from service.api.deps import get_container
from service.intake.senders import chain_sender
from service.intake.standard import errors_in

router = APIRouter(prefix="/doorstroomtoetsketen/v1.1", tags=["doorstroomtoetsketen"])

_ROUTE = re.compile(r"^(\d|\D){20}$")  # the standard's pattern for edu-to and edu-from
_ONTVANGSTMELDING = {"$ref": "#/components/schemas/Ontvangstmelding"}
_JSON = {"application/json": {"schema": _ONTVANGSTMELDING}}


def content_type_problem(header: str | None) -> str | None:
    """Why a Content-Type is not the standard's `application/json`; None when it is."""
    if not header or not header.strip():
        return "Content-Type ontbreekt; verstuur het bericht als application/json"
    media_type, *parameters = (part.strip() for part in header.split(";"))
    if media_type.lower() != "application/json":
        return f"Content-Type {header.strip()[:100]!r} is geen application/json"
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return f"charset {value.strip()[:40]!r}: JSON wordt als UTF-8 verstuurd"
    return None


def melding(request: Request, status: int, code: str, text: str, **extra: Any) -> JSONResponse:
    body = {"melding": text, "code": code, "status": status, **extra}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    headers = {"WWW-Authenticate": 'Bearer realm="adviestraject"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


@router.post(
    "/leerlingresultaat",
    status_code=202,
    summary="Overdragen leerlingresultaat (Doorstroomtoetsketen v1.1, standlevering)",
    operation_id="postLeerlingresultaat",
    openapi_extra={
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": True,
                "description": description,
                "schema": {"type": "string", "pattern": "(\\d|\\D){20}"},
            }
            for name, description in (
                ("edu-to", "Routeringskenmerk van de schooladministratie (20 tekens)"),
                ("edu-from", "OIN van de school namens wie wordt verzonden (20 tekens)"),
            )
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Leerlingresultaat"}}
            },
        },
        "security": [{"token": []}],
    },
    responses={
        202: {
            "description": "Bericht succesvol ontvangen en wordt asynchroon verwerkt.",
            "content": _JSON,
        },
        401: {
            "description": "Verzender en/of ontvanger van bericht is niet geautoriseerd door "
            "de betreffende school.",
            "content": _JSON,
        },
        405: {"description": "School is niet bekend bij ontvanger.", "content": _JSON},
        422: {
            "description": "Bericht ontvangen maar heeft ongeldige berichtinhoud.",
            "content": _JSON,
        },
    },
)
async def post_leerlingresultaat(request: Request) -> JSONResponse:
    container = await get_container(request)
    token = request.headers.get("authorization", "")
    edu_to = request.query_params.get("edu-to", "")
    edu_from = request.query_params.get("edu-from", "")
    who, found = None, None
    if token.lower().startswith("bearer "):
        who, found = await run_in_threadpool(
            chain_sender, container, token[7:].strip(), edu_to if _ROUTE.match(edu_to) else ""
        )
    if who is None or who.role is not Role.TOETSAANBIEDER:
        return melding(
            request,
            401,
            "unauthenticated",
            "Verzender is niet geautoriseerd: geen geldig token van een toetsaanbieder.",
        )
    if not (_ROUTE.match(edu_to) and _ROUTE.match(edu_from)):
        return melding(
            request,
            422,
            "routing_invalid",
            "Bericht ontvangen maar heeft ongeldige berichtinhoud: edu-to en edu-from zijn "
            "verplicht, elk 20 tekens.",
        )
    if found is None:
        return melding(request, 405, "school_unknown", "School is niet bekend bij ontvanger.")
    school, oin = found
    if school.id not in who.school_ids or (oin is not None and oin != edu_from):
        return melding(
            request,
            401,
            "not_mandated",
            "Verzender en/of ontvanger van bericht is niet geautoriseerd door de betreffende "
            "school.",
        )
    wrong_type = content_type_problem(request.headers.get("content-type"))
    if wrong_type is not None:
        return melding(
            request,
            422,
            "content_type_invalid",
            f"Bericht ontvangen maar heeft ongeldige berichtinhoud: {wrong_type}.",
        )
    try:
        message = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return melding(
            request,
            422,
            "json_invalid",
            "Bericht ontvangen maar heeft ongeldige berichtinhoud: geen geldige JSON.",
        )
    errors = errors_in("Leerlingresultaat", message)
    if errors:
        return melding(
            request,
            422,
            "schema_invalid",
            "Bericht ontvangen maar heeft ongeldige berichtinhoud.",
            errors=errors,
        )
    await run_in_threadpool(container.inbox.accept, school.id, who.user_id, message)
    return melding(
        request, 202, "accepted", "Bericht succesvol ontvangen en wordt asynchroon verwerkt."
    )
