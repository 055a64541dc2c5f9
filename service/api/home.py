"""The start page: the schools in the register with their pupils' trajectories, in Dutch."""

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
    schools = []
    for school in container.register.schools():
        rows = []
        for pupil in container.register.pupils_of(school.id):
            state = container.trajectories.load(UUID(pupil.id))
            rows.append((pupil, state))
        schools.append((school, rows))
    html = _templates.get_template("home.html").render(schools=schools)
    return HTMLResponse(html)
