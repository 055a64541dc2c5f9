"""FastAPI dependencies, as `Annotated` aliases in one place.

The ones that do no I/O are `async`: FastAPI runs a plain `def` dependency in its thread pool,
one thread hop per dependency per request. `get_principal` reads the database: a plain `def`.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from service.accounts.roles import Principal
from service.advice.trajectories import Actor, CommandContext
from service.api.problems import ProblemError
from service.bootstrap import Container


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]

_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token (`adviestraject user token EMAIL`), or a machine "
    "client's access token from /api/v1/oauth/token, as `Bearer adv_…`",
)
SESSION_COOKIE = "adviestraject_session"
CSRF_HEADER = "X-CSRF-Token"
_SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web login's session cookie; a request that changes something also sends "
    f"the session's CSRF token in {CSRF_HEADER}",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="adviestraject"'}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_principal(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    cookie: Annotated[str | None, Depends(_SESSION)],
) -> Principal:
    """Who calls: by bearer token (scripts, machine clients) or by the web session's cookie.

    A cookie is sent by the browser on its own, so a request that changes something must also
    prove it comes from our pages: the session's CSRF token in a header (403 otherwise).
    """
    if credentials is not None:
        who = container.accounts.authenticate_token(credentials.credentials)
        if who is None:
            raise ProblemError(
                401,
                "token_invalid",
                "Niet ingelogd",
                "dit token is onbekend, verlopen of ingetrokken",
                headers=_CHALLENGE,
            )
        return who
    if cookie is not None:
        session = container.sessions.authenticate(cookie)
        if session is None:
            raise ProblemError(
                401,
                "session_expired",
                "Niet ingelogd",
                "uw sessie is verlopen of beëindigd; log opnieuw in",
                headers=_CHALLENGE,
            )
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise ProblemError(
                    403,
                    "csrf_failed",
                    "Verzoek geweigerd",
                    f"een wijziging via de website vraagt de {CSRF_HEADER}-header van uw sessie",
                    field=CSRF_HEADER,
                )
        return session.principal
    raise ProblemError(
        401,
        "unauthenticated",
        "Niet ingelogd",
        "log in, of stuur een API-token mee: Authorization: Bearer <token>",
        headers=_CHALLENGE,
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_command_context(
    request: Request,
    who: PrincipalDep,
    correlation_id: Annotated[str | None, Header(alias="X-Correlation-ID")] = None,
) -> CommandContext:
    return CommandContext(
        actor=Actor(id=who.user_id, role=who.role.value),
        request_id=request.state.request_id,
        correlation_id=correlation_id or request.state.request_id,
    )


CommandContextDep = Annotated[CommandContext, Depends(get_command_context)]

_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$|^\s*(\d+)\s*$')


async def get_expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The stream version the client saw, as the ETag it got ("3"); '
            "a stale one gets 409 with the current version.",
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if not match:
        raise ProblemError(
            400,
            "if_match_invalid",
            "De If-Match-header is ongeldig",
            'geef de versie als ETag, bijvoorbeeld "3"',
            field="If-Match",
        )
    return int(match.group(1) or match.group(2))


ExpectedVersionDep = Annotated[int | None, Depends(get_expected_version)]


async def get_idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string (e.g. a UUID) per intended change; a retry with the "
            "same key returns the first response and changes nothing.",
            max_length=200,
        ),
    ] = None,
) -> str | None:
    if key is not None and not key.strip():
        raise ProblemError(
            400,
            "idempotency_key_invalid",
            "De Idempotency-Key is leeg",
            "geef een niet-lege sleutel",
            field="Idempotency-Key",
        )
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(get_idempotency_key)]
