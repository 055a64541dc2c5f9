"""The conversation planner: a pure function from talk requests, the staff's availability and
the bookings already fixed to a plan, with a Dutch reason for every request that does not fit
(`plan`), and the same hard rules for a time chosen by hand (`check`, `choose`). No I/O and no
clock: times come in as aware datetimes.
"""

from workflows.planning.checking import check, choose
from workflows.planning.costs import Weights
from workflows.planning.model import (
    CODES,
    Availability,
    Booking,
    Placement,
    Plan,
    Request,
    Unplaced,
    Window,
)
from workflows.planning.planner import plan

__all__ = [
    "CODES",
    "Availability",
    "Booking",
    "Placement",
    "Plan",
    "Request",
    "Unplaced",
    "Weights",
    "Window",
    "check",
    "choose",
    "plan",
]
