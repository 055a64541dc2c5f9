"""Rendering the Dutch web pages, and reading who is logged in from the session cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.accounts.sessions import SessionUser
from service.api.deps import SESSION_COOKIE
from service.bootstrap import Container

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(_templates.get_template(name).render(**context), status_code=status)
    response.headers["Cache-Control"] = "no-store"  # pages can hold pupil data
    return response


def session_of(request: Request, container: Container) -> SessionUser | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return container.sessions.authenticate(cookie) if cookie else None
