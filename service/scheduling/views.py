"""Reading the talks read model: a week of a school or of one person, a talk, a pupil's talks,
the talks at risk, and what the planner needs (open requests, the school's fixed bookings).

Every function takes the engine and returns `TalkRow`s (times aware, in UTC); callers convert
to Europe/Amsterdam for display. The queries use the indexes of migration 0014: (school, start)
for a school's week, (user, start) on `talk_staff` for a person's week, (school, status) for the
open requests and the pupil for a pupil's talks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Select, select

from service.store.engine import single_statements
from service.store.schema import talk_staff, talks
from workflows.conversations import TalkKind, TalkStatus

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OPEN = (TalkStatus.REQUESTED, TalkStatus.OTHER_TIME_ASKED)
"""Statuses the planner still has to (re)place."""
BOOKED = (TalkStatus.PROPOSED, TalkStatus.ACCEPTED)
"""Statuses whose time blocks people, room and family."""
UNSETTLED = (
    TalkStatus.REQUESTED,
    TalkStatus.PROPOSED,
    TalkStatus.ACCEPTED,
    TalkStatus.OTHER_TIME_ASKED,
)


@dataclass(frozen=True)
class TalkRow:
    talk_id: str
    school_id: str
    school_year: str
    pupil_id: str
    kind: TalkKind
    round_key: str
    status: TalkStatus
    start: datetime | None
    end: datetime | None
    room: str | None
    staff: tuple[str, ...]
    """Who of the school attends the planned talk (user ids); () while not planned."""
    requested_staff: tuple[str, ...]
    requested_staff_any: tuple[tuple[str, ...], ...]
    family: str
    parents: tuple[str, ...]
    minutes: int
    with_pupil: bool
    online: bool
    deadline: datetime
    latest_end: datetime
    requested_on: datetime
    proposed_on: datetime | None
    answered_on: datetime | None
    sequence: int
    reminded: bool
    at_risk_reason: str | None
    escalations: tuple[str, ...]
    version: int
    position: int

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def kind_label(self) -> str:
        return self.kind.label


def _row(r: Any) -> TalkRow:
    requested = r.requested_staff or {}
    return TalkRow(
        talk_id=r.talk_id,
        school_id=r.school_id,
        school_year=r.school_year,
        pupil_id=r.pupil_id,
        kind=TalkKind(r.kind),
        round_key=r.round_key,
        status=TalkStatus(r.status),
        start=r.starts_at,
        end=r.ends_at,
        room=r.room,
        staff=tuple(r.staff),
        requested_staff=tuple(requested.get("all", ())),
        requested_staff_any=tuple(tuple(g) for g in requested.get("any", ())),
        family=r.family,
        parents=tuple(r.parents),
        minutes=r.minutes,
        with_pupil=bool(r.with_pupil),
        online=bool(r.online),
        deadline=r.deadline,
        latest_end=r.latest_end,
        requested_on=r.requested_on,
        proposed_on=r.proposed_on,
        answered_on=r.answered_on,
        sequence=r.sequence,
        reminded=bool(r.reminded),
        at_risk_reason=r.at_risk_reason,
        escalations=tuple(r.escalations),
        version=r.version,
        position=r.position,
    )


def _all(engine: Engine, query: Select[Any]) -> list[TalkRow]:
    with single_statements(engine).connect() as conn:
        return [_row(r) for r in conn.execute(query).all()]


CHUNK = 500  # ids per IN (...) list


def _chunks(values: Iterable[str]) -> list[list[str]]:
    wanted = sorted(set(values))
    return [wanted[i : i + CHUNK] for i in range(0, len(wanted), CHUNK)]


def rows_of(engine: Engine, talk_ids: Iterable[str]) -> list[TalkRow]:
    """The read model's rows of these talks (those it has)."""
    found: list[TalkRow] = []
    for chunk in _chunks(talk_ids):
        found += _all(engine, select(talks).where(talks.c.talk_id.in_(chunk)))
    return found


def open_requests_in(engine: Engine, school_ids: Iterable[str]) -> list[TalkRow]:
    """The open requests of these schools, in `views.open_requests`' order."""
    found: list[TalkRow] = []
    for chunk in _chunks(school_ids):
        found += _all(
            engine,
            select(talks).where(
                talks.c.status.in_([s.value for s in OPEN]), talks.c.school_id.in_(chunk)
            ),
        )
    return sorted(found, key=lambda r: (r.school_id, r.requested_on, r.talk_id))


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in Europe/Amsterdam, as aware datetimes."""
    start = datetime.combine(monday, time(0), AMSTERDAM)
    return start, datetime.combine(monday + timedelta(days=7), time(0), AMSTERDAM)


def week(engine: Engine, school_id: str, staff_id: str | None, monday: date) -> list[TalkRow]:
    """The school's planned and held talks starting in the week from `monday` (Amsterdam), or
    only those `staff_id` attends; by start."""
    first, after = week_bounds(monday)
    return between(engine, school_id, staff_id, first, after)


def between(
    engine: Engine, school_id: str, staff_id: str | None, first: datetime, after: datetime
) -> list[TalkRow]:
    query = select(talks).where(
        talks.c.school_id == school_id, talks.c.starts_at >= first, talks.c.starts_at < after
    )
    if staff_id is not None:
        mine = select(talk_staff.c.talk_id).where(
            talk_staff.c.user_id == staff_id,
            talk_staff.c.starts_at >= first,
            talk_staff.c.starts_at < after,
        )
        query = query.where(talks.c.talk_id.in_(mine))
    return _all(engine, query.order_by(talks.c.starts_at, talks.c.talk_id))


def talk(engine: Engine, talk_id: str) -> TalkRow | None:
    found = _all(engine, select(talks).where(talks.c.talk_id == talk_id))
    return found[0] if found else None


def for_pupil(engine: Engine, pupil_id: str) -> list[TalkRow]:
    """The pupil's talks, newest request first."""
    return _all(
        engine,
        select(talks)
        .where(talks.c.pupil_id == pupil_id)
        .order_by(talks.c.requested_on.desc(), talks.c.talk_id),
    )


def for_pupils(engine: Engine, pupil_ids: Iterable[str]) -> dict[str, list[TalkRow]]:
    """Each pupil's talks (worklists), newest request first."""
    wanted = sorted(set(pupil_ids))
    found: dict[str, list[TalkRow]] = {p: [] for p in wanted}
    if not wanted:
        return found
    rows = _all(
        engine,
        select(talks)
        .where(talks.c.pupil_id.in_(wanted))
        .order_by(talks.c.requested_on.desc(), talks.c.talk_id),
    )
    for r in rows:
        found[r.pupil_id].append(r)
    return found


def at_risk(engine: Engine, school_ids: Iterable[str], now: datetime) -> list[TalkRow]:
    """Unsettled talks of these schools that were escalated (and not settled since), or whose
    latest end has passed without the talk having taken place (a proposed or accepted talk that
    ended in time is not at risk, only not yet recorded as held): soonest deadline first."""
    schools = sorted(set(school_ids))
    if not schools:
        return []
    rows = _all(
        engine,
        select(talks)
        .where(
            talks.c.school_id.in_(schools),
            talks.c.status.in_([s.value for s in UNSETTLED]),
        )
        .order_by(talks.c.deadline, talks.c.talk_id),
    )
    return [r for r in rows if r.at_risk_reason is not None or too_late(r, now)]


def too_late(row: TalkRow, now: datetime) -> bool:
    """The latest end has passed and the talk did not take place before it."""
    if row.latest_end > now:
        return False
    took_place = row.status in BOOKED and row.end is not None and row.end <= row.latest_end
    return not took_place


def open_requests(engine: Engine, school_id: str | None = None) -> list[TalkRow]:
    """Talks the planner still has to place (requested, or parents asked another time)."""
    query = select(talks).where(talks.c.status.in_([s.value for s in OPEN]))
    if school_id is not None:
        query = query.where(talks.c.school_id == school_id)
    return _all(engine, query.order_by(talks.c.school_id, talks.c.requested_on, talks.c.talk_id))


def booked(engine: Engine, school_id: str, after: datetime) -> list[TalkRow]:
    """The school's talks with a time that blocks people, rooms and families (proposed or
    accepted), ending after `after`."""
    return _all(
        engine,
        select(talks)
        .where(
            talks.c.school_id == school_id,
            talks.c.status.in_([s.value for s in BOOKED]),
            talks.c.ends_at > after,
        )
        .order_by(talks.c.starts_at, talks.c.talk_id),
    )


def booked_elsewhere(
    engine: Engine, school_id: str, people: Iterable[str], after: datetime
) -> list[TalkRow]:
    """The talks with a time (proposed or accepted, ending after `after`) that `people` attend
    at schools other than `school_id` (a teacher or IB who works at two schools)."""
    wanted = sorted(set(people))
    if not wanted:
        return []
    attending = select(talk_staff.c.talk_id).where(
        talk_staff.c.user_id.in_(wanted), talk_staff.c.school_id != school_id
    )
    return _all(
        engine,
        select(talks)
        .where(
            talks.c.talk_id.in_(attending),
            talks.c.status.in_([s.value for s in BOOKED]),
            talks.c.ends_at > after,
        )
        .order_by(talks.c.starts_at, talks.c.talk_id),
    )


def unsettled(engine: Engine) -> list[TalkRow]:
    """Every talk not yet held, declined or cancelled (the worker's rounds)."""
    return _all(
        engine,
        select(talks)
        .where(talks.c.status.in_([s.value for s in UNSETTLED]))
        .order_by(talks.c.school_id, talks.c.requested_on, talks.c.talk_id),
    )
