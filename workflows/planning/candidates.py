"""What each request could get before any other request is placed: its options (who attends,
which room, which day) and every start on the step grid that fits, after the staff's
availability, the request's period, the family's unavailable times and the fixed bookings. When
nothing fits, the first stage that left nothing gives the reason (no common availability, none in
the period, all in the family's unavailable times, all taken).
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from workflows.planning import messages as m
from workflows.planning.minutes import (
    Span,
    intersect,
    local_day,
    minutes_of,
    normalise,
    starts_in,
    subtract,
    to_datetime,
    to_minute,
    zone_of,
)
from workflows.planning.model import (
    FAMILY_UNAVAILABLE,
    NO_AVAILABILITY,
    NO_FREE_SLOT,
    Availability,
    Booking,
    Request,
    Unplaced,
)


@dataclass(frozen=True)
class Option:
    """One way to hold a request: who attends, in which room, on which day, and the starts."""

    staff: tuple[str, ...]
    room: str | None
    day: date
    starts: tuple[int, ...]


@dataclass(frozen=True)
class Prepared:
    request: Request
    duration: int
    earliest: int
    latest_end: int
    options: tuple[Option, ...]
    reason: Unplaced | None
    """Set when there is no option at all."""


class Calendars:
    """Everyone's availability (merged per person, and per person and room) and what the
    fixed bookings block, per person, room and family."""

    def __init__(
        self,
        availability: Sequence[Availability],
        bookings: Sequence[Booking],
        ignore: frozenset[str] = frozenset(),
    ) -> None:
        by_room: dict[str, dict[str | None, list[Span]]] = defaultdict(lambda: defaultdict(list))
        for item in availability:
            for window in item.windows:
                span = (to_minute(window.start, up=True), to_minute(window.end))
                by_room[item.person][item.room].append(span)
        self.rooms: dict[str, dict[str | None, list[Span]]] = {
            person: {room: normalise(spans) for room, spans in rooms.items()}
            for person, rooms in by_room.items()
        }
        self.spans: dict[str, list[Span]] = {
            person: normalise(s for spans in rooms.values() for s in spans)
            for person, rooms in self.rooms.items()
        }
        staff: dict[str, list[Span]] = defaultdict(list)
        room: dict[str, list[Span]] = defaultdict(list)
        family: dict[str, list[Span]] = defaultdict(list)
        for booking in bookings:
            if booking.request_id in ignore:
                continue
            span = (to_minute(booking.start), to_minute(booking.end, up=True))
            for person in booking.staff:
                staff[person].append(span)
            if booking.room is not None:
                room[booking.room].append(span)
            family[booking.family].append(span)
        self.busy_staff = {k: normalise(v) for k, v in staff.items()}
        self.busy_room = {k: normalise(v) for k, v in room.items()}
        self.busy_family = {k: normalise(v) for k, v in family.items()}

    def with_busy(self, talks: Sequence[tuple[Sequence[str], str | None, str, Span]]) -> Calendars:
        """The same availability, with `talks` (staff, room, family, span) taken as well."""
        extra = copy.copy(self)
        staff = defaultdict(list, {k: list(v) for k, v in self.busy_staff.items()})
        room = defaultdict(list, {k: list(v) for k, v in self.busy_room.items()})
        family = defaultdict(list, {k: list(v) for k, v in self.busy_family.items()})
        for people, place, household, span in talks:
            for person in people:
                staff[person].append(span)
            if place is not None:
                room[place].append(span)
            family[household].append(span)
        extra.busy_staff = {k: normalise(v) for k, v in staff.items()}
        extra.busy_room = {k: normalise(v) for k, v in room.items()}
        extra.busy_family = {k: normalise(v) for k, v in family.items()}
        return extra

    def common(self, attend: Sequence[str], online: bool) -> list[tuple[str | None, list[Span]]]:
        """Per room of the first attendee: when all of `attend` are available."""
        first, rest = attend[0], attend[1:]
        if online:
            groups: list[tuple[str | None, list[Span]]] = [(None, self.spans.get(first, []))]
        else:
            rooms = self.rooms.get(first, {})
            groups = [(room, rooms[room]) for room in sorted(rooms, key=lambda r: (r is None, r))]
        out = []
        for room, own in groups:
            spans = own
            for person in rest:
                spans = intersect(spans, self.spans.get(person, []))
            out.append((room, spans))
        return out

    def blocked(self, attend: Sequence[str], room: str | None, family: str) -> list[Span]:
        spans: list[Span] = []
        for person in attend:
            spans.extend(self.busy_staff.get(person, ()))
        if room is not None:
            spans.extend(self.busy_room.get(room, ()))
        spans.extend(self.busy_family.get(family, ()))
        return normalise(spans)


def attendances(request: Request) -> list[tuple[str, ...]]:
    """Every way the request's staff can attend: `staff` plus one of each `staff_any` group
    (a person named twice attends once)."""
    found: list[tuple[str, ...]] = []
    for choice in itertools.product(*request.staff_any):
        attend = tuple(dict.fromkeys(request.staff + choice))
        if attend not in found:
            found.append(attend)
    return found


def prepare(
    request: Request,
    calendars: Calendars,
    step: int,
    names: Mapping[str, str] = m.NO_NAMES,
) -> Prepared:
    if request.duration <= timedelta(0):
        raise ValueError(f"request {request.id}: the duration must be positive")
    if not request.staff and not request.staff_any:
        raise ValueError(f"request {request.id}: nobody of the staff attends")
    if any(not group for group in request.staff_any):
        raise ValueError(f"request {request.id}: an empty staff_any group")
    duration = minutes_of(request.duration)
    earliest = to_minute(request.earliest, up=True)
    latest_end = to_minute(request.latest_end)
    zone = zone_of(request.earliest)
    unavailable = normalise(
        (to_minute(w.start), to_minute(w.end, up=True)) for w in request.unavailable
    )
    period = [(earliest, latest_end)]
    stages = [False, False, False]  # any common time; in the period; outside unavailable
    options: list[Option] = []
    for attend in attendances(request):
        for room, common in calendars.common(attend, request.online):
            spans = common
            stages[0] = stages[0] or bool(starts_in(spans, duration, step))
            spans = intersect(spans, period)
            stages[1] = stages[1] or bool(starts_in(spans, duration, step))
            spans = subtract(spans, unavailable)
            stages[2] = stages[2] or bool(starts_in(spans, duration, step))
            spans = subtract(spans, calendars.blocked(attend, room, request.family))
            by_day: dict[date, list[int]] = defaultdict(list)
            for span in spans:
                starts = starts_in([span], duration, step)
                if starts and local_day(starts[0], zone) == local_day(starts[-1], zone):
                    by_day[local_day(starts[0], zone)].extend(starts)  # the usual: one day
                    continue
                for start in starts:
                    by_day[local_day(start, zone)].append(start)
            options.extend(
                Option(attend, room, day, tuple(starts)) for day, starts in sorted(by_day.items())
            )
    options.sort(key=lambda o: (o.starts[0], o.staff, o.room or ""))
    reason = None
    if not options:
        reason = _reason(request, calendars, stages, names)
    return Prepared(request, duration, earliest, latest_end, tuple(options), reason)


def _who(request: Request, names: Mapping[str, str]) -> tuple[str, str]:
    """The attendees as Dutch words ("Juf Anna en de ib'er" / "A of B") and the verb's form."""
    parts = [m.name(p, names) for p in request.staff]
    parts += [m.either(group, names) for group in request.staff_any]
    return m.together(parts, m.NO_NAMES), ("is" if len(parts) == 1 else "zijn")


def _reason(
    request: Request, calendars: Calendars, stages: list[bool], names: Mapping[str, str]
) -> Unplaced:
    zone = zone_of(request.earliest)
    deadline = m.when(request.latest_end, zone)
    missing = [p for p in request.staff if p not in calendars.spans]
    missing += [p for g in request.staff_any if all(q not in calendars.spans for q in g) for p in g]
    who, are = _who(request, names)
    if missing:
        text = (
            f"{m.either(missing, names)} heeft geen beschikbaarheid opgegeven."
            if len(missing) == 1
            else f"{m.together(missing, names)} hebben geen beschikbaarheid opgegeven."
        )
        return Unplaced(request.id, NO_AVAILABILITY, text)
    if not stages[0]:
        return Unplaced(
            request.id,
            NO_AVAILABILITY,
            f"Er is geen tijd waarop {who} beschikbaar {are} voor een gesprek van "
            f"{minutes_of(request.duration)} minuten.",
        )
    if not stages[1]:
        return Unplaced(
            request.id,
            NO_AVAILABILITY,
            f"Er is tussen {m.when(request.earliest, zone)} en {deadline} (de uiterste tijd om "
            f"het gesprek af te ronden) geen tijd waarop {who} beschikbaar {are}.",
        )
    if not stages[2]:
        return Unplaced(
            request.id,
            FAMILY_UNAVAILABLE,
            f"De ouders kunnen niet op de tijden vóór {deadline} waarop {who} beschikbaar {are}.",
        )
    return Unplaced(
        request.id,
        NO_FREE_SLOT,
        f"Alle tijden vóór {deadline} waarop {who} beschikbaar {are}, zijn al bezet.",
    )


def taken_reason(prepared: Prepared, names: Mapping[str, str] = m.NO_NAMES) -> Unplaced:
    """For a request that had options, but the other talks of the plan took them all."""
    request = prepared.request
    zone = zone_of(request.earliest)
    who, are = _who(request, names)
    last = to_datetime(max(o.starts[-1] for o in prepared.options), zone)
    return Unplaced(
        request.id,
        NO_FREE_SLOT,
        f"Alle vrije tijden vóór {m.when(request.latest_end, zone)} waarop {who} beschikbaar "
        f"{are}, zijn al voor andere gesprekken ingepland (de laatste mogelijke begintijd was "
        f"{m.when(last, zone)}).",
    )
