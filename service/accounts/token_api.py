"""The token endpoint for machine clients (OAuth 2.0 client credentials, RFC 6749 §4.4).

A test provider's system sends its client id and secret — HTTP Basic (preferred by the RFC) or
form fields — with `grant_type=client_credentials`, and gets a bearer token for an hour. Errors
are problem+json like every other, with RFC 6749's `error` code as an extra member, so an OAuth
client library understands them too. Exchanges are rate-limited per client id and address, on
keys of their own: failed exchanges never pause a person's website login.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Header, Request, Response
from pydantic import BaseModel, Field

from service.api.deps import ContainerDep
from service.api.problems import ProblemError, problem_responses

router = APIRouter(prefix="/api/v1", tags=["koppelingen"])

_ERRORS = problem_responses(
    {
        400: "Not grant_type=client_credentials, or the client's credentials are missing",
        401: "Unknown client, wrong secret, or a revoked client (error: invalid_client)",
        422: "A form field too long, or grant_type missing",
        429: "Too many failed attempts for this client or address; see Retry-After",
    }
)


class TokenOut(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer …`")
    token_type: str = Field(description="Always Bearer", examples=["Bearer"])
    expires_in: int = Field(description="Seconds until the token expires")


def _oauth_error(status: int, error: str, detail: str, **headers: str) -> ProblemError:
    return ProblemError(
        status,
        error,
        "Koppeling geweigerd",
        detail,
        headers={"Cache-Control": "no-store", **headers},
        extra={"error": error},  # RFC 6749 §5.2
    )


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined
    return (unquote(client_id), unquote(secret)) if sep else None


@router.post(
    "/oauth/token",
    responses=_ERRORS,
    summary="Exchange a machine client's id and secret for an access token (one hour)",
)
def issue_access_token(
    request: Request,
    response: Response,
    container: ContainerDep,
    grant_type: Annotated[str, Form(max_length=50, examples=["client_credentials"])],
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TokenOut:
    if grant_type != "client_credentials":
        raise _oauth_error(400, "unsupported_grant_type", "alleen client_credentials")
    credentials = _basic(authorization) or (
        (client_id, client_secret) if client_id and client_secret else None
    )
    if credentials is None:
        raise _oauth_error(
            400, "invalid_request", "geef client_id en client_secret (HTTP Basic of formulier)"
        )
    address = request.client.host if request.client else "onbekend"
    wait = container.throttle.admit("oauth", credentials[0], address)
    if wait:
        raise _oauth_error(
            429,
            "slow_down",
            f"te veel mislukte pogingen; wacht {wait} seconden",
            **{"Retry-After": str(wait)},
        )
    issued = container.clients.exchange(*credentials)
    container.throttle.settle("oauth", credentials[0], address, succeeded=issued is not None)
    if issued is None:
        raise _oauth_error(
            401,
            "invalid_client",
            "onbekende koppeling, verkeerd geheim of ingetrokken",
            **{"WWW-Authenticate": 'Basic realm="adviestraject"'},
        )
    response.headers["Cache-Control"] = "no-store"
    lifetime = int((issued.expires_at - container.clock()).total_seconds())
    return TokenOut(access_token=issued.token, token_type="Bearer", expires_in=lifetime)  # noqa: S106
