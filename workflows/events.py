"""The facts of a pupil's advice trajectory, one immutable and versioned type per fact.

Events hold what happened and on which domain date; who did it and when it was recorded travel in
the stored envelope (see `service.store`). Names of people never appear here: a pupil is the
stream's id, and names live in the erasable register.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from workflows.codec import Event, EventCodec
from workflows.scale import SchoolAdvice


class Timeliness(Enum):
    """Whether a dated action fell inside its legal window; late ones are recorded, and flagged."""

    ON_TIME = "on_time"
    EARLY = "early"
    LATE = "late"


@dataclass(frozen=True, kw_only=True)
class PupilEnrolled(Event):
    event_type = "pupil_enrolled"

    school_id: str
    school_year: str
    groep: int
    enrolled_on: date


@dataclass(frozen=True, kw_only=True)
class ProvisionalAdviceGiven(Event):
    event_type = "provisional_advice_given"

    advice: SchoolAdvice
    given_on: date
    timeliness: Timeliness


TRAJECTORY_EVENTS: tuple[type[Event], ...] = (PupilEnrolled, ProvisionalAdviceGiven)

CODEC = EventCodec(TRAJECTORY_EVENTS)
