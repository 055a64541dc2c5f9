"""The heroverweging worklist ("Heroverwegingen"): every pupil whose toetsadvies came in above
the advice and whose heroverweging is still open, soonest deadline first, with the conversation's
status, the days left and links to the pupil page and the decision forms.

A teacher sees the pupils of their own classes, intern begeleider and directie the whole school,
the board reads its schools. Each pupil on the page is in the access log ("heroverwegingslijst").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from service.accounts.access import READERS, WRITERS, sees_school, visible_classes
from service.accounts.sessions import SessionUser
from service.advice.overview import OverviewRow, class_overview
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.schools.register import School
from service.store.engine import single_statements
from service.store.schema import trajectories
from service.web.actions import BY_KEY
from service.web.pages import page, signed_in
from workflows.lifecycle import ConversationStatus, Status
from workflows.scale import SchoolAdvice, TestAdvice

router = APIRouter(include_in_schema=False)

# The conversation as the worklist names it (the events that exist: planned, moved, cancelled,
# held, declined).
CONVERSATION_LABELS = {
    ConversationStatus.NONE: "niet gepland",
    ConversationStatus.PLANNED: "gepland",
    ConversationStatus.CANCELLED: "niet gepland (afgezegd)",
    ConversationStatus.HELD: "gehouden",
    ConversationStatus.DECLINED: "afgezien",
}
# The decision forms (/leerlingen/{id}/acties/{key}); a renamed key fails at import, not as a 404
DECISIONS = tuple(
    (BY_KEY[k].key, BY_KEY[k].label) for k in ("advies-bijstellen", "advies-handhaven")
)
PLAN_CONVERSATION = BY_KEY["gesprek-plannen"].key


@dataclass(frozen=True)
class WorkItem:
    pupil_id: str
    name: str
    class_name: str
    advice: str
    test_advice: str
    deadline: date | None
    days_left: int | None
    conversation: ConversationStatus

    @property
    def conversation_label(self) -> str:
        return CONVERSATION_LABELS[self.conversation]


def _advice_label(code: str | None) -> str:
    return SchoolAdvice(code).label if code else "–"


def _test_label(code: str | None) -> str:
    if not code:
        return "–"
    try:
        return TestAdvice(code).label
    except (ValueError, AttributeError):
        return code


def _conversations(container: Any, pupil_ids: list[str]) -> dict[str, ConversationStatus]:
    if not pupil_ids:
        return {}
    streams = {f"trajectory-{p}": p for p in pupil_ids}
    with single_statements(container.engine).connect() as conn:
        found = conn.execute(
            select(trajectories.c.stream_id, trajectories.c.conversation).where(
                trajectories.c.stream_id.in_(list(streams))
            )
        ).all()
    return {streams[r.stream_id]: ConversationStatus(r.conversation) for r in found}


def worklist_of(
    container: Any, school: School, classes: frozenset[str] | None, today: date
) -> list[WorkItem]:
    """The school's open heroverwegingen in these classes (None: all), soonest deadline first."""
    rows: list[OverviewRow] = class_overview(
        container.engine,
        container.register,
        school.id,
        classes=classes,
        status=Status.RECONSIDERATION_REQUIRED,
        limit=10_000,
        offset=0,
    ).rows
    talks = _conversations(container, [r.pupil.id for r in rows])
    items = [
        WorkItem(
            pupil_id=r.pupil.id,
            name=r.pupil.display_name,
            class_name=r.pupil.class_name,
            advice=_advice_label(r.provisional_advice),
            test_advice=_test_label(r.test_advice),
            deadline=r.reconsideration_deadline,
            days_left=(r.reconsideration_deadline - today).days
            if r.reconsideration_deadline
            else None,
            conversation=talks.get(r.pupil.id, ConversationStatus.NONE),
        )
        for r in rows
    ]
    return sorted(items, key=lambda i: (i.deadline or date.max, i.class_name))


@router.get("/heroverwegingen", response_class=HTMLResponse)
def worklist_page(request: Request, container: ContainerDep) -> Response:
    session = signed_in(
        request,
        container,
        READERS,
        "Als {role} ziet u geen leerlingen.",
    )
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    today = container.clock().date()
    schools = []
    shown: list[str] = []
    for school in container.register.schools():
        if not sees_school(who, school.id):
            continue
        items = worklist_of(container, school, visible_classes(who, school.id), today)
        shown += [i.pupil_id for i in items]
        schools.append((school, items))
    log_reads(container, who, shown, "heroverwegingslijst", request)
    return page(
        "w_worklist.html",
        who=who,
        active="/heroverwegingen",
        csrf_token=session.csrf_token,
        schools=schools,
        today=today,
        decides=who.role in WRITERS,
        decisions=DECISIONS,
        plan_key=PLAN_CONVERSATION,
    )
