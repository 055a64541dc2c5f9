"""What a talk request says for a pupil: who of the school attends, the family, the invited
parents, the deadline and the latest end, from the school's `TalkSettings`.

Who attends follows `TalkSettings.attendees`: the class teacher is one of the active `leerkracht`
accounts with the pupil's class in `user_schools` (two of them, a duo: whichever works that day,
a `staff_any` group), all class teachers attend together, IB and directie are one of the school's
active accounts of that role. The groep 7 teacher (`groep_7_of`): for a pupil in groep 7 now,
the class teacher; for a pupil in groep 8, the register no longer knows the groep 7 class (the
rollover renames it), so the teacher whose account recorded something on the pupil's trajectory
while the pupil was in groep 7 here — the oriënterend advies — and is still an active teacher of
the school (several: one of them). Nobody found: the talk is requested without them and names
them in `unknown_attendees` ("leerkracht van groep 7 niet bekend" on the talk), never silently.
When none of the chosen has an account, one of the IB (else the directie) holds the talk.
The family is a stable key of the parents' e-mail addresses (sorted, case-folded, hashed), so
siblings share it; with `separate_parents` each parent gets a talk of their own. The latest end
is the deadline's day minus `margin_working_days` working days (weekends off), end of that day in
Europe/Amsterdam; the deadline itself is the end of its day.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from service.accounts.roles import Role
from service.store.engine import single_statements
from service.store.events import StoredEvent
from service.store.schema import parents, pupils, user_schools, users
from workflows.codec import Event
from workflows.conversations import RequestTalk, TalkKind, TalkRequested
from workflows.lifecycle import Status
from workflows.policy import Attendee, TalkSettings
from workflows.trajectory import Trajectory, evolve

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RECONSIDERATION_ROUND = "reconsideration"
MAX_TALKS = 8
"""More talks than this for one pupil in one round (one per parent) are not looked for."""
_NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4c8e-9a51-2b7f0d6c1e44")


def talk_id_for(pupil_id: str, kind: TalkKind, school_year: str, round_key: str, n: int) -> str:
    """The talk's id, derived from what makes a request the same (pupil, kind, year, round and
    which of the separate parents' talks): a request made twice finds the first one."""
    return str(uuid.uuid5(_NAMESPACE, f"{pupil_id}/{kind.value}/{school_year}/{round_key}/{n}"))


def heroverwegingen(history: Sequence[Event]) -> tuple[Trajectory, int]:
    """The trajectory after `history`, and how often it entered a heroverweging (a replacing
    result that is still higher keeps the one that is open)."""
    state, entered = Trajectory(), 0
    for event in history:
        after = evolve(state, event)
        required = Status.RECONSIDERATION_REQUIRED
        if after.status is required and state.status is not required:
            entered += 1
        state = after
    return state, entered


def generation(entered: int) -> str:
    """The round key's suffix of the heroverweging talks: a heroverweging opened again (after
    it lapsed, or after a withdrawn automatic definitief advies) gets talks of its own."""
    return f"/{entered}" if entered > 1 else ""


def heroverweging_siblings(talk_id: str, request: TalkRequested, entered: int) -> list[str]:
    """The ids the other talks of the current heroverweging have (one per parent, with the
    school's `separate_parents`), whether requested or not; [] when `talk_id` is not one of the
    current heroverweging's talks (an earlier heroverweging's) or not a heroverweging talk."""
    if request.kind is not TalkKind.RECONSIDERATION:
        return []
    key = request.round_key + generation(entered)
    ids = [
        talk_id_for(request.pupil_id, request.kind, request.school_year, key, n)
        for n in range(MAX_TALKS)
    ]
    return [i for i in ids if i != talk_id] if talk_id in ids else []


@dataclass(frozen=True)
class Parent:
    id: str
    email: str | None


def end_of_day(day: date) -> datetime:
    """The end of `day` in Europe/Amsterdam (the next midnight), aware."""
    return datetime.combine(day + timedelta(days=1), time(0), AMSTERDAM)


def working_days_before(day: date, count: int) -> date:
    """The day `count` working days (Monday to Friday) before `day`; `day` itself for 0."""
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def working_days_after(moment: datetime, count: int) -> datetime:
    """`moment` plus `count` working days (Monday to Friday, Europe/Amsterdam)."""
    local = moment.astimezone(AMSTERDAM)
    day = local.date()
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), AMSTERDAM)


def latest_end(deadline: date, settings: TalkSettings) -> datetime:
    return end_of_day(working_days_before(deadline, settings.margin_working_days))


UNKNOWN_SAID = {
    Attendee.GROEP_7_TEACHER.value: (
        "Leerkracht van groep 7 niet bekend: niemand heeft als leerkracht iets voor deze leerling "
        "vastgelegd toen die in groep 7 zat (zoals het oriënterend advies). Het gesprek is "
        "gepland zonder de leerkracht van groep 7; nodig die zelf uit als dat kan."
    )
}
"""What the talk page says of an attendee the setting asked for and nobody could name."""


@dataclass(frozen=True)
class Groep7:
    """What the pupil's trajectory says about their groep 7 at this school."""

    now: bool = False
    """In groep 7 now: the register's class is the groep 7 class."""
    recorded_by: tuple[str, ...] = ()
    """Teachers' accounts that recorded on the trajectory while the pupil was in groep 7."""


def groep_7_of(stored: Sequence[StoredEvent]) -> Groep7:
    """The groep 7 facts of the pupil's stored trajectory (metadata: who recorded what)."""
    in_7, recorded_by = False, []
    for event in stored:
        if event.event_type == "pupil_enrolled":
            in_7 = event.data.get("groep") == 7
        elif event.event_type in ("pupil_entered_groep_8", "pupil_left_school"):
            in_7 = False
        if in_7 and event.metadata.get("role") == Role.LEERKRACHT.value:
            actor = event.metadata.get("actor")
            if isinstance(actor, str) and actor not in recorded_by:
                recorded_by.append(actor)
    return Groep7(in_7, tuple(recorded_by))


def family_key(emails: list[str | None], fallback: str) -> str:
    """A stable key of the addresses (order and case do not matter); `fallback` without any."""
    known = sorted({e.strip().casefold() for e in emails if e and e.strip()})
    if not known:
        return fallback
    return hashlib.sha256("\n".join(known).encode()).hexdigest()[:32]


class Requests:
    """Reads the register and accounts to build a pupil's talk requests."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pupil(self, pupil_id: str) -> tuple[str, str] | None:
        """(school id, class name) of the pupil, None when not in the register."""
        with single_statements(self._engine).connect() as conn:
            row = conn.execute(
                select(pupils.c.school_id, pupils.c.class_name).where(pupils.c.id == pupil_id)
            ).first()
        return None if row is None else (row.school_id, row.class_name)

    def parents(self, pupil_id: str) -> list[Parent]:
        with single_statements(self._engine).connect() as conn:
            rows = conn.execute(
                select(parents.c.id, parents.c.email)
                .where(parents.c.pupil_id == pupil_id)
                .order_by(parents.c.id)
            ).all()
        return [Parent(r.id, r.email) for r in rows]

    def accounts(self, school_id: str, role: Role, class_name: str | None = None) -> list[str]:
        """Active accounts of `role` at the school (with `class_name` in scope, when given)."""
        query = (
            select(users.c.id)
            .join(user_schools, user_schools.c.user_id == users.c.id)
            .where(
                user_schools.c.school_id == school_id,
                users.c.role == role.value,
                users.c.active.is_(True),
            )
        )
        if class_name is not None:
            query = query.where(user_schools.c.class_name == class_name)
        with single_statements(self._engine).connect() as conn:
            return sorted({r.id for r in conn.execute(query).all()})

    def staff(
        self,
        school_id: str,
        class_name: str,
        attendees: frozenset[Attendee],
        groep_7: Groep7 | None = None,
    ) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[str, ...]]:
        """(everyone who attends, groups of whom one attends, the chosen nobody could name) for
        the chosen attendees; one of the IB, else one of the directie, when none of the chosen
        has an account."""
        every: list[str] = []
        groups: list[tuple[str, ...]] = []
        unknown: list[str] = []

        def one_of(found: list[str]) -> None:
            if len(found) == 1:
                every.append(found[0])
            elif found:
                groups.append(tuple(found))

        teachers = self.accounts(school_id, Role.LEERKRACHT, class_name) if class_name else []
        if Attendee.ALL_CLASS_TEACHERS in attendees:
            every.extend(teachers)
        elif Attendee.CLASS_TEACHER in attendees:
            one_of(teachers)
        if Attendee.GROEP_7_TEACHER in attendees:
            groep_7 = groep_7 or Groep7()
            if groep_7.now:
                found = teachers
            else:
                active = set(self.accounts(school_id, Role.LEERKRACHT))
                found = sorted(t for t in groep_7.recorded_by if t in active)
            if found:
                one_of(found)
            else:
                unknown.append(Attendee.GROEP_7_TEACHER.value)
        if Attendee.IB in attendees:
            one_of(self.accounts(school_id, Role.IB))
        if Attendee.DIRECTIE in attendees:
            one_of(self.accounts(school_id, Role.DIRECTIE))
        for fallback in (Role.IB, Role.DIRECTIE):  # nobody of the chosen has an account
            if not every and not groups:
                one_of(self.accounts(school_id, fallback))
        every = list(dict.fromkeys(every))
        groups = list(dict.fromkeys(g for g in groups if not set(g) & set(every)))
        return tuple(every), tuple(groups), tuple(unknown)

    def build(
        self,
        pupil_id: str,
        kind: TalkKind,
        school_year: str,
        round_key: str,
        deadline: date,
        settings: TalkSettings,
        groep_7: Groep7 | None = None,
    ) -> list[RequestTalk]:
        """The requests for the pupil: one, or one per parent with `separate_parents`."""
        found = self.pupil(pupil_id)
        if found is None:
            return []
        school_id, class_name = found
        staff, staff_any, unknown = self.staff(school_id, class_name, settings.attendees, groep_7)
        known = self.parents(pupil_id)
        fallback = f"pupil-{pupil_id}"
        if settings.separate_parents and len(known) > 1:
            families = [([p], family_key([p.email], f"{fallback}-{p.id}")) for p in known]
        else:
            families = [(known, family_key([p.email for p in known], fallback))]
        return [
            RequestTalk(
                kind=kind,
                pupil_id=pupil_id,
                school_id=school_id,
                school_year=school_year,
                round_key=round_key,
                deadline=end_of_day(deadline),
                latest_end=latest_end(deadline, settings),
                minutes=settings.minutes,
                staff=staff,
                staff_any=staff_any,
                with_pupil=settings.with_pupil,
                online=settings.online,
                family=family,
                parents=tuple(p.id for p in invited),
                unknown_attendees=unknown,
            )
            for invited, family in families
        ]


def unknown_said(unknown: Iterable[str]) -> list[str]:
    """Whom the school's setting asked for but nobody could name (a request's
    `unknown_attendees`), in Dutch sentences for the talk page ("Leerkracht van groep 7 niet
    bekend: ...")."""
    return [UNKNOWN_SAID.get(a, f"{a}: niet bekend.") for a in unknown]
