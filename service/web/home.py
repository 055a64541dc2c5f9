"""The start page, in Dutch. Logged in, it lists the pupils the user may see (each appearance in
the access log); not logged in, it shows no pupil data in production, and the demo school's
pupils in development (the demo says so on the page)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

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
def home(request: Request, container: ContainerDep) -> HTMLResponse:
    session = session_of(request, container)
    if session is not None:
        return _own_pupils(request, container, session)
    if container.settings.environment == "production":
        return page("home.html", schools=[], closed=True)
    schools = []
    for school in container.register.schools():
        rows = []
        for pupil in container.register.pupils_of(school.id):
            state = container.trajectories.load(UUID(pupil.id))
            rows.append((pupil, state))
        schools.append((school, rows))
    return page("home.html", schools=schools, closed=False)


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
