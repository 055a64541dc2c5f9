"""The week calendar of talks, `/gesprekken?week=2027-W12&wie=<user id>`.

Days are columns (Monday to Friday, the weekend only when something is on it), rows are time
slots (a quarter of an hour, or five minutes when a talk does not start on a quarter), and each
talk is a cell spanning its rows: the pupil's name (only for a pupil the viewer may see: a
teacher their own classes), the kind, the state in words and the room. Talks at the same time
(the whole school's week) get lanes side by side. The teacher's published availability colours
the free rows (the grid itself: `service.web.week_grid`). The same week is also a table per
day (the view on a phone and for screen readers, `weergave=lijst`). A teacher sees their own
week; intern begeleider and directie choose a colleague or the whole school. Every pupil named
on the page is in the access log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from service.accounts.access import WRITERS, sees_pupil, sees_school
from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.scheduling import availability, views
from service.scheduling.requests import RECONSIDERATION_ROUND
from service.store.engine import single_statements
from service.store.schema import user_schools, users
from service.web.pages import DUTCH, message_page, page, signed_in
from service.web.week_grid import build_grid
from workflows.calendar import SchoolYear
from workflows.conversations import TalkKind, TalkStatus
from workflows.dutch import WEEKDAYS

router = APIRouter(include_in_schema=False)

EVERYONE = "alle"
LIST_VIEW = "lijst"
STAFF_ROLES = frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE})


# -- words ---------------------------------------------------------------------------------------

# Which border a state draws (besides its words: never colour alone)
STATUS_CLASSES = {
    "requested": "open",
    "proposed": "open",
    "accepted": "ok",
    "other_time_asked": "attention",
    "held": "done",
    "declined": "done",
    "cancelled": "gone",
}


def status_label(status: str) -> str:
    try:
        return TalkStatus(status).label
    except ValueError:
        return status


def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "open")


# in a narrow block of the week
SHORT_KINDS = {
    "reconsideration": "Heroverweging",
    "provisional_advice": "Voorlopig advies",
    "okr": "OKR-gesprek",
    "round": "Ronde",
}


def kind_label(kind: str) -> str:
    """The kind of talk, capitalised as it starts a line ("Heroverwegingsgesprek")."""
    try:
        label = TalkKind(kind).label
    except ValueError:
        label = kind
    return label[:1].upper() + label[1:]


# -- weeks ---------------------------------------------------------------------------------------


def parse_week(raw: str, today: date) -> date | None:
    """The Monday of an ISO week written as 2027-W12 (empty: this week); None if malformed."""
    if not raw:
        return today - timedelta(days=today.weekday())
    try:
        year, week = raw.upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return None


def week_key(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_title(monday: date) -> str:
    friday = monday + timedelta(days=4)
    return f"week {monday.isocalendar()[1]}: {monday:%d-%m} t/m {friday:%d-%m-%Y}"


# -- what the viewer sees of a talk --------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One talk as this viewer may see it (no name for a pupil outside their classes)."""

    talk_id: str
    start: datetime  # Dutch local time
    end: datetime
    pupil_id: str | None
    pupil_name: str | None
    class_name: str
    kind: str
    status: str
    room: str | None
    version: int
    visible: bool
    staff: tuple[str, ...] = ()  # the names of who of the school attends
    at_risk: bool = False  # escalated to directie (the scheduler's `at_risk_reason`)

    @property
    def title(self) -> str:
        return self.pupil_name if self.visible and self.pupil_name else "Gesprek (andere klas)"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def kind_short(self) -> str:
        return SHORT_KINDS.get(self.kind, self.kind_label)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def status_class(self) -> str:
        return status_class(self.status)

    @property
    def times(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def name_of_day(self) -> str:
        return WEEKDAYS[self.start.weekday()]

    @property
    def room_label(self) -> str:
        return self.room or "online"


def _value(raw: Any) -> str:
    return str(getattr(raw, "value", raw))


def blocks_of(
    rows: Iterable[Any],
    who: Principal,
    pupils: dict[str, Any],
    names: dict[str, str] | None = None,
) -> list[Block]:
    """The read model's rows as blocks; `pupils` the school's register by id, `names` the
    staff's names by user id (to say who attends)."""
    found = []
    for row in rows:
        if row.start is None or row.end is None:
            continue
        pupil = pupils.get(str(row.pupil_id))
        visible = pupil is not None and sees_pupil(who, pupil.school_id, pupil.class_name)
        found.append(
            Block(
                talk_id=str(row.talk_id),
                start=row.start.astimezone(DUTCH),
                end=row.end.astimezone(DUTCH),
                pupil_id=str(row.pupil_id) if visible else None,
                pupil_name=pupil.display_name if visible and pupil else None,
                class_name=pupil.class_name if visible and pupil else "",
                kind=_value(row.kind),
                status=_value(row.status),
                room=row.room,
                version=int(row.version),
                visible=visible,
                staff=tuple((names or {}).get(p, "") for p in row.staff if (names or {}).get(p)),
                at_risk=bool(getattr(row, "at_risk_reason", None)),
            )
        )
    return sorted(found, key=lambda b: (b.start, b.title))


# -- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: str
    label: str
    name: str


def staff_of(container: Container, school_id: str) -> list[Person]:
    """The school's active teachers, IB and directie, for the 'wie' choice (one query on the
    school's own accounts)."""
    query = (
        select(users.c.id, users.c.name, users.c.role, user_schools.c.class_name)
        .join(user_schools, user_schools.c.user_id == users.c.id)
        .where(
            user_schools.c.school_id == school_id,
            users.c.active.is_(True),
            users.c.role.in_([r.value for r in STAFF_ROLES]),
        )
    )
    with single_statements(container.engine).connect() as conn:
        found = conn.execute(query).all()
    classes: dict[str, list[str]] = {}
    accounts: dict[str, tuple[str, Role]] = {}
    for row in found:
        accounts[row.id] = (row.name, Role(row.role))
        classes.setdefault(row.id, [])
        if row.class_name:
            classes[row.id].append(row.class_name)
    people = []
    for user_id, (name, role) in accounts.items():
        mine = sorted(classes[user_id])
        what = f"klas {', '.join(mine)}" if mine else role.label
        people.append(Person(user_id, f"{name} ({what})", name))
    return sorted(people, key=lambda p: p.label.casefold())


def published_free(
    container: Container, school_id: str, person: str
) -> list[tuple[datetime, datetime]]:
    """The person's published availability for the heroverweging talks (all rooms)."""
    found: list[tuple[datetime, datetime]] = []
    published = availability.of(container, school_id, RECONSIDERATION_ROUND)
    for entry in published:
        if entry.person == person:
            found += [(w.start, w.end) for w in entry.windows]
    return found


def not_found(session: SessionUser, message: str) -> HTMLResponse:
    return message_page(session, 404, "Niet gevonden", message)


def week_rows(
    container: Container, school_id: str, staff_id: str | None, monday: date
) -> list[Any]:
    return list(views.week(container.engine, school_id, staff_id, monday))


UPCOMING = frozenset({"requested", "proposed", "accepted", "other_time_asked"})


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def upcoming(
    container: Container,
    who: Principal,
    school_id: str,
    staff_id: str | None,
    now: datetime,
    limit: int = 5,
) -> list[Block]:
    """The next planned talks from `now` on (of `staff_id`, or the school's), soonest first,
    within a year: for "Volgende gesprek" and the teacher's start page."""
    rows = views.between(container.engine, school_id, staff_id, now, now + timedelta(days=366))
    rows = [r for r in rows if _value(r.status) in UPCOMING][:limit]
    pupils = {p.id: p for p in container.register.pupils_of(school_id)}
    return blocks_of(rows, who, pupils)


@router.get("/gesprekken", response_class=HTMLResponse)
def week_page(request: Request, container: ContainerDep) -> Response:
    session = signed_in(
        request, container, WRITERS, "Als {role} heeft u geen gesprekken met ouders."
    )
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    params = request.query_params
    schools = [s for s in container.register.schools() if sees_school(who, s.id)]
    wanted = params.get("school", "")
    school = (
        next((s for s in schools if s.id == wanted), None)
        if wanted
        else schools[0]
        if schools
        else None
    )
    if school is None:
        return not_found(session, "Deze school bestaat niet of is niet de uwe.")
    today = container.clock().astimezone(DUTCH).date()
    monday = parse_week(params.get("week", ""), today)
    if monday is None:
        return not_found(session, "Deze week bestaat niet. Schrijf een week als 2027-W12.")
    teacher = who.role is Role.LEERKRACHT
    staff = [] if teacher else staff_of(container, school.id)
    wie = params.get("wie", "") or (who.user_id if teacher else EVERYONE)
    if teacher and wie != who.user_id:
        return not_found(session, "U ziet alleen uw eigen gesprekken.")
    if not teacher and wie != EVERYONE and wie not in {p.user_id for p in staff}:
        return not_found(session, "Deze collega werkt niet op uw school.")
    staff_id = None if wie == EVERYONE else wie
    pupils = {p.id: p for p in container.register.pupils_of(school.id)}
    names = {p.user_id: p.name for p in staff} if staff_id is None else {}
    blocks = blocks_of(week_rows(container, school.id, staff_id, monday), who, pupils, names)
    free = published_free(container, school.id, staff_id) if staff_id else []
    grid = build_grid(monday, blocks, free, today)
    log_reads(
        container,
        who,
        sorted({b.pupil_id for b in blocks if b.pupil_id}),
        "gesprekkenweek",
        request,
    )
    list_view = params.get("weergave", "") == LIST_VIEW
    base = {
        "school": school.id if len(schools) > 1 else "",
        "wie": wie if not teacher else "",
        "weergave": LIST_VIEW if list_view else "",
    }

    def url(week: date | None = None, **changes: str) -> str:
        values = {"week": week_key(week or monday)} | base | changes
        return "/gesprekken?" + urlencode({k: v for k, v in values.items() if v})

    person = next((p.label for p in staff if p.user_id == wie), "")
    coming = upcoming(container, who, school.id, staff_id, container.clock(), limit=1)
    year = SchoolYear.containing(today)
    rounds = [
        (r.name, r.window(year), url(_monday(r.window(year).first)))
        for r in container.policies(school.id, year).rounds
    ]
    done = "gepland" if params.get("gepland") else "verzet"
    moved = next((b for b in blocks if b.talk_id == params.get(done, "")), None)
    return page(
        "g_week.html",
        who=who,
        csrf_token=session.csrf_token,
        active="/gesprekken",
        school=school,
        schools=schools,
        monday=monday,
        week=week_key(monday),
        title=week_title(monday),
        grid=grid,
        blocks=blocks,
        list_view=list_view,
        school_options=[(s.id, s.name) for s in schools],
        staff_options=[(EVERYONE, "Hele school")] + [(p.user_id, p.label) for p in staff],
        wie=wie,
        everyone=EVERYONE,
        whose="Mijn gesprekken" if teacher or wie == who.user_id else (person or "Hele school"),
        teacher=teacher,
        today=today,
        previous=url(monday - timedelta(days=7)),
        next=url(monday + timedelta(days=7)),
        this_week=url(today - timedelta(days=today.weekday())),
        next_talk=(coming[0], url(_monday(coming[0].start.date()))) if coming else None,
        rounds=rounds,
        as_list=url(weergave=LIST_VIEW),
        as_grid=url(weergave=""),
        moved=moved,
        first_plan=done == "gepland",
    )
