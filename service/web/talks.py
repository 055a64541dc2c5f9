"""One talk's page with its "Verzetten" form, and directie's list of talks at risk.

`/gesprekken/{talk_id}` shows the talk (pupil, kind, state, time, room, deadline, what blocks
it) to whoever may see the pupil (404 to anyone else, so that it does not leak). Its form moves a
planned talk (or plans one the planner could not place) through `Talks.move`/`Talks.plan`:
the planner's own checks, so a double booking, a time outside availability or after the deadline
is refused with its reasons in Dutch and nothing is stored (422); a talk changed meanwhile gives
"Intussen gewijzigd door <naam> op <tijd>" (409). Success: 303 to the week of the new time. The
week calendar's drag and drop posts the very same form (static/calendar.js). Two more forms
record the talk as held (date, who attended, notes) or cancel it (reason) through
`Talks.hold`/`Talks.cancel` — for a heroverweging talk with the trajectory's event in the same
unit of work —, with the same CSRF check, version (409) and 422 beside the fields.

`/gesprekken/risico` lists, for intern begeleider and directie, the talks that may not happen
before the legal deadline: what blocks each one and who must act, the soonest deadline first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.accounts.access import changes_pupil, sees_pupil, sees_school
from service.accounts.roles import Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.scheduling import views
from service.scheduling.requests import unknown_said
from service.scheduling.talks import PlanningRefused
from service.shared.context import Actor, CommandContext
from service.store.events import ConcurrencyError
from service.web.actions import available_actions
from service.web.calendar import Block, blocks_of, kind_label, not_found, week_key
from service.web.pages import DUTCH, message_page, page, session_of, signed_in, tokens_match
from service.web.talk_record import FORM_FIELDS, PARTIES, parse_cancel, parse_held
from workflows.calendar import SchoolYear, school_day
from workflows.conversations import (
    ParentsAccepted,
    ParentsAskedOtherTime,
    ParentsDeclined,
    ParentsViewGiven,
    Period,
    TalkHeld,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
    TalkStatus,
    talk_stream,
)
from workflows.dutch import WEEKDAYS, periods_in_words
from workflows.errors import DomainError
from workflows.events import CODEC
from workflows.trajectory import fold

router = APIRouter(include_in_schema=False)

MOVABLE = frozenset({"proposed", "accepted", "other_time_asked"})
PLANNABLE = frozenset({"requested"})
CANCELLABLE = MOVABLE | PLANNABLE
HOLDABLE = CANCELLABLE | {"cancelled"}
DONE = {"gevoerd": "Vastgelegd: het gesprek is gevoerd.", "afgezegd": "Het gesprek is afgezegd."}
RISK_READERS = frozenset({Role.IB, Role.DIRECTIE})
MAX_REASON = 500

# What blocks a talk at risk, and who must act (the read model's codes; unknown codes say the
# escalation's own message)
RISKS: dict[str, tuple[str, str]] = {
    "no_slot_before_deadline": (
        "Geen vrij moment vóór de termijn in de beschikbaarheid van de leerkracht(en).",
        "Directie: meer beschikbaarheid laten publiceren of het gesprek met de hand plannen.",
    ),
    "no_proposal_in_time": (
        "Er is nog geen moment voorgesteld aan de ouders.",
        "Leerkracht: het gesprek inplannen.",
    ),
    "no_answer": (
        "De ouders hebben niet op tijd geantwoord op de uitnodiging.",
        "Leerkracht: de ouders bellen; daarna het gesprek bevestigen of verzetten.",
    ),
    "other_time_asked": (
        "De ouders vroegen een ander moment; het gesprek is nog niet verzet.",
        "Leerkracht: het gesprek verzetten.",
    ),
    "after_latest_end": (
        "Het gesprek staat na de laatste dag om het besluit nog op tijd vast te leggen.",
        "Leerkracht: het gesprek naar voren halen.",
    ),
    "too_late": (
        "De laatste dag om het gesprek te voeren (vóór het besluit) is voorbij.",
        "Directie: met de ouders afspreken hoe het besluit toch op tijd valt.",
    ),
}
ESCALATION_ORDER = ("no_answer", "no_slot_before_deadline", "no_proposal_in_time")
FALLBACK_ACT = "Directie: bekijk het gesprek en beslis wie het oppakt."


# -- one talk ------------------------------------------------------------------------------------


@dataclass
class Found:
    session: SessionUser
    row: Any
    pupil: Any
    block: Block
    may_change: bool


def _find(request: Request, container: Container, talk_id: str) -> Found | Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    missing = not_found(session, "Dit gesprek bestaat niet of valt buiten uw school of klas.")
    try:
        row = views.talk(container.engine, talk_id)
    except (ValueError, LookupError):
        return missing
    if row is None:
        return missing
    pupil = container.register.pupil(str(row.pupil_id))
    if pupil is None or not sees_pupil(who, pupil.school_id, pupil.class_name):
        return missing
    blocks = blocks_of([row], who, {pupil.id: pupil})
    if not blocks:  # not planned yet: a block without a time
        blocks = [_unplanned(row, pupil)]
    return Found(
        session, row, pupil, blocks[0], changes_pupil(who, pupil.school_id, pupil.class_name)
    )


def _unplanned(row: Any, pupil: Any) -> Block:
    far = datetime.combine(date.min, time(0), DUTCH)
    return Block(
        talk_id=str(row.talk_id),
        start=far,
        end=far,
        pupil_id=pupil.id,
        pupil_name=pupil.display_name,
        class_name=pupil.class_name,
        kind=str(getattr(row.kind, "value", row.kind)),
        status=str(getattr(row.status, "value", row.status)),
        room=row.room,
        version=int(row.version),
        visible=True,
    )


def _render(
    found: Found,
    request: Request,
    container: Container,
    *,
    status: int = 200,
    form: str = "verzetten",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    refusals: list[str] | None = None,
    changed: str = "",
    done: str = "",
) -> HTMLResponse:
    """The talk page; `values`/`errors`/`refusals` belong to `form` (verzetten, gevoerd,
    afzeggen), the other forms show their defaults."""
    row, block = found.row, found.block
    log_reads(container, found.session.principal, [found.pupil.id], "gesprek", request)
    planned = row.start is not None
    today = school_day(container.clock())
    history = container.talks.history(str(row.talk_id))
    # a talk still planned for a later day is not held yet (the domain refuses it too): the form
    # shows from the talk's day on, its date the planned day (a talk is rarely recorded on it)
    not_yet = planned and block.status in MOVABLE and block.start.date() > today
    held_day = block.start.date() if planned and not not_yet else today
    forms: dict[str, dict[str, Any]] = {
        "verzetten": {
            "datum": block.start.date().isoformat() if planned else "",
            "tijd": block.start.strftime("%H:%M") if planned else "",
            "lokaal": row.room or "",
            "reden": "",
        },
        "gevoerd": {
            "gevoerd_op": held_day.isoformat(),
            "aanwezig": ["parents", "teacher", *(["pupil"] if row.with_pupil else [])],
            "notities": "",
        },
        "afzeggen": {"afzegreden": ""},
    }
    if values is not None:
        forms[form] = values
    wrong = {name: (errors or {}) if name == form else {} for name in forms}
    refused = {name: (refusals or []) if name == form else [] for name in forms}
    return page(
        "g_talk.html",
        status,
        who=found.session.principal,
        csrf_token=found.session.csrf_token,
        active="/gesprekken",
        talk=block,
        row=row,
        pupil=found.pupil,
        planned=planned,
        deadline=last_day(row.deadline),
        latest=last_day(row.latest_end),
        # a request for another time is shown as such below, not a second time as a risk
        availability=availability_link(row) if row.at_risk_reason else "",
        risk=risk_of(row, container.clock())
        if row.at_risk_reason or block.status != "other_time_asked"
        else None,
        said=parents_said(container, str(row.talk_id), history),
        outcome=held_outcome(history),
        next_steps=next_steps(container, found) if block.status == "held" else [],
        unknown=unknown_said(
            next(e.unknown_attendees for e in history if isinstance(e, TalkRequested))
        ),  # from the stream read above, not read again
        may_move=found.may_change and block.status in MOVABLE,
        may_plan=found.may_change and block.status in PLANNABLE,
        may_hold=found.may_change
        and block.status in HOLDABLE
        and (not not_yet or (form == "gevoerd" and values is not None)),
        hold_from=block.start.date() if found.may_change and not_yet else None,
        may_cancel=found.may_change and block.status in CANCELLABLE,
        parties=PARTIES,
        form=form,
        values=forms["verzetten"],
        errors=wrong["verzetten"],
        refusals=refused["verzetten"],
        held=forms["gevoerd"],
        held_errors=wrong["gevoerd"],
        held_refusals=refused["gevoerd"],
        cancel=forms["afzeggen"],
        cancel_errors=wrong["afzeggen"],
        cancel_refusals=refused["afzeggen"],
        changed=changed,
        done=DONE.get(done, ""),
        version=int(row.version),
        week_url=f"/gesprekken?week={week_key(block.start.date())}" if planned else "/gesprekken",
    )


@router.get("/gesprekken/risico", response_class=HTMLResponse)
def at_risk_page(request: Request, container: ContainerDep) -> Response:
    session = signed_in(
        request,
        container,
        RISK_READERS,
        "Als {role} ziet u de lijst van gesprekken in gevaar niet; de directie en de intern "
        "begeleider wel.",
    )
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    schools = [s for s in container.register.schools() if sees_school(who, s.id)]
    items = at_risk_items(container, [s.id for s in schools], who)
    log_reads(
        container,
        who,
        sorted({i.block.pupil_id or "" for i in items} - {""}),
        "gesprekken in gevaar",
        request,
    )
    return page(
        "g_risk.html",
        who=who,
        csrf_token=session.csrf_token,
        active="/gesprekken/risico",
        items=items,
        schools=schools,
        today=container.clock().astimezone(DUTCH).date(),
    )


@router.get("/gesprekken/{talk_id:uuid}", response_class=HTMLResponse)
def talk_page(talk_id: UUID, request: Request, container: ContainerDep) -> Response:
    found = _find(request, container, str(talk_id))
    if isinstance(found, Response):
        return found
    return _render(found, request, container, done=request.query_params.get("vastgelegd", ""))


@router.post("/gesprekken/{talk_id:uuid}/verzetten", response_class=HTMLResponse)
async def move_talk(talk_id: UUID, request: Request, container: ContainerDep) -> Response:
    posted = await request.form()
    return await run_in_threadpool(_move, str(talk_id), request, container, posted)


def _posted_to(
    request: Request, container: Container, talk_id: str, posted: Any
) -> Found | Response:
    """The talk a form was posted to, when the person may see it and the form came from their
    session (403 "Formulier verlopen" otherwise)."""
    found = _find(request, container, talk_id)
    if isinstance(found, Response):
        return found
    if not tokens_match(found.session.csrf_token, str(posted.get("csrf_token") or "")):
        return message_page(
            found.session,
            403,
            "Formulier verlopen",
            "Dit formulier kwam niet van uw sessie (of is verlopen). Open het gesprek opnieuw en "
            "probeer het nog eens.",
        )
    return found


def _move(talk_id: str, request: Request, container: Container, posted: Any) -> Response:
    found = _posted_to(request, container, talk_id, posted)
    if isinstance(found, Response):
        return found
    session = found.session
    status = found.block.status
    if not found.may_change or status not in MOVABLE | PLANNABLE:
        return message_page(
            session,
            403,
            "Kan niet verzetten",
            f"Dit gesprek kunt u niet verzetten (stand: {found.block.status_label}).",
        )
    values = {k: str(posted.get(k) or "").strip() for k in ("datum", "tijd", "lokaal", "reden")}
    start, errors = parse_move(values, plan=status in PLANNABLE)
    version = _version(posted, errors)
    if errors or start is None or version is None:
        return _render(found, request, container, status=422, values=values, errors=errors)
    actor = _actor(session, request)
    room = values["lokaal"] or None
    try:
        if status in PLANNABLE:
            container.talks.plan(talk_id, start, room, actor, expected_version=version)
        else:
            container.talks.move(
                talk_id, start, room, values["reden"], actor, expected_version=version
            )
    except ConcurrencyError:
        return _stale(request, container, talk_id, "verzetten", values)
    except PlanningRefused as refused:
        reasons = [sentence(getattr(r, "message", str(r))) for r in refused.reasons]
        return _render(found, request, container, status=422, values=values, refusals=reasons)
    except DomainError as error:
        return _render(
            found, request, container, status=422, values=values, refusals=[sentence(error.message)]
        )
    done = "gepland" if status in PLANNABLE else "verzet"
    return RedirectResponse(
        f"/gesprekken?week={week_key(start.date())}&{done}={talk_id}", status_code=303
    )


def _version(posted: Any, errors: dict[str, str]) -> int | None:
    """The talk's version the form was made from; a complaint in `errors` without one."""
    try:
        return int(str(posted.get("version") or ""))
    except ValueError:
        errors["versie"] = (
            "Het formulier mist de versie waarop het gebaseerd was; open het opnieuw."
        )
        return None


def _actor(session: SessionUser, request: Request) -> CommandContext:
    return CommandContext(
        actor=Actor(id=session.principal.user_id, role=session.principal.role.value),
        request_id=request.state.request_id,
        correlation_id=request.state.request_id,
    )


def _stale(
    request: Request, container: Container, talk_id: str, form: str, values: dict[str, Any]
) -> Response:
    """409: the talk changed since the form was made; the page as it is now, the input kept."""
    fresh = _find(request, container, talk_id)
    if isinstance(fresh, Response):
        return fresh
    return _render(
        fresh,
        request,
        container,
        status=409,
        form=form,
        values=values,
        changed=changed_by(container, talk_id),
    )


@router.post("/gesprekken/{talk_id:uuid}/gevoerd", response_class=HTMLResponse)
async def hold_talk(talk_id: UUID, request: Request, container: ContainerDep) -> Response:
    posted = await request.form()
    return await run_in_threadpool(_record, str(talk_id), request, container, posted, "gevoerd")


@router.post("/gesprekken/{talk_id:uuid}/afzeggen", response_class=HTMLResponse)
async def cancel_talk(talk_id: UUID, request: Request, container: ContainerDep) -> Response:
    posted = await request.form()
    return await run_in_threadpool(_record, str(talk_id), request, container, posted, "afzeggen")


def _record(
    talk_id: str, request: Request, container: Container, posted: Any, form: str
) -> Response:
    """Record the talk as held (`form` "gevoerd") or cancel it ("afzeggen")."""
    found = _posted_to(request, container, talk_id, posted)
    if isinstance(found, Response):
        return found
    session = found.session
    allowed = HOLDABLE if form == "gevoerd" else CANCELLABLE
    if not found.may_change or found.block.status not in allowed:
        what = "als gevoerd vastleggen" if form == "gevoerd" else "afzeggen"
        return message_page(
            session,
            403,
            "Kan niet " + what,
            f"Dit gesprek kunt u niet {what} (stand: {found.block.status_label}).",
        )
    if form == "gevoerd":
        values: dict[str, Any] = {
            "gevoerd_op": str(posted.get("gevoerd_op") or "").strip(),
            "aanwezig": [str(v) for v in posted.getlist("aanwezig")],
            "notities": str(posted.get("notities") or "").strip(),
        }
        held_on, attendees, errors = parse_held(values)
    else:
        values = {"afzegreden": str(posted.get("afzegreden") or "").strip()}
        held_on, attendees, errors = None, [], parse_cancel(values)
    version = _version(posted, errors)
    if errors or version is None:
        return _render(
            found, request, container, status=422, form=form, values=values, errors=errors
        )
    try:
        if held_on is not None:  # the held form
            container.talks.hold(
                talk_id,
                held_on,
                attendees,
                values["notities"] or None,
                _actor(session, request),
                expected_version=version,
            )
        else:
            container.talks.cancel(
                talk_id, values["afzegreden"], _actor(session, request), expected_version=version
            )
    except ConcurrencyError:
        return _stale(request, container, talk_id, form, values)
    except DomainError as error:
        field = FORM_FIELDS.get(error.field or "")
        wrong, refusals = ({field: sentence(error.message)}, []) if field else ({}, [error.message])
        return _render(
            found,
            request,
            container,
            status=422,
            form=form,
            values=values,
            errors=wrong,
            refusals=[sentence(r) for r in refusals],
        )
    done = "gevoerd" if form == "gevoerd" else "afgezegd"
    return RedirectResponse(f"/gesprekken/{talk_id}?vastgelegd={done}", status_code=303)


def parse_move(values: dict[str, str], *, plan: bool) -> tuple[datetime | None, dict[str, str]]:
    """The form's new start (Dutch local time, with its zone) and the fields' complaints."""
    errors: dict[str, str] = {}
    day = moment = None
    try:
        day = date.fromisoformat(values["datum"])
    except ValueError:
        errors["datum"] = "Geef een geldige datum." if values["datum"] else "Vul een datum in."
    try:
        moment = time.fromisoformat(values["tijd"])
    except ValueError:
        errors["tijd"] = "Geef een tijd als 14:30." if values["tijd"] else "Vul een tijd in."
    if not plan and not values["reden"]:
        errors["reden"] = "Schrijf waarom het gesprek verzet wordt (de ouders lezen dit)."
    if len(values["reden"]) > MAX_REASON:
        errors["reden"] = f"Gebruik hoogstens {MAX_REASON} tekens."
    if len(values["lokaal"]) > 100:
        errors["lokaal"] = "Gebruik hoogstens 100 tekens."
    if day is None or moment is None:
        return None, errors
    return datetime.combine(day, moment.replace(second=0, microsecond=0), DUTCH), errors


def last_day(moment: datetime | None) -> date | None:
    """The day a deadline falls on: the read model keeps the end of that day (the next
    midnight in Amsterdam), which is not the day to show."""
    if moment is None:
        return None
    return (moment.astimezone(DUTCH) - timedelta(microseconds=1)).date()


def sentence(message: str) -> str:
    text = message[:1].upper() + message[1:]
    return text if text.endswith(".") else text + "."


def changed_by(container: Container, talk_id: str) -> str:
    """ "Intussen gewijzigd door <naam> op <tijd>": who made the talk's latest change, when."""
    stored = container.store.read_stream(talk_stream(talk_id))
    if not stored:
        return "Intussen gewijzigd."
    last = stored[-1]
    actor = str(last.metadata.get("actor", ""))
    if last.metadata.get("role") == "ouder":  # answered on the parents' page
        name = "de ouders"
    else:
        accounts = container.accounts.accounts(actor) if actor else []
        name = accounts[0].principal.name if accounts else "het systeem"
    when = last.recorded_at.astimezone(DUTCH).strftime("%d-%m-%Y om %H:%M")
    return f"Intussen gewijzigd door {name} op {when}."


# -- what the parents said ----------------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """One thing the parents said (or the answer it got), for the talk page's history."""

    when: str  # dd-mm-jjjj uu:mm, Dutch time
    what: str  # "Vroegen een ander moment", ...
    text: str = ""  # their own words ("" when none)
    unavailable: tuple[str, ...] = ()
    preferred: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParentsSaid:
    """The parents' answers a teacher needs to move the talk: the latest request for another
    time (message, unavailable and preferred times) while it is open, the zienswijze, a
    decline's message; and `history`, everything they said with the new times it led to, oldest
    first, which stays after the talk was replanned."""

    other_time: str | None = None  # the message ("" when none written)
    unavailable: tuple[str, ...] = ()
    preferred: tuple[str, ...] = ()
    views: tuple[tuple[str, str], ...] = ()  # (when, text)
    declined: str | None = None
    history: tuple[Said, ...] = ()


def _periods(periods: Sequence[Period]) -> tuple[str, ...]:
    """The periods in words, a weekly part of a day as one line (`workflows.dutch`)."""
    return periods_in_words(periods, DUTCH)


def _at(moment: datetime) -> str:
    return moment.astimezone(DUTCH).strftime("%d-%m-%Y %H:%M")


def _moment(start: datetime) -> str:
    local = start.astimezone(DUTCH)
    return f"{WEEKDAYS[local.weekday()]} {local:%d-%m-%Y %H:%M}"


def parents_said(
    container: Container, talk_id: str, history: Sequence[Any] | None = None
) -> ParentsSaid:
    said = ParentsSaid()
    asked = False  # a time the parents asked for another one: the next time is its answer
    log: list[Said] = []
    for event in container.talks.history(talk_id) if history is None else history:
        if isinstance(event, TalkPlanned | TalkMoved):
            said = replace(said, other_time=None, unavailable=(), preferred=())
            if asked:
                on = event.planned_on if isinstance(event, TalkPlanned) else event.moved_on
                by = "de planner" if isinstance(event, TalkPlanned) and event.by_planner else ""
                what = f"Nieuw moment{' van ' + by if by else ''}: {_moment(event.start)}"
                log.append(Said(_at(on), what))
                asked = False
        elif isinstance(event, ParentsAskedOtherTime):
            said = replace(
                said,
                other_time=event.message or "",
                unavailable=_periods(event.unavailable),
                preferred=_periods(event.preferred),
            )
            log.append(
                Said(
                    _at(event.on),
                    "De ouders vroegen een ander moment",
                    event.message or "",
                    said.unavailable,
                    said.preferred,
                )
            )
            asked = True
        elif isinstance(event, ParentsAccepted):
            log.append(Said(_at(event.on), "De ouders bevestigden het gesprek"))
        elif isinstance(event, ParentsViewGiven):
            when = _at(event.on)
            said = replace(said, views=(*said.views, (when, event.text)))
            log.append(Said(when, "De ouders gaven hun zienswijze", event.text))
        elif isinstance(event, ParentsDeclined):
            said = replace(said, declined=event.message or "")
            what = "De ouders zien af van het gesprek"
            if event.parent_id is None:
                what += " (vastgelegd door de school)"
            log.append(Said(_at(event.on), what, event.message or ""))
    return replace(said, history=tuple(log))


@dataclass(frozen=True)
class Outcome:
    """What a held talk's page says about it."""

    held_on: date
    attendees: str
    notes: str


def held_outcome(history: Sequence[Any]) -> Outcome | None:
    held = next((e for e in reversed(history) if isinstance(e, TalkHeld)), None)
    if held is None:
        return None
    labels = dict(PARTIES)
    names = [labels.get(p.value, p.value) for p in held.attendees]
    return Outcome(held.held_on, ", ".join(names) or "–", held.notes or "")


NEXT_STEPS = ("advies-bijstellen", "advies-handhaven")


def next_steps(container: Container, found: Found) -> list[Any]:
    """After a held heroverweging talk: the pupil's actions it unlocked (bijstellen,
    handhaven), as far as this person may take them now."""
    if found.block.kind != "reconsideration" or not found.may_change:
        return []
    pupil = found.pupil
    state = fold(
        CODEC.decode(stored.event_type, stored.schema_version, data)
        for stored, data in container.trajectories.audit_trail(UUID(pupil.id))
    )
    year = state.school_year or SchoolYear.containing(school_day(container.clock()))
    policy = container.policies(pupil.school_id, year)
    role = found.session.principal.role
    return [a for a in available_actions(state, role, pupil.id, policy) if a.key in NEXT_STEPS]


# -- talks at risk -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskItem:
    block: Block
    planned: bool
    deadline: date | None
    blocks: str
    acts: str
    availability: str = ""  # where to publish more time, when that is what is missing

    @property
    def kind_label(self) -> str:
        return kind_label(self.block.kind)


def risk_of(row: Any, now: datetime) -> tuple[str, str] | None:
    """What blocks a talk and who must act; None when nothing does. The escalation's own
    message (the read model's `at_risk_reason`) says what blocks it, where there is one."""
    message = getattr(row, "at_risk_reason", None)
    codes = set(getattr(row, "escalations", ()) or ()) if message else set()
    status = str(getattr(row.status, "value", row.status))
    code = next((c for c in ESCALATION_ORDER if c in codes), None)
    if status == "other_time_asked":
        code = "other_time_asked"
    elif code is None and row.start is not None and row.end > row.latest_end:
        code = "after_latest_end"
    elif code is None and views.too_late(row, now):
        code = "too_late"
    if code is None and not message:
        return None
    blocks, acts = RISKS.get(code or "", ("", FALLBACK_ACT))
    return (sentence(message) if message else blocks, acts)


def availability_link(row: Any) -> str:
    """The availability page of the talk's round when no free time is what blocks it."""
    if "no_slot_before_deadline" not in (getattr(row, "escalations", ()) or ()):
        return ""
    return "/beschikbaarheid?" + urlencode({"ronde": row.round_key})


def at_risk_rows(container: Container, school_ids: list[str], now: datetime) -> list[Any]:
    """The scheduler's talks at risk (escalated, or past their latest end) and the talks whose
    parents asked for another time that was not given yet."""
    rows = {r.talk_id: r for r in views.at_risk(container.engine, school_ids, now)}
    for school_id in school_ids:
        for row in views.open_requests(container.engine, school_id):
            if row.status is TalkStatus.OTHER_TIME_ASKED:
                rows.setdefault(row.talk_id, row)
    return list(rows.values())


def at_risk_items(container: Container, school_ids: list[str], who: Any) -> list[RiskItem]:
    now = container.clock()
    rows = at_risk_rows(container, school_ids, now)
    pupils: dict[str, Any] = {}
    for school_id in school_ids:
        pupils.update({p.id: p for p in container.register.pupils_of(school_id)})
    items = []
    for row in rows:
        pupil = pupils.get(str(row.pupil_id))
        if pupil is None:
            continue
        planned = row.start is not None
        block = blocks_of([row], who, pupils)[0] if planned else _unplanned(row, pupil)
        blocks, acts = risk_of(row, now) or RISKS["no_proposal_in_time"]
        more = availability_link(row)
        items.append(RiskItem(block, planned, last_day(row.deadline), blocks, acts, more))
    return sorted(items, key=lambda i: (i.deadline or date.max, i.block.title))
