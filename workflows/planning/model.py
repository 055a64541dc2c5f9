"""The planner's vocabulary: requests for a talk, the staff's published availability, bookings
that are already fixed, and the plan that comes out (a placement per request that fits, and for
every other request the reason in Dutch). All times are aware datetimes; windows are half-open
`[start, end)`. The reason codes are stable: callers store and compare them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NO_AVAILABILITY = "no_availability"
AFTER_DEADLINE = "after_deadline"
BEFORE_EARLIEST = "before_earliest"
DOUBLE_BOOKED_STAFF = "double_booked_staff"
DOUBLE_BOOKED_ROOM = "double_booked_room"
DOUBLE_BOOKED_FAMILY = "double_booked_family"
OUTSIDE_AVAILABILITY = "outside_availability"
FAMILY_UNAVAILABLE = "family_unavailable"
NO_FREE_SLOT = "no_free_slot"

CODES = (
    NO_AVAILABILITY,
    AFTER_DEADLINE,
    BEFORE_EARLIEST,
    DOUBLE_BOOKED_STAFF,
    DOUBLE_BOOKED_ROOM,
    DOUBLE_BOOKED_FAMILY,
    OUTSIDE_AVAILABILITY,
    FAMILY_UNAVAILABLE,
    NO_FREE_SLOT,
)


@dataclass(frozen=True)
class Window:
    """A stretch of time `[start, end)` in aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Availability:
    """One person's published time; on site, talks in these windows are in `room`."""

    person: str
    windows: tuple[Window, ...]
    room: str | None = None


@dataclass(frozen=True)
class Request:
    """A talk to plan. Everyone in `staff` attends, and exactly one of each `staff_any` group
    (duo teachers: whoever works that day). `latest_end` is the deadline minus the margin to
    record the decision, worked out by the caller."""

    id: str
    family: str
    staff: tuple[str, ...]
    duration: timedelta
    earliest: datetime
    latest_end: datetime
    staff_any: tuple[tuple[str, ...], ...] = ()
    online: bool = False
    unavailable: tuple[Window, ...] = ()
    preferred: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Booking:
    """A talk already fixed (planned by hand or accepted earlier): it blocks its people, its
    room and its family."""

    request_id: str
    start: datetime
    end: datetime
    staff: tuple[str, ...]
    family: str
    room: str | None


@dataclass(frozen=True)
class Placement:
    """Where a request goes; `staff` is who attends: the request's `staff` plus the one chosen
    of each `staff_any` group, in that order."""

    request_id: str
    start: datetime
    end: datetime
    room: str | None
    staff: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unplaced:
    """Why a request could not be planned (or a manual time is refused): a stable code and a
    Dutch message for the teacher."""

    request_id: str
    code: str
    message: str


@dataclass(frozen=True)
class Plan:
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
