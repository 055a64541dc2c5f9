""" "Toetsuitslagen": what the test providers delivered to the school and what became of it, for
the intern begeleider, directie and the board (reading). Deliveries that need someone — for a
pupil the school does not know, refused by the rules, or still waiting for the worker — come
first, with the reason in Dutch; below them the latest processed ones. Pupils named on the page
are in the access log."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.access import sees_school
from service.accounts.roles import Role
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.intake.inbox import PENDING, PROCESSED, REFUSED, UNKNOWN_PUPIL
from service.web.pages import page, session_of

router = APIRouter(include_in_schema=False)

READERS = frozenset({Role.IB, Role.DIRECTIE, Role.BESTUUR})
STATE_LABELS = {
    PENDING: "wacht op verwerking",
    PROCESSED: "verwerkt",
    UNKNOWN_PUPIL: "leerling onbekend",
    REFUSED: "niet verwerkt",
}
LATEST = 50


@router.get("/toetsuitslagen", response_class=HTMLResponse)
def deliveries_page(request: Request, container: ContainerDep) -> Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    if who.role not in READERS:
        return page(
            "message.html",
            status=403,
            who=who,
            csrf_token=session.csrf_token,
            heading="Geen toegang",
            message=f"Als {who.role.label} ziet u de leveringen van toetsaanbieders niet; "
            "vraag de intern begeleider.",
        )
    schools = []
    shown: list[str] = []
    for school in container.register.schools():
        if not sees_school(who, school.id):
            continue
        found = container.inbox.of_school(school.id, limit=10_000)
        counts = Counter(d.state for d in found)
        attention = [d for d in found if d.state != PROCESSED]
        latest = [d for d in found if d.state == PROCESSED][-LATEST:][::-1]
        register = {p.id: p.display_name for p in container.register.pupils_of(school.id)}
        names = {
            d.pupil_id: register.get(d.pupil_id, "(gegevens gewist)")
            for d in attention + latest
            if d.pupil_id
        }
        shown += list(names)
        schools.append((school, counts, attention, latest, names))
    log_reads(container, who, shown, "toetsuitslagen", request)
    return page(
        "deliveries.html",
        who=who,
        csrf_token=session.csrf_token,
        schools=schools,
        labels=STATE_LABELS,
    )
