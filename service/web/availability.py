"""`/beschikbaarheid`: staff publish when they can hold the talks of a round, and directie and
IB see the whole school's coverage.

A teacher, IB or directie picks a round (the heroverweging talks, 15–24 March by default, or one
of the school's groep 8 rounds) and fills in rows: a day ("di 17 mrt", "17-03", or "di" for every
Tuesday of the round), from, to and a room. "Meer regels" adds empty rows and "Volgende week"
copies a row to the same weekday a week later (both only change the form: nothing is stored
until "Opslaan"). A save replaces that person's availability for the round
(`service.scheduling.availability.publish`). Bad input: 422 with each Dutch error beside its
field, nothing stored. Directie and IB also see who published what for the round and, per day,
how many talks that gives room for, and may plan a whole round's talks (`rounds_page`). Every
POST checks the session's CSRF token; beheer and the board are refused (403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from service.accounts.roles import Role
from service.accounts.sessions import SessionUser
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.scheduling import availability as published
from service.scheduling.rounds import classes, request_round
from service.schools.register import School
from service.shared.context import Actor, CommandContext
from service.web.pages import message_page, page, signed_in, tokens_match
from workflows.availability import (
    AMSTERDAM,
    MAX_ROWS,
    RECONSIDERATION,
    AvailabilityInvalidError,
    Period,
    PublishedWindow,
    RowInput,
    describe_window,
    next_week,
    parse_rows,
    periods,
    row_field,
    rows_of,
    slots,
    weekly,
)
from workflows.calendar import SchoolYear
from workflows.errors import DomainError
from workflows.policy import Attendee

router = APIRouter(include_in_schema=False)

PATH = "/beschikbaarheid"
PUBLISHERS = frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE})
OVERSEERS = frozenset({Role.IB, Role.DIRECTIE})
REFUSAL = "Als {role} geeft u geen beschikbaarheid voor gesprekken door."
BLANK_ROWS = 3
MORE_ROWS = 5
MESSAGES = {
    "opgeslagen": "Uw beschikbaarheid is opgeslagen. De planner gebruikt vanaf nu deze tijden.",
    "ongewijzigd": "Er was niets gewijzigd; er is niets opgeslagen.",
}


@dataclass(frozen=True)
class Where:
    session: SessionUser
    school: School
    schools: list[School]
    year: SchoolYear
    period: Period
    periods: list[Period]


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    what: str


@dataclass
class Coverage:
    """Who published what for the round, and per day how many talks it gives room for."""

    people: list[tuple[Person, list[PublishedWindow], int, datetime | None]] = field(
        default_factory=list
    )
    days: list[tuple[date, int, list[str]]] = field(default_factory=list)


def staff_of(container: Container, school_id: str) -> list[Person]:
    """The school's active teachers, IB and directie, by name."""
    people = []
    for account in container.accounts.accounts():
        who = account.principal
        if not account.active or who.role not in PUBLISHERS:
            continue
        scopes = [s for s in who.scopes if s.school_id == school_id]
        if not scopes:
            continue
        classes = sorted(s.class_name for s in scopes if s.class_name)
        what = f"leerkracht {', '.join(classes)}" if classes else who.role.label
        people.append(Person(who.user_id, who.name, what))
    return sorted(people, key=lambda p: p.name.casefold())


def coverage(container: Container, school_id: str, period: Period) -> Coverage:
    found = published.current(container, school_id, period.key)
    result = Coverage()
    by_day: dict[date, tuple[int, list[str]]] = {}
    for person in staff_of(container, school_id):
        publication = found.get((person.user_id, period.key))
        windows = list(publication.event.windows) if publication else []
        count = sum(slots(w, period.talk.minutes) for w in windows)
        since = publication.recorded_at if publication else None
        result.people.append((person, windows, count, since))
        for window in windows:
            day = window.start.astimezone(AMSTERDAM).date()
            total, names = by_day.get(day, (0, []))
            if person.name not in names:
                names = [*names, person.name]
            by_day[day] = (total + slots(window, period.talk.minutes), names)
    result.days = [(day, total, names) for day, (total, names) in sorted(by_day.items())]
    return result


def _where(
    container: Container, request: Request, school_id: str, round_key: str
) -> Where | Response:
    session = signed_in(request, container, PUBLISHERS, REFUSAL)
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    schools = sorted(
        (s for s in container.register.schools() if s.id in who.school_ids),
        key=lambda s: s.name,
    )
    school = next((s for s in schools if s.id == school_id), None) if school_id else None
    if school is None and (school_id or not schools):
        return message_page(session, 404, "Niet gevonden", "Deze school is niet gevonden.")
    school = school or schools[0]
    year = SchoolYear.containing(container.clock().astimezone(AMSTERDAM).date())
    found = periods(container.policies.policy_for(school.id, year), year)
    period = next((p for p in found if p.key == round_key), None) if round_key else None
    if period is None and round_key:
        return message_page(session, 404, "Niet gevonden", "Deze gespreksronde is niet gevonden.")
    if period is None:  # the first round not yet over, else the last
        today = container.clock().astimezone(AMSTERDAM).date()
        period = next((p for p in found if p.last >= today), found[-1])
    return Where(session, school, schools, year, period, found)


def _attendees(period: Period) -> str:
    return ", ".join(a.label for a in Attendee if a in period.talk.attendees)


def render(
    container: Container,
    where: Where,
    *,
    rows: list[RowInput] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str = "",
    error: str = "",
    plan_report: object = None,
) -> HTMLResponse:
    who = where.session.principal
    mine = published.current(container, where.school.id, where.period.key).get(
        (who.user_id, where.period.key)
    )
    if rows is None:
        rows = rows_of(mine.event.windows) if mine else []
        rows += [RowInput()] * BLANK_ROWS
    overseer = who.role in OVERSEERS
    # the heroverweging talks are requested one by one (by the worker), not as a round
    may_plan = overseer and where.period.key != RECONSIDERATION
    return page(
        "r_availability.html",
        status,
        who=who,
        csrf_token=where.session.csrf_token,
        active=PATH,
        school=where.school,
        school_options=[(s.id, f"{s.name} ({s.brin})") for s in where.schools],
        period=where.period,
        period_options=[
            (p.key, f"{p.label} ({p.first:%d-%m} t/m {p.last:%d-%m})") for p in where.periods
        ],
        attendees=_attendees(where.period),
        rows=rows,
        errors=errors or {},
        mine=mine,
        overseer=overseer,
        coverage=coverage(container, where.school.id, where.period) if overseer else None,
        may_plan=may_plan,
        round_classes=[(c, f"klas {c}") for c in classes(container, where.school.id, where.year)]
        if may_plan
        else [],
        plan_report=plan_report,
        notice=notice,
        error=error,
        row_field=row_field,
        describe_window=describe_window,
        weekly=weekly,
    )


@router.get(PATH, response_class=HTMLResponse)
def availability_page(
    request: Request, container: ContainerDep, school: str = "", ronde: str = "", bericht: str = ""
) -> Response:
    where = _where(container, request, school[:64], ronde[:120])
    if not isinstance(where, Where):
        return where
    return render(container, where, notice=MESSAGES.get(bericht, ""))


@router.post(PATH, response_class=HTMLResponse)
async def publish_page(request: Request, container: ContainerDep) -> Response:
    form = await request.form()
    return await run_in_threadpool(_post, container, request, form)


def _text(form: FormData, name: str, limit: int = 100) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def checked(container: Container, request: Request, form: FormData) -> Where | Response:
    """The page's place for a POST, after the session's CSRF token is checked."""
    where = _where(container, request, _text(form, "school"), _text(form, "ronde", 120))
    if not isinstance(where, Where):
        return where
    if not tokens_match(where.session.csrf_token, _text(form, "csrf_token")):
        return message_page(
            where.session,
            403,
            "Verzoek geweigerd",
            "Het formulier was verlopen of kwam niet van deze website. Open de pagina opnieuw en "
            "probeer het nog eens.",
        )
    return where


def _rows(form: FormData) -> list[RowInput]:
    rows = []
    for index in range(MAX_ROWS + MORE_ROWS + BLANK_ROWS):
        name = row_field(index, "day")
        if name not in form:
            break
        rows.append(
            RowInput(
                _text(form, name, 40),
                _text(form, row_field(index, "start"), 10),
                _text(form, row_field(index, "end"), 10),
                _text(form, row_field(index, "room"), 80),
            )
        )
    return rows


def _post(container: Container, request: Request, form: FormData) -> Response:
    where = checked(container, request, form)
    if not isinstance(where, Where):
        return where
    rows = _rows(form)
    action = _text(form, "action")
    today = container.clock().astimezone(AMSTERDAM).date()
    if action == "meer":
        return render(container, where, rows=rows + [RowInput()] * MORE_ROWS)
    if action.startswith("kopie-"):
        index = int(action.removeprefix("kopie-")) if action[6:].isdigit() else -1
        copy = next_week(rows[index], where.period, today) if 0 <= index < len(rows) else None
        if copy is None:
            why = "een week later valt buiten de periode"
            if 0 <= index < len(rows) and weekly(rows[index].day):
                why = "deze regel geldt al voor elke week van de ronde"
            return render(
                container,
                where,
                rows=rows,
                errors={row_field(max(index, 0), "day"): why},
                status=422,
            )
        return render(
            container,
            where,
            rows=[*rows[: index + 1], copy, *rows[index + 1 :]],
            notice=f"Regel {index + 1} staat nu ook een week later (regel {index + 2}). "
            "Klik op Opslaan om het door te geven.",
        )
    try:
        windows = parse_rows(rows, where.period, container.clock())
    except AvailabilityInvalidError as invalid:
        return render(
            container,
            where,
            rows=rows,
            errors=invalid.by_field(),
            status=422,
            error="Er is niets opgeslagen. Verbeter wat bij de regels staat en probeer het "
            "opnieuw.",
        )
    who = where.session.principal
    changed = published.publish(
        container,
        container.clock,
        where.school.id,
        who.user_id,
        where.period.key,
        windows,
        actor=who.user_id,
        actor_name=who.name,
        role=who.role.value,
        request_id=getattr(request.state, "request_id", None),
    )
    outcome = "opgeslagen" if changed else "ongewijzigd"
    query = urlencode({"school": where.school.id, "ronde": where.period.key, "bericht": outcome})
    return RedirectResponse(f"{PATH}?{query}", status_code=303)


@router.post(PATH + "/inplannen", response_class=HTMLResponse)
async def plan_round_page(request: Request, container: ContainerDep) -> Response:
    form = await request.form()
    return await run_in_threadpool(_plan_round, container, request, form)


def _plan_round(container: Container, request: Request, form: FormData) -> Response:
    where = checked(container, request, form)
    if not isinstance(where, Where):
        return where
    who = where.session.principal
    if who.role not in OVERSEERS:
        return message_page(
            where.session,
            403,
            "Geen toegang",
            f"Als {who.role.label} plant u geen hele gespreksronde in; dat doen directie en IB.",
        )
    if where.period.key == RECONSIDERATION:
        return render(
            container,
            where,
            status=422,
            error="Heroverwegingsgesprekken worden per leerling aangevraagd zodra de heroverweging "
            "nodig is; kies een gespreksronde.",
        )
    context = CommandContext(
        Actor(who.user_id, who.role.value), getattr(request.state, "request_id", None)
    )
    class_name = _text(form, "klas", 20) or None
    if class_name is not None and class_name not in classes(container, where.school.id, where.year):
        return render(
            container, where, status=422, error="Deze klas heeft geen leerlingen in groep 8."
        )
    try:
        outcome = request_round(
            container, where.school.id, where.period.key, context, class_name=class_name
        )
    except DomainError as refused:
        return render(container, where, status=422, error=refused.message)
    return render(container, where, plan_report=outcome)
