"""FastAPI dependencies, as `Annotated` aliases in one place.

The ones that do no I/O are `async`: FastAPI runs a plain `def` dependency in its thread pool,
one thread hop per dependency per request. `get_principal` reads the database: a plain `def`.
"""

from __future__ import annotations

import hashlib
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


CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
"""What a correlation id may look like: short and opaque. It is stored in the append-only log,
where erasure cannot reach it, so it must not be able to carry a name or a story."""


async def get_command_context(
    request: Request,
    who: PrincipalDep,
    correlation_id: Annotated[
        str | None,
        Header(
            alias="X-Correlation-ID",
            description="Ties this change to others of one task, in the log: 1-64 characters "
            "of A-Z a-z 0-9 . _ : - (anything else is refused with 400); the request id when "
            "absent.",
        ),
    ] = None,
) -> CommandContext:
    if correlation_id is not None and not CORRELATION_ID.match(correlation_id):
        raise ProblemError(
            400,
            "correlation_id_invalid",
            "De X-Correlation-ID-header is ongeldig",
            "geef 1 tot 64 tekens uit A-Z, a-z, 0-9 en . _ : - (bijvoorbeeld een UUID); "
            "hij komt in het logboek, dat niet gewist kan worden",
            field="X-Correlation-ID",
        )
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
    who: PrincipalDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string (e.g. a UUID) per intended change; a retry with the "
            "same key returns the first response and changes nothing. Keys are the caller's "
            "own: another account's key of the same spelling neither clashes nor shows.",
            max_length=200,
        ),
    ] = None,
) -> str | None:
    """The caller's key, scoped to the caller (see `scoped_key`)."""
    if key is not None and not key.strip():
        raise ProblemError(
            400,
            "idempotency_key_invalid",
            "De Idempotency-Key is leeg",
            "geef een niet-lege sleutel",
            field="Idempotency-Key",
        )
    return None if key is None else scoped_key(who, key)


def scoped_key(who: Principal, key: str) -> str:
    """The key as it is stored: the account's id and a digest of the key the client sent.

    Keys are one namespace in the store; scoped like this, another school's (or account's)
    "try-1" is a different key, so it can neither refuse this one nor reveal that it exists.
    Everything derived from the key (a keyed pupil or objection id) follows the scoped key.
    """
    return f"{who.user_id}:{hashlib.sha256(key.encode()).hexdigest()}"


IdempotencyKeyDep = Annotated[str | None, Depends(get_idempotency_key)]
