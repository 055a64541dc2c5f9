"""Logging in and out of the website: the session cookie, its CSRF token, and rate limiting.

The login form carries a one-time token that must match a cookie set with the form (double
submit: another site cannot log a browser into an account of its choosing). Attempts pass the
`LoginThrottle` first (its `web` keys): each is counted before its password is checked, and while
an account or address is paused no password is checked. An unknown account costs the same
argon2 verify as a known one, so the answer's timing does not tell which accounts exist. A good
login gets a session cookie: HttpOnly, SameSite=Lax, Secure in production, gone at the end of the
school day. Logging out is a form post with the session's CSRF token.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.accounts import AccountError, normalise_email
from service.accounts.sessions import SESSION_LIFETIME
from service.api.deps import SESSION_COOKIE, ContainerDep
from service.bootstrap import Container
from service.schools.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from service.web.pages import page, session_of, tokens_match

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "adviestraject_login_csrf"
_WRONG = "Dit e-mailadres en wachtwoord horen niet bij elkaar, of het account is uitgeschakeld."


def _secure(request: Request, container: Container) -> bool:
    return container.settings.environment == "production" or request.url.scheme == "https"


def _demo_accounts(container: Container) -> list[tuple[str, str]]:
    """In development, the demo school's accounts that exist (for the login page); none in
    production, whatever the database holds."""
    if container.settings.environment != "development":
        return []
    present = {user.email: user for user in container.accounts.list_users()}
    return [
        (email, f"{present[email].name}, {present[email].role.label}")
        for email in DEMO_ACCOUNTS
        if email in present
    ]


def _address(request: Request) -> str:
    return request.client.host if request.client else "onbekend"


def _login_form(
    request: Request,
    container: Container,
    *,
    status: int = 200,
    message: str = "",
    email: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(
        "login.html",
        status,
        login_csrf=token,
        message=message,
        email=email,
        demo_accounts=_demo_accounts(container),
        demo_password=DEMO_PASSWORD,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request, container),
    )
    response.headers.update(headers or {})
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, container: ContainerDep) -> Response:
    if session_of(request, container) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_form(request, container)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    container: ContainerDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not tokens_match(expected, csrf_token):
        return _login_form(
            request,
            container,
            status=400,
            message="Het formulier was verlopen. Probeer het nog eens.",
            email=email,
        )
    try:
        account = normalise_email(email)
    except AccountError:
        return _login_form(request, container, status=422, message=_WRONG, email=email)
    address = _address(request)
    wait = container.throttle.admit("web", account, address)
    if wait:
        minutes = max(1, round(wait / 60))
        return _login_form(
            request,
            container,
            status=429,
            message=f"Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw.",
            email=email,
            headers={"Retry-After": str(wait)},
        )
    who = container.accounts.check_password(account, password)
    container.throttle.settle("web", account, address, succeeded=who is not None)
    if who is None:
        return _login_form(request, container, status=401, message=_WRONG, email=email)
    session = container.sessions.start(who, address)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),  # relative: no clock skew; the server
        # enforces the expiry itself
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request, container),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(
    request: Request,
    container: ContainerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    session = session_of(request, container)
    if session is not None:
        if not tokens_match(session.csrf_token, csrf_token):
            return page("base.html", 403, who=session.principal, csrf_token=session.csrf_token)
        container.sessions.end(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
