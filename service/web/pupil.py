"""The pupil page `/leerlingen/{id}`: who the pupil is and where the trajectory stands, every fact
of the history (what, who with name and role, when, why), and exactly the actions the life
cycle's machine allows now for this person (`service.web.actions`).

A pupil outside the person's school or classes reads as not found (404), the same as one that
does not exist. Each look is in the access log. The board reads and gets no actions.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.access import changes_pupil, sees_pupil
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.audit.integrity import status as integrity_status
from service.web.actions import available_actions, confirmation
from service.web.pages import page, session_of
from service.web.timeline import timeline
from workflows.calendar import SchoolYear
from workflows.deadlines import next_due
from workflows.events import CODEC
from workflows.trajectory import fold

router = APIRouter(include_in_schema=False)

_NOT_FOUND = "Deze leerling bestaat niet of valt buiten uw school of klassen."


@router.get("/leerlingen/{pupil_id}", response_class=HTMLResponse)
def pupil_page(pupil_id: str, request: Request, container: ContainerDep) -> Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    common: dict[str, Any] = {"who": who, "csrf_token": session.csrf_token, "active": "/klassen"}
    try:
        key = UUID(pupil_id)
    except ValueError:
        key = None
    pupil = container.register.pupil(str(key)) if key else None
    if key is None or pupil is None or not sees_pupil(who, pupil.school_id, pupil.class_name):
        return page(
            "message.html", 404, heading="Leerling niet gevonden", message=_NOT_FOUND, **common
        )
    trail = [
        (stored, CODEC.decode(stored.event_type, stored.schema_version, data))
        for stored, data in container.trajectories.audit_trail(key)
    ]
    state = fold(event for _, event in trail)
    log_reads(container, who, [pupil.id], "leerlingpagina", request)
    school = container.register.school(pupil.school_id)
    today = container.clock().date()
    year = state.school_year or SchoolYear.containing(today)
    policy = container.policies(pupil.school_id, year)
    due = next_due(state.status, policy.calendar(year), state.reconsideration_deadline)
    actions = []
    if changes_pupil(who, pupil.school_id, pupil.class_name):
        actions = available_actions(state, who.role, key, policy)
    return page(
        "pupil.html",
        pupil=pupil,
        school=school,
        school_label=school.name if school else "",
        state=state,
        due=due,
        overdue=bool(due and due.overdue_on(today)),
        entries=timeline(container.engine, trail),
        actions=actions,
        done=confirmation(request.query_params.get("gedaan")),
        integrity=integrity_status(container.engine),
        **common,
    )
