"""The planner over the open requests: what `Talks.plan_open` does.

The open talks (requested, or parents asked for another time) are grouped per school and round;
for each group the planner (`workflows.planning.plan`) gets their requests — no sooner than
`PLANNER_LEAD` from now, so parents can answer, inside the latest end, never at a time the
parents turned down — the staff's published availability and the bookings already made, and
each placement is then planned (a moved proposal, when parents asked for another time) through
the same checked path as a person's, so a booking made meanwhile refuses it instead of
double-booking. The bookings include the talks the people of the requests attend at other
schools (someone working at two schools), so the planner places around them. Without published
availability the planner is not asked: the requests are reported `no_availability`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from service.scheduling import fitting, views
from service.shared.context import Actor, CommandContext
from workflows import planning
from workflows.conversations import Talk, TalkStatus
from workflows.errors import DomainError

if TYPE_CHECKING:
    from service.scheduling.talks import PlanReport, Talks

PLANNER_LEAD = timedelta(hours=24)
"""The planner proposes no time sooner than this after now: parents need time to answer."""
PLANNER_SECONDS = 5.0
MOVED_FOR_PARENTS = "nieuw voorstel op de vraag van de ouders om een ander moment"
NO_AVAILABILITY = "Er is nog geen beschikbaarheid gepubliceerd voor deze gesprekken."


def plan_open(
    talks: Talks,
    school_id: str | None,
    actor: Actor | CommandContext,
    *,
    talk_ids: Sequence[str] = (),
) -> PlanReport:
    from service.scheduling.talks import PlanReport  # noqa: PLC0415 - a cycle otherwise

    if talk_ids:
        found = [views.talk(talks.engine, talk_id) for talk_id in dict.fromkeys(talk_ids)]
        open_rows = [
            r
            for r in found
            if r is not None
            and r.status in views.OPEN
            and (school_id is None or r.school_id == school_id)
        ]
    else:
        open_rows = views.open_requests(talks.engine, school_id)
    report = PlanReport()
    groups: dict[tuple[str, str], list[views.TalkRow]] = {}
    for r in open_rows:
        groups.setdefault((r.school_id, r.round_key), []).append(r)
    for (school, round_key), members in groups.items():
        _plan_group(talks, school, round_key, members, actor, report)
    return report


def _request(talk_id: str, talk: Talk, now: datetime) -> planning.Request:
    """The talk's request for the planner; parents who asked for another time never get the
    time they turned down again (also when they named no times they cannot)."""
    request = fitting.request_of(talk_id, talk, now + PLANNER_LEAD)
    if talk.status is TalkStatus.OTHER_TIME_ASKED and talk.start and talk.end:
        turned_down = planning.Window(talk.start, talk.end)
        request = replace(request, unavailable=(*request.unavailable, turned_down))
    return request


def _plan_group(
    talks: Talks,
    school_id: str,
    round_key: str,
    members: list[views.TalkRow],
    actor: Actor | CommandContext,
    report: PlanReport,
) -> None:
    now = talks.clock()
    availability = list(talks.availability(school_id, round_key))
    if not availability:
        report.unplaced.extend(
            planning.Unplaced(m.talk_id, "no_availability", NO_AVAILABILITY) for m in members
        )
        return
    requests = [_request(m.talk_id, talks.load(m.talk_id), now) for m in members]
    mine = {m.talk_id for m in members}
    bookings = [
        planning.Booking(b.talk_id, b.start, b.end, b.staff, b.family, b.room)
        for b in views.booked(talks.engine, school_id, now)
        if b.talk_id not in mine and b.start is not None and b.end is not None
    ]
    # a person who also works at another school is not free during her talks there (their
    # rooms are that school's own: they block nobody here)
    people = {p for r in requests for p in (*r.staff, *(q for group in r.staff_any for q in group))}
    bookings += [
        planning.Booking(b.talk_id, b.start, b.end, b.staff, b.family, None)
        for b in views.booked_elsewhere(talks.engine, school_id, people, now)
        if b.start is not None and b.end is not None
    ]
    result = planning.plan(
        requests,
        availability,
        bookings,
        time_limit_s=PLANNER_SECONDS,
        names=talks.staff_names(school_id),
    )
    report.unplaced.extend(result.unplaced)
    status = {m.talk_id: m.status for m in members}
    for placement in result.placements:
        talk_id = placement.request_id
        try:
            if status[talk_id] is TalkStatus.REQUESTED:
                talks.plan(
                    talk_id,
                    placement.start,
                    placement.room,
                    actor,
                    by_planner=True,
                    staff=placement.staff,
                )
            else:
                talks.move(
                    talk_id,
                    placement.start,
                    placement.room,
                    MOVED_FOR_PARENTS,
                    actor,
                    asked_by_parents=True,
                    staff=placement.staff,
                )
        except DomainError as error:  # PlanningRefused too: something changed meanwhile
            reasons = getattr(error, "reasons", None) or [
                planning.Unplaced(talk_id, error.code, error.message)
            ]
            report.unplaced.extend(reasons)
            continue
        report.planned.append(talk_id)
