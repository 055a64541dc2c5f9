"""Manual planning: may this request start at this time (in this room)? `check` returns every
hard rule the time breaks, as `Unplaced` with a Dutch message ([] = allowed); `choose` gives the
placement the time leads to (the room of the first attendee's availability unless one is given,
and the duo teacher who is free then). A booking of the request itself is ignored, so moving a
talk never clashes with its own old time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from workflows.planning import messages as m
from workflows.planning.candidates import Calendars, attendances
from workflows.planning.minutes import Span, to_minute, zone_of
from workflows.planning.model import (
    AFTER_DEADLINE,
    BEFORE_EARLIEST,
    DOUBLE_BOOKED_FAMILY,
    DOUBLE_BOOKED_ROOM,
    DOUBLE_BOOKED_STAFF,
    FAMILY_UNAVAILABLE,
    OUTSIDE_AVAILABILITY,
    Availability,
    Booking,
    Placement,
    Request,
    Unplaced,
)


def check(
    request: Request,
    start: datetime,
    room: str | None,
    availability: Sequence[Availability],
    bookings: Sequence[Booking],
    names: Mapping[str, str] = m.NO_NAMES,
) -> list[Unplaced]:
    """Every hard rule that `start` (and `room`) breaks; [] when the time is allowed."""
    return _assess(request, start, room, availability, bookings, names).violations


def choose(
    request: Request,
    start: datetime,
    room: str | None,
    availability: Sequence[Availability],
    bookings: Sequence[Booking],
) -> Placement:
    """The placement a manual time gives (check it first): who attends and in which room."""
    found = _assess(request, start, room, availability, bookings, m.NO_NAMES)
    return Placement(request.id, start, start + request.duration, found.room, found.attend)


def _assess(
    request: Request,
    start: datetime,
    room: str | None,
    availability: Sequence[Availability],
    bookings: Sequence[Booking],
    names: Mapping[str, str],
) -> _Assessment:
    """The first way of attending (duo teachers) that breaks nothing, else the one that breaks
    the fewest rules."""
    calendars = Calendars(availability, ())
    others = [b for b in bookings if b.request_id != request.id]
    best: _Assessment | None = None
    for attend in attendances(request):
        found = _Assessment(request, attend, start, room, calendars, others, names)
        if not found.violations:
            return found
        if best is None or len(found.violations) < len(best.violations):
            best = found
    if best is None:
        raise ValueError(f"request {request.id}: nobody of the staff attends")
    return best


def _inside(spans: Sequence[Span], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


class _Assessment:
    def __init__(
        self,
        request: Request,
        attend: tuple[str, ...],
        start: datetime,
        room: str | None,
        calendars: Calendars,
        others: Sequence[Booking],
        names: Mapping[str, str],
    ) -> None:
        self.request = request
        self.attend = attend
        self.names = names
        self.zone = zone_of(request.earliest)
        self.start = start
        self.end = start + request.duration
        self.calendars = calendars
        self.others = others
        self.minutes = (to_minute(start), to_minute(self.end, up=True))
        self.violations: list[Unplaced] = []
        self.room = None if request.online else (room if room is not None else self._room())
        self._period()
        for group in [(p,) for p in request.staff] + list(request.staff_any):
            self._person(next(p for p in attend if p in group), group)
        self._room_and_family()

    def _refuse(self, code: str, message: str) -> None:
        self.violations.append(Unplaced(self.request.id, code, message))

    def _available(self, person: str) -> bool:
        return _inside(self.calendars.spans.get(person, []), *self.minutes)

    def _clash(self, person: str) -> Booking | None:
        return next((b for b in self.others if person in b.staff and self._overlaps(b)), None)

    def _overlaps(self, booking: Booking) -> bool:
        return booking.start < self.end and self.start < booking.end

    def _room(self) -> str | None:
        if not self.attend:
            return None
        rooms = self.calendars.rooms.get(self.attend[0], {})
        start, end = self.minutes
        for room, spans in rooms.items():
            if _inside(spans, start, end):
                return room
        for room, spans in rooms.items():
            if _inside(spans, start, start + 1):
                return room
        return None

    def _period(self) -> None:
        request, zone = self.request, self.zone
        if self.start < request.earliest:
            self._refuse(
                BEFORE_EARLIEST,
                f"Het gesprek kan pas vanaf {m.when(request.earliest, zone)} worden gepland.",
            )
        if self.end > request.latest_end:
            self._refuse(
                AFTER_DEADLINE,
                f"Het gesprek moet uiterlijk {m.until(request.latest_end, zone)} afgelopen zijn "
                f"(de wettelijke termijn, met tijd om het besluit vast te leggen); "
                f"het zou {m.when(self.end, zone)} eindigen.",
            )

    def _person(self, person: str, group: tuple[str, ...]) -> None:
        zone, names = self.zone, self.names
        if not self._available(person):
            self._refuse(
                OUTSIDE_AVAILABILITY,
                f"{m.either(group, names)} is op {m.day(self.start, zone)} van "
                f"{m.clock(self.start, zone)} tot {m.clock(self.end, zone)} niet beschikbaar.",
            )
        clash = self._clash(person)
        if clash is not None:
            self._refuse(
                DOUBLE_BOOKED_STAFF,
                f"{m.name(person, names)} heeft {m.when(clash.start, zone)} al een gesprek.",
            )

    def _room_and_family(self) -> None:
        zone, request = self.zone, self.request
        if self.room is not None:
            clash = next(
                (b for b in self.others if b.room == self.room and self._overlaps(b)), None
            )
            if clash is not None:
                self._refuse(
                    DOUBLE_BOOKED_ROOM,
                    f"{m.name(self.room, self.names)} is {m.when(clash.start, zone)} al bezet.",
                )
        clash = next(
            (b for b in self.others if b.family == request.family and self._overlaps(b)), None
        )
        if clash is not None:
            self._refuse(
                DOUBLE_BOOKED_FAMILY,
                f"De ouders hebben {m.when(clash.start, zone)} al een ander gesprek.",
            )
        for window in request.unavailable:
            if window.start < self.end and self.start < window.end:
                self._refuse(
                    FAMILY_UNAVAILABLE,
                    f"De ouders hebben laten weten dat ze op {m.day(window.start, zone)} van "
                    f"{m.clock(window.start, zone)} tot {m.clock(window.end, zone)} niet kunnen.",
                )
                break
