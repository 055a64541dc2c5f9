"""Rendering the Dutch web pages, and reading who is logged in from the session cookie.

Every page extends `base.html` (skip link, header with the user and a navigation that shows
only what the role may use, main landmark, footer) and may import `macros.html`. Static files
are linked through `static(path)`, which adds a version derived from the files' contents, so
that the browser may cache them for a year and still gets a new file the moment one changes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.api.deps import SESSION_COOKIE
from service.bootstrap import Container
from service.web.chain_status import chain_status
from workflows.scale import SchoolAdvice

STATIC_DIR = Path(__file__).parent / "static"
DUTCH = ZoneInfo("Europe/Amsterdam")

_PUPIL_READERS = frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE, Role.BESTUUR})
_SCHOOL_STAFF = frozenset({Role.IB, Role.DIRECTIE})
# (href, label, roles that may use it), in the order of the menu; the URL contract of issue 13
NAVIGATION: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/", "Startpagina", frozenset(Role)),
    ("/klassen", "Klassen", _PUPIL_READERS),
    ("/heroverwegingen", "Heroverwegingen", frozenset({Role.LEERKRACHT, *_SCHOOL_STAFF})),
    ("/beschikbaarheid", "Beschikbaarheid", frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE})),
    ("/gesprekken", "Gesprekken", frozenset({Role.LEERKRACHT, *_SCHOOL_STAFF})),
    ("/gesprekken/risico", "Gesprekken in gevaar", _SCHOOL_STAFF),
    ("/toetsuitslagen", "Toetsuitslagen", frozenset({*_SCHOOL_STAFF, Role.BESTUUR})),
    ("/rapportage", "Rapportage", _SCHOOL_STAFF),
    ("/bestuur", "Rapportage", frozenset({Role.BESTUUR})),
    ("/import", "Importeren", _SCHOOL_STAFF),
    ("/jaarovergang", "Jaarovergang", _SCHOOL_STAFF),
    ("/instellingen", "Instellingen", frozenset({Role.DIRECTIE, Role.IB, Role.BESTUUR})),
    ("/beheer/scholen", "Scholen", frozenset({Role.BEHEER})),
    ("/beheer/accounts", "Accounts", frozenset({Role.BEHEER, Role.DIRECTIE})),
    ("/beheer/logboek", "Logboek beheer", frozenset({Role.BEHEER, Role.DIRECTIE})),
    ("/toegangslog", "Toegangslog", frozenset({Role.DIRECTIE})),
)


def nav_links(who: Principal | None) -> list[tuple[str, str]]:
    """The menu for `who`: only the pages their role may open."""
    if who is None:
        return []
    return [(href, label) for href, label, roles in NAVIGATION if who.role in roles]


@cache
def static_version() -> str:
    """A short fingerprint of every static file (read once per process)."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def static(path: str) -> str:
    return f"/static/{path}?v={static_version()}"


_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_templates.globals.update(static=static, nav_links=nav_links)
_templates.globals.update(chain_status=chain_status)  # base.html: a broken chain on every page


def _date(value: date | datetime | None) -> str:
    """A Dutch date (31-01-2026); a moment also gets its time in the Dutch zone."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.astimezone(DUTCH).strftime("%d-%m-%Y %H:%M")
    return value.strftime("%d-%m-%Y")


def _advice(code: str | None) -> str:
    """A schooladvies (its DUO code) or a toetsadvies, as a teacher writes it."""
    if not code:
        return "–"
    try:
        return SchoolAdvice(code).label
    except ValueError:
        return code


_templates.filters.update(datum=_date, advies=_advice)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(_templates.get_template(name).render(**context), status_code=status)
    response.headers["Cache-Control"] = "no-store"  # pages can hold pupil data
    return response


def message_page(session: SessionUser, status: int, heading: str, message: str) -> HTMLResponse:
    """The plain page with a heading and one message (refusals, not found), for a signed-in
    person."""
    return page(
        "message.html",
        status,
        who=session.principal,
        csrf_token=session.csrf_token,
        heading=heading,
        message=message,
    )


def signed_in(
    request: Request, container: Container, roles: Collection[Role], refusal: str
) -> SessionUser | Response:
    """The session of someone whose role may use this page; else the login (no session) or a
    403 page saying why (`refusal`, with `{role}` for the visitor's role)."""
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    if who.role not in roles:
        return page(
            "message.html",
            status=403,
            who=who,
            csrf_token=session.csrf_token,
            heading="Geen toegang",
            message=refusal.format(role=who.role.label),
        )
    return session


def tokens_match(expected: str, sent: str) -> bool:
    """A form's CSRF token against the one expected (the session's, or a double-submit
    cookie's): in constant time, and never a match when nothing was expected."""
    return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def session_of(request: Request, container: Container) -> SessionUser | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return container.sessions.authenticate(cookie) if cookie else None


def school_names(container: Container, who: Principal) -> list[str]:
    """The names of the schools `who` works at, for the page header."""
    return [s.name for s in container.register.schools() if s.id in who.school_ids]
