"""The start page, in Dutch. Logged in, it lists the pupils the user may see (each appearance in
the access log); not logged in, it shows no pupil data in production, and the demo school's
pupils in development (the demo says so on the page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.access import sees_school, visible_classes
from service.accounts.sessions import SessionUser
from service.advice.overview import OverviewRow, class_overview
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.web.deliveries import READERS
from service.web.pages import page, session_of
from workflows.scale import SchoolAdvice

router = APIRouter(include_in_schema=False)


def _label(code: str | None) -> str:
    return SchoolAdvice(code).label if code else "–"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, container: ContainerDep) -> Response:
    session = session_of(request, container)
    if session is None:  # no pupil data without login, in every environment
        return RedirectResponse("/login", status_code=303)
    return _own_pupils(request, container, session)


def _own_pupils(request: Request, container: Container, session: SessionUser) -> HTMLResponse:
    who = session.principal
    overview: list[tuple[object, list[OverviewRow]]] = []
    for school in container.register.schools():
        if not sees_school(who, school.id):
            continue
        rows = class_overview(
            container.engine,
            container.register,
            school.id,
            classes=visible_classes(who, school.id),
            status=None,
            limit=10_000,
            offset=0,
        ).rows
        log_reads(container, who, [row.pupil.id for row in rows], "startpagina", request)
        overview.append((school, rows))
    return page(
        "home.html",
        who=who,
        csrf_token=session.csrf_token,
        overview=overview,
        label=_label,
        today=container.clock().date(),
        deliveries_link=who.role in READERS,
    )
