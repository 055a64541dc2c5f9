"""What a talk request says for a pupil: who of the school attends, the family, the invited
parents, the deadline and the latest end, from the school's `TalkSettings`.

Who attends follows `TalkSettings.attendees`: the class teacher is one of the active `leerkracht`
accounts with the pupil's class in `user_schools` (two of them, a duo: whichever works that day,
a `staff_any` group), all class teachers attend together, IB and directie are one of the school's
active accounts of that role. The groep 7 teacher is not known to the register and is left out.
When none of the chosen has an account, one of the IB (else the directie) holds the talk.
The family is a stable key of the parents' e-mail addresses (sorted, case-folded, hashed), so
siblings share it; with `separate_parents` each parent gets a talk of their own. The latest end
is the deadline's day minus `margin_working_days` working days (weekends off), end of that day in
Europe/Amsterdam; the deadline itself is the end of its day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from service.accounts.roles import Role
from service.store.engine import single_statements
from service.store.schema import parents, pupils, user_schools, users
from workflows.conversations import RequestTalk, TalkKind
from workflows.policy import Attendee, TalkSettings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RECONSIDERATION_ROUND = "reconsideration"


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
        self, school_id: str, class_name: str, attendees: frozenset[Attendee]
    ) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        """(everyone who attends, groups of whom one attends) for the chosen attendees; one of
        the IB, else one of the directie, when none of the chosen has an account."""
        every: list[str] = []
        groups: list[tuple[str, ...]] = []

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
        if Attendee.IB in attendees:
            one_of(self.accounts(school_id, Role.IB))
        if Attendee.DIRECTIE in attendees:
            one_of(self.accounts(school_id, Role.DIRECTIE))
        for fallback in (Role.IB, Role.DIRECTIE):  # nobody of the chosen has an account
            if not every and not groups:
                one_of(self.accounts(school_id, fallback))
        every = list(dict.fromkeys(every))
        groups = [g for g in groups if not set(g) & set(every)]
        return tuple(every), tuple(groups)

    def build(
        self,
        pupil_id: str,
        kind: TalkKind,
        school_year: str,
        round_key: str,
        deadline: date,
        settings: TalkSettings,
    ) -> list[RequestTalk]:
        """The requests for the pupil: one, or one per parent with `separate_parents`."""
        found = self.pupil(pupil_id)
        if found is None:
            return []
        school_id, class_name = found
        staff, staff_any = self.staff(school_id, class_name, settings.attendees)
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
            )
            for invited, family in families
        ]
