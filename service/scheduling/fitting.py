"""The talk in the planner's terms: its `planning.Request`, the fixed bookings around it, and
the check of a time chosen by hand, with the school-hours rule on top.

Manual planning is checked the way the planner plans (`workflows.planning.check`): double booking
of a person, room or family, the latest end (the deadline minus the margin), the parents' stated
unavailable times, and the staff's published availability. A school whose attending staff have
published no availability for the talk's round yet may still plan by hand — then only the
availability rule is left out; every other rule holds, and a talk always falls on a working day
between 07:00 and 21:00 (Europe/Amsterdam): a Sunday at 23:30 is refused whatever is published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflows import planning
from workflows.conversations import Talk
from workflows.dutch import day_and_month

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SCHOOL_DAY = (time(7, 0), time(21, 0))
OUTSIDE_SCHOOL_HOURS = "outside_school_hours"
_AVAILABILITY_CODES = frozenset({"no_availability", "outside_availability"})


def request_of(talk_id: str, talk: Talk, earliest: datetime) -> planning.Request:
    request = talk.requested
    return planning.Request(
        id=talk_id,
        family=request.family,
        staff=request.staff,
        staff_any=request.staff_any,
        duration=timedelta(minutes=request.minutes),
        earliest=earliest.astimezone(AMSTERDAM),  # the planner names times in its zone
        latest_end=request.latest_end,
        online=request.online,
        unavailable=tuple(planning.Window(p.start, p.end) for p in talk.unavailable),
        preferred=tuple(planning.Window(p.start, p.end) for p in talk.preferred),
    )


def bookings_of(rows: Sequence[Mapping[str, Any]]) -> list[planning.Booking]:
    return [
        planning.Booking(r["talk_id"], r["start"], r["end"], r["staff"], r["family"], r["room"])
        for r in rows
    ]


def school_hours(talk_id: str, start: datetime, end: datetime) -> list[planning.Unplaced]:
    local_start, local_end = start.astimezone(AMSTERDAM), end.astimezone(AMSTERDAM)
    first, last = SCHOOL_DAY
    if (
        local_start.weekday() >= 5
        or local_start.date() != local_end.date()
        or local_start.time() < first
        or local_end.time() > last
    ):
        return [
            planning.Unplaced(
                talk_id,
                OUTSIDE_SCHOOL_HOURS,
                "Een gesprek valt op een werkdag (maandag tot en met vrijdag) tussen 7:00 en "
                f"21:00; {day_and_month(local_start)} om {local_start:%H:%M} valt daarbuiten.",
            )
        ]
    return []


def check(
    request: planning.Request,
    start: datetime,
    room: str | None,
    availability: Sequence[planning.Availability],
    bookings: Sequence[planning.Booking],
    names: Mapping[str, str],
) -> tuple[list[planning.Unplaced], planning.Placement]:
    """Why `start` is refused ([] when allowed) and the placement it gives (who attends, the
    room); the availability rule only when someone attending has published availability."""
    placement = planning.choose(request, start, room, availability, bookings)
    reasons = planning.check(request, start, room, availability, bookings, names)
    published = {a.person for a in availability if a.windows}
    if not published & set(placement.staff):
        reasons = [r for r in reasons if r.code not in _AVAILABILITY_CODES]
    reasons = school_hours(request.id, start, start + request.duration) + reasons
    return reasons, placement
