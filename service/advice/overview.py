"""The class overview: every pupil of a school (or of some classes) with where their trajectory
stands, from the register (names, class) and the `trajectories` read model (state, advice).

Sorted as a Dutch class list (surname without its tussenvoegsel, then given name), filtered by
class and status, paginated by offset: a school has tens of groep 8 pupils, not thousands.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from service.advice.batch import PolicyLookup
from service.schools.policies import read_settings
from service.schools.register import Pupil, Register
from service.store.engine import single_statements
from service.store.schema import trajectories
from workflows.calendar import LegalCalendar, SchoolYear
from workflows.deadlines import Due, next_due
from workflows.lifecycle import Status


@dataclass(frozen=True)
class OverviewRow:
    pupil: Pupil
    status: Status
    provisional_advice: str | None
    test_advice: str | None
    final_advice: str | None
    reconsideration_deadline: date | None
    late: tuple[str, ...]
    next_due: Due | None = None


@dataclass(frozen=True)
class OverviewPage:
    rows: list[OverviewRow]
    total: int


def class_overview(
    engine: Engine,
    register: Register,
    school_id: str,
    *,
    classes: Collection[str] | None,
    status: Status | None,
    limit: int,
    offset: int,
    overdue_on: date | None = None,
    policies: PolicyLookup | None = None,
) -> OverviewPage:
    """`classes` None: every class of the school; `overdue_on`: only pupils whose next
    deadline passed before that day. Deadlines follow the school's policy of each pupil's
    school year: from `policies` (the container's cached `SchoolPolicies`) or, without it, the
    school's settings read once for this call."""
    pupils = [
        p for p in register.pupils_of(school_id) if classes is None or p.class_name in classes
    ]
    states = _read_model(engine, [p.id for p in pupils])
    if policies is None:
        history = read_settings(engine, school_id)
        policies = lambda _school, year: history.policy_for(year)  # noqa: E731
    calendars: dict[str, LegalCalendar] = {}
    rows = []
    for pupil in pupils:
        found = states.get(pupil.id)
        row = _row(pupil, found, school_id, policies, calendars)
        if status is not None and row.status is not status:
            continue
        if overdue_on is not None and not (row.next_due and row.next_due.overdue_on(overdue_on)):
            continue
        rows.append(row)
    return OverviewPage(rows[offset : offset + limit], len(rows))


def _read_model(engine: Engine, pupil_ids: list[str]) -> dict[str, Any]:
    if not pupil_ids:
        return {}
    streams = {f"trajectory-{pupil_id}": pupil_id for pupil_id in pupil_ids}
    with single_statements(engine).connect() as conn:
        found = conn.execute(
            select(trajectories).where(trajectories.c.stream_id.in_(list(streams)))
        ).all()
    return {streams[r.stream_id]: r for r in found}


def _row(
    pupil: Pupil,
    found: Any,
    school_id: str,
    policies: PolicyLookup,
    calendars: dict[str, LegalCalendar],
) -> OverviewRow:
    if found is None:
        return OverviewRow(pupil, Status.NOT_ENROLLED, None, None, None, None, ())
    status = Status(found.status)
    due = None
    if found.school_year:
        calendar = calendars.get(found.school_year)
        if calendar is None:
            year = SchoolYear.parse(found.school_year)
            calendar = calendars[found.school_year] = policies(school_id, year).calendar(year)
        due = next_due(status, calendar, found.reconsideration_deadline)
    return OverviewRow(
        pupil=pupil,
        status=status,
        provisional_advice=found.provisional_advice,
        test_advice=found.test_advice,
        final_advice=found.final_advice,
        reconsideration_deadline=found.reconsideration_deadline,
        late=tuple(found.late or ()),
        next_due=due,
    )
