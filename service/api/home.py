"""The start page, in Dutch. In development (the demo) it lists every school's pupils with their
trajectories; in production it shows no pupil data at all, because it asks nobody to log in
(the teachers' web pages with a login come with issue 5's web part; until then: the API)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.api.deps import ContainerDep

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, container: ContainerDep) -> HTMLResponse:
    if container.settings.environment == "production":
        return HTMLResponse(_templates.get_template("home.html").render(schools=[], closed=True))
    schools = []
    for school in container.register.schools():
        rows = []
        for pupil in container.register.pupils_of(school.id):
            state = container.trajectories.load(UUID(pupil.id))
            rows.append((pupil, state))
        schools.append((school, rows))
    html = _templates.get_template("home.html").render(schools=schools, closed=False)
    return HTMLResponse(html)
