"""The pupil page `/leerlingen/{id}`: who the pupil is and where the trajectory stands, every fact
of the history (what, who with name and role, when, why), and exactly the actions the life
cycle's machine allows now for this person (`service.web.actions`).

A pupil outside the person's school or classes reads as not found (404), the same as one that
does not exist. Each look is in the access log. The board reads and gets no actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.access import changes_pupil, sees_pupil
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.audit.integrity import status as integrity_status
from service.store.events import StoredEvent
from service.web.actions import Action, available_actions, confirmation
from service.web.pages import page, session_of
from service.web.timeline import Entry, timeline
from service.web.worklist import Step, reconsideration_talks, step_of
from workflows.calendar import SchoolYear
from workflows.codec import Event
from workflows.deadlines import next_due
from workflows.events import CODEC, AdviceKept, AdviceRaised
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
    entries = timeline(container.engine, trail, newest_first=False)
    log_reads(container, who, [pupil.id], "leerlingpagina", request)
    school = container.register.school(pupil.school_id)
    today = container.clock().date()
    year = state.school_year or SchoolYear.containing(today)
    policy = container.policies(pupil.school_id, year)
    due = next_due(state.status, policy.calendar(year), state.reconsideration_deadline)
    actions: list[Action] = []
    talk = reconsideration_talks(container, [pupil.id]).get(pupil.id)
    step = step_of(state, policy, pupil.id, talk)
    if changes_pupil(who, pupil.school_id, pupil.class_name):
        actions = _in_order(available_actions(state, who.role, key, policy), step)
    return page(
        "pupil.html",
        pupil=pupil,
        school=school,
        school_label=school.name if school else "",
        state=state,
        due=due,
        overdue=bool(due and due.overdue_on(today)),
        entries=entries[::-1],
        actions=actions,
        step=step,
        decision=_decision(step, trail, entries),
        may_change=changes_pupil(who, pupil.school_id, pupil.class_name),
        done=confirmation(request.query_params.get("gedaan")),
        integrity=integrity_status(container.engine),
        **common,
    )


_REDECIDE = {
    "advies-bijstellen": "Besluit wijzigen: bijstellen",
    "advies-handhaven": "Besluit wijzigen: handhaven",
}


def _in_order(actions: list[Action], step: Step) -> list[Action]:
    """Once the heroverweging is decided, the definitief advies is the next step; changing the
    decision stays possible (the domain allows it until the definitief advies) but comes last."""
    if not step.decided:
        return actions
    first = [a for a in actions if a.key == "definitief-advies"]
    again = [replace(a, label=_REDECIDE[a.key]) for a in actions if a.key in _REDECIDE]
    rest = [a for a in actions if a.key != "definitief-advies" and a.key not in _REDECIDE]
    return first + rest + again


def _decision(
    step: Step, trail: Sequence[tuple[StoredEvent, Event]], entries: Sequence[Entry]
) -> str:
    """The decision in force, by whom and when: "advies bijgesteld naar havo op 10-03-2026,
    door Juf Anna (leerkracht)" (the newest raise or keep of the trail)."""
    if not step.decided or step.decided_on is None:
        return ""
    for (_, event), entry in zip(reversed(trail), reversed(entries), strict=True):
        if isinstance(event, AdviceRaised | AdviceKept):
            role = f" ({entry.role})" if entry.role else ""
            return f"{step.decided} op {step.decided_on:%d-%m-%Y}, door {entry.who}{role}"
    return f"{step.decided} op {step.decided_on:%d-%m-%Y}"
