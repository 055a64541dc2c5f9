"""`/uitnodiging/{token}`: the link from the invitation e-mail, where a new (or reset) account
chooses its password and is logged in at once.

The link works once and until it expires (72 hours); a used, expired, replaced or unknown link
gets a Dutch page that says which and what to do (404 unknown, 410 the others), and no form.
The form carries a one-time token that must match a cookie set with the form (double submit,
as the login form): another site cannot post a password of its choosing into someone's link,
nor log a browser into an account of its choosing with its own link. The password rules are
the login's (`password_problem`). The link's token is kept out of the access log (the server's
log readers must not be able to use a link before its owner does), and pages send no Referer.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.accounts import INVITATION_REFUSED, AccountError, InvitationState
from service.accounts.invitation_mail import local_time
from service.accounts.sessions import SESSION_LIFETIME
from service.api.deps import SESSION_COOKIE, ContainerDep
from service.bootstrap import Container
from service.web.pages import page, tokens_match

router = APIRouter(include_in_schema=False)

_TOKEN_IN_PATH = re.compile(r"/uitnodiging/[^/?\s\"]+")


class HideInvitationTokens(logging.Filter):
    """Writes `/uitnodiging/…` instead of the link's token in uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub("/uitnodiging/…", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


logging.getLogger("uvicorn.access").addFilter(HideInvitationTokens())

INVITE_CSRF_COOKIE = "adviestraject_invite_csrf"
Token = Annotated[str, Path(max_length=200)]
_STATUS = {"unknown": 404, "used": 410, "expired": 410, "revoked": 410}
_HEADINGS = {
    "unknown": "Deze link kennen wij niet",
    "used": "Deze link is al gebruikt",
    "expired": "Deze link is verlopen",
    "revoked": "Deze link geldt niet meer",
}


def _secure(request: Request, container: Container) -> bool:
    return container.settings.environment == "production" or request.url.scheme == "https"


def _refused(state: str) -> HTMLResponse:
    text = INVITATION_REFUSED[state]
    return page(
        "o_invitation.html",
        _STATUS[state],
        refused=True,
        heading=_HEADINGS[state],
        message=text[0].upper() + text[1:] + ".",
    )


def _form(
    request: Request,
    container: Container,
    token: str,
    found: InvitationState,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    message: str = "",
) -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    response = page(
        "o_invitation.html",
        status,
        refused=False,
        invited=found.principal,
        until=local_time(found.expires_at) if found.expires_at else "",
        action=f"/uitnodiging/{token}",
        invite_csrf=csrf,
        errors=errors or {},
        message=message,
    )
    response.set_cookie(
        INVITE_CSRF_COOKIE,
        csrf,
        max_age=3600,
        path="/uitnodiging",
        httponly=True,
        samesite="strict",
        secure=_secure(request, container),
    )
    return response


@router.get("/uitnodiging/{token}", response_class=HTMLResponse)
def invitation_page(token: Token, request: Request, container: ContainerDep) -> Response:
    found = container.accounts.invitation(token)
    if found.state != "open" or found.principal is None:
        return _refused(found.state if found.state != "open" else "unknown")
    return _form(request, container, token, found)


@router.post("/uitnodiging/{token}", response_class=HTMLResponse)
def choose_password(
    token: Token,
    request: Request,
    container: ContainerDep,
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    found = container.accounts.invitation(token)
    if found.state != "open" or found.principal is None:
        return _refused(found.state if found.state != "open" else "unknown")
    expected = request.cookies.get(INVITE_CSRF_COOKIE, "")
    if not tokens_match(expected, csrf_token):
        return _form(
            request,
            container,
            token,
            found,
            status=400,
            message="Het formulier was verlopen. Kies uw wachtwoord nog eens.",
        )
    if not password:
        return _form(
            request, container, token, found, status=422, errors={"password": "kies een wachtwoord"}
        )
    if password != password_again:
        return _form(
            request,
            container,
            token,
            found,
            status=422,
            errors={"password_again": "de twee wachtwoorden zijn niet gelijk"},
        )
    try:
        who = container.accounts.accept_invitation(token, password)
    except AccountError as error:
        if error.code.startswith("invitation_"):
            return _refused(error.code.removeprefix("invitation_"))
        return _form(
            request, container, token, found, status=422, errors={"password": error.message}
        )
    if old := request.cookies.get(SESSION_COOKIE):
        container.sessions.end(old)  # whoever was logged in in this browser, is no longer
    address = request.client.host if request.client else "onbekend"
    session = container.sessions.start(who, address)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request, container),
    )
    response.delete_cookie(INVITE_CSRF_COOKIE, path="/uitnodiging")
    return response
