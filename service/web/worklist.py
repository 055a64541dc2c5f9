"""The heroverweging worklist ("Heroverwegingen"): every pupil whose toetsadvies came in above
the advice and whose heroverweging is still open, soonest deadline first, with the conversation's
status, the days left and links to the pupil page and the decision forms.

A teacher sees the pupils of their own classes, intern begeleider and directie the whole school,
the board reads its schools. Each pupil on the page is in the access log ("heroverwegingslijst").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from service.accounts.access import READERS, WRITERS, sees_school, visible_classes
from service.accounts.sessions import SessionUser
from service.advice.overview import OverviewRow, class_overview
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.scheduling import views as talk_views
from service.scheduling.views import TalkRow
from service.schools.register import School
from service.store.engine import single_statements
from service.store.schema import trajectories
from service.web.actions import BY_KEY, allowed, href
from service.web.commands import policy_of
from service.web.pages import DUTCH, page, signed_in
from workflows.conversations import TalkKind, TalkStatus
from workflows.errors import DomainError
from workflows.guards import GUARDS
from workflows.lifecycle import ConversationStatus, Status
from workflows.machine import fire
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import Decision, Trajectory

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
_PLANNED = frozenset({TalkStatus.PROPOSED, TalkStatus.ACCEPTED, TalkStatus.OTHER_TIME_ASKED})


@dataclass(frozen=True)
class Step:
    """Where a pupil's heroverweging stands for the person deciding, and the next action.

    `decided`: the decision in words ("advies bijgesteld naar havo (gedeeltelijk)"), then the
    next step is the definitief advies; `waiting`: why deciding cannot happen yet (the school
    decides after the conversation with parents and pupil), with where to go for the talk."""

    decided: str = ""
    decided_on: date | None = None
    waiting: str = ""
    href: str = ""
    link: str = ""


_FINAL = BY_KEY["definitief-advies"]
_HOLD = BY_KEY["gesprek-gevoerd"]
_CONVERSATION_NOT_SETTLED = GUARDS["conversation_settled"].code


def decision_words(decision: Decision) -> str:
    """The heroverweging's decision as a teacher says it."""
    if not decision.raised:
        return f"advies gehandhaafd ({decision.advice.label})"
    how = "" if decision.fully else " (gedeeltelijk)"
    return f"advies bijgesteld naar {decision.advice.label}{how}"


def step_of(
    state: Trajectory, policy: SchoolPolicy, pupil_id: str, talk: TalkRow | None = None
) -> Step:
    """The heroverweging's step, asked of the domain: the decision as it stands, or the machine's
    own refusal to decide when the conversation guard (`conversation_settled`) holds it back."""
    if state.status is not Status.RECONSIDERATION_REQUIRED:
        return Step()
    if state.decision is not None:
        final = allowed(state, _FINAL.trigger, policy)
        return Step(
            decided=decision_words(state.decision),
            decided_on=state.decision.decided_on,
            href=href(pupil_id, _FINAL.key) if final else "",
            link=_FINAL.label if final else "",
        )
    try:
        fire(state, BY_KEY["advies-bijstellen"].trigger, policy)
    except DomainError as error:
        if error.code != _CONVERSATION_NOT_SETTLED:
            return Step()
        if talk is not None:
            where, link = f"/gesprekken/{talk.talk_id}", "Naar het gesprek"
        elif allowed(state, BY_KEY[PLAN_CONVERSATION].trigger, policy):
            where, link = href(pupil_id, PLAN_CONVERSATION), "Gesprek plannen"
        else:
            where, link = href(pupil_id, _HOLD.key), _HOLD.label
        return Step(
            waiting="Eerst het gesprek met ouders en leerling; daarna bijstellen of handhaven.",
            href=where,
            link=link,
        )
    return Step()


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
    talk: TalkRow | None = None
    """The pupil's heroverweging talk from the scheduler (None: none requested yet)."""
    step: Step = Step()
    """Decided (then the definitief advies is next), or waiting for the conversation."""

    @property
    def conversation_label(self) -> str:
        return CONVERSATION_LABELS[self.conversation]

    @property
    def talk_state(self) -> TalkState:
        return talk_state(self.talk)


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


@dataclass(frozen=True)
class TalkState:
    """The talk column: its state in words, the badge's kind, when, and where to look."""

    label: str
    kind: str
    when: datetime | None = None
    href: str = ""
    link: str = ""
    risk: str = ""


def reconsideration_talks(container: Any, pupil_ids: list[str]) -> dict[str, TalkRow]:
    """Each pupil's newest heroverweging talk that is not cancelled (else the newest one)."""
    found = {}
    for pupil_id, rows in talk_views.for_pupils(container.engine, pupil_ids).items():
        mine = [r for r in rows if r.kind is TalkKind.RECONSIDERATION]
        live = [r for r in mine if r.status is not TalkStatus.CANCELLED]
        if live or mine:
            found[pupil_id] = (live or mine)[0]
    return found


_TALK_BADGES = {
    TalkStatus.REQUESTED: "warning",
    TalkStatus.PROPOSED: "neutral",
    TalkStatus.ACCEPTED: "active",
    TalkStatus.OTHER_TIME_ASKED: "warning",
    TalkStatus.HELD: "success",
    TalkStatus.DECLINED: "success",
    TalkStatus.CANCELLED: "warning",
}


def talk_state(talk: TalkRow | None) -> TalkState:
    if talk is None:
        return TalkState("nog niet aangevraagd", "neutral")
    page = f"/gesprekken/{talk.talk_id}"
    if talk.at_risk_reason:
        return TalkState(
            f"in gevaar (directie gewaarschuwd): {talk.status.label}",
            "danger",
            talk.start,
            page,
            "Gesprek openen",
            talk.at_risk_reason,
        )
    if talk.start is not None and talk.status in _PLANNED:
        monday = talk.start.astimezone(DUTCH).date()
        week = monday.isocalendar()
        href = f"/gesprekken?week={week[0]}-W{week[1]:02d}"
        return TalkState(
            talk.status.label, _TALK_BADGES[talk.status], talk.start, href, "In de week bekijken"
        )
    return TalkState(talk.status.label, _TALK_BADGES[talk.status], None, page, "Gesprek openen")


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
    scheduled = reconsideration_talks(container, [r.pupil.id for r in rows])
    steps = {}
    for r in rows:  # the decision and the guards need the state: one fold per open pupil
        state = container.trajectories.load(UUID(r.pupil.id))
        policy = policy_of(container, school.id, state)
        steps[r.pupil.id] = step_of(state, policy, r.pupil.id, scheduled.get(r.pupil.id))
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
            talk=scheduled.get(r.pupil.id),
            step=steps[r.pupil.id],
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
