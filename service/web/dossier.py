"""The pupil dossier as a page (`/leerlingen/{id}/dossier`) and as a PDF
(`/leerlingen/{id}/dossier.pdf`): one `service.audit.dossier.Dossier`, one template body.

Who may read it: the same people as the pupil page who work at the school — a leerkracht for
the own classes, IB and directie for the whole school. The bestuur oversees its schools in
figures, without names or motivations, so it is refused the dossier (403, a Dutch page that says
so); anyone else, and a pupil outside the reader's classes or school, gets the same 404 as a
pupil that does not exist. Every read is in the access log ("dossier", "dossier-pdf"), written
before the data leaves. The facts are described and the accounts named by the timeline
(`service.web.timeline`), so the dossier and the pupil page always say the same.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.access import sees_pupil
from service.accounts.roles import Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.audit.dossier import Dossier, Person, assemble
from service.audit.integrity import status as chain_status
from service.bootstrap import Container
from service.reports.pdf import render_pdf
from service.web.pages import page, session_of
from service.web.timeline import SYSTEM_ACTORS, _role, _who, actor_names, timeline
from workflows.events import CODEC

router = APIRouter(include_in_schema=False)

_NOT_FOUND = "Deze leerling bestaat niet of valt buiten uw school of klassen."
_BOARD = (
    "Het dossier met namen, motivaties en gesprekken is voor de school zelf (leerkracht, intern "
    "begeleider en directie). Als bestuur ziet u de cijfers van uw scholen in de rapportage."
)


def people(container: Container) -> Person:
    """Names accounts the way the timeline does, one query per account not seen before."""
    known: dict[str, str] = {}

    def person(actor: str, role: str) -> tuple[str, str]:
        if actor and actor not in known and actor not in SYSTEM_ACTORS:
            known.update(actor_names(container.engine, [actor]))
        return _who(actor, known), _role(role)

    return person


def _dossier(
    request: Request, container: Container, pupil_id: str, what: str
) -> tuple[SessionUser, Dossier] | Response:
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
    if who.role is Role.BESTUUR:
        return page("message.html", 403, heading="Geen toegang", message=_BOARD, **common)
    trail = [
        (stored, CODEC.decode(stored.event_type, stored.schema_version, data))
        for stored, data in container.trajectories.audit_trail(key)
    ]
    school = container.register.school(pupil.school_id)
    dossier = assemble(
        engine=container.engine,
        store=container.store,
        pupil_id=pupil.id,
        name=pupil.display_name,
        class_name=pupil.class_name,
        school_name=school.name if school else "",
        trail=trail,
        lines=timeline(container.engine, trail, newest_first=False),
        person=people(container),
        chain=chain_status(container.engine),
        now=container.clock(),
    )
    log_reads(container, who, [pupil.id], what, request)
    return session, dossier


@router.get("/leerlingen/{pupil_id}/dossier", response_class=HTMLResponse)
def dossier_page(pupil_id: str, request: Request, container: ContainerDep) -> Response:
    found = _dossier(request, container, pupil_id, "dossier")
    if isinstance(found, Response):
        return found
    session, dossier = found
    return page(
        "d_dossier.html",
        dossier=dossier,
        integrity=dossier.chain,  # the dossier shows the chain itself: base.html's alert stays off
        who=session.principal,
        csrf_token=session.csrf_token,
        active="/klassen",
        school_label=dossier.school_name,
    )


@router.get("/leerlingen/{pupil_id}/dossier.pdf")
def dossier_pdf(pupil_id: str, request: Request, container: ContainerDep) -> Response:
    found = _dossier(request, container, pupil_id, "dossier-pdf")
    if isinstance(found, Response):
        return found
    _, dossier = found
    html = bytes(page("d_print.html", dossier=dossier).body).decode()
    name = (
        "".join(c if c.isascii() and c.isalnum() else "-" for c in dossier.name).strip("-").lower()
    )
    return Response(
        render_pdf(html),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="dossier-{name or "leerling"}.pdf"',
            "Cache-Control": "no-store",
        },
    )
