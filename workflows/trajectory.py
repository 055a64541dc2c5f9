"""A pupil's trajectory: `evolve` folds events into state, `decide` turns a command into events.

These two functions are the only way in. `decide(history, command, now)` reads no clock (the time
is passed in), does no I/O, and either returns the new events or raises a `DomainError` naming the
rule that said no; the history it was given is never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import reduce
from typing import Any

from workflows.calendar import SchoolYear, legal_calendar
from workflows.codec import Event
from workflows.commands import Command, EnrolPupil, GiveProvisionalAdvice
from workflows.errors import DomainError, InvalidHistoryError
from workflows.events import ProvisionalAdviceGiven, PupilEnrolled, Timeliness
from workflows.machine import DESTINATIONS, Status, fire
from workflows.scale import SchoolAdvice


@dataclass(frozen=True)
class RecordedAdvice:
    """An advice as it was given: the level, the day, and how that day stood to the legal window."""

    advice: SchoolAdvice
    given_on: date
    timeliness: Timeliness


@dataclass(frozen=True)
class Trajectory:
    """What is known of one pupil's trajectory after folding its events."""

    status: Status = Status.NOT_ENROLLED
    version: int = 0
    school_id: str | None = None
    school_year: SchoolYear | None = None
    groep: int | None = None
    provisional_advice: RecordedAdvice | None = None


TRIGGERS: dict[type[Event], str] = {
    PupilEnrolled: "enrol",
    ProvisionalAdviceGiven: "give_provisional_advice",
}


def _apply(state: Trajectory, event: Event) -> Trajectory:
    match event:
        case PupilEnrolled():
            return replace(
                state,
                school_id=event.school_id,
                school_year=SchoolYear.parse(event.school_year),
                groep=event.groep,
            )
        case ProvisionalAdviceGiven():
            recorded = RecordedAdvice(event.advice, event.given_on, event.timeliness)
            return replace(state, provisional_advice=recorded)
    raise InvalidHistoryError(f"no fold for {type(event).__name__}")


def evolve(state: Trajectory, event: Event) -> Trajectory:
    """The state after `event`; the status follows the machine's table, no trigger is fired."""
    trigger = TRIGGERS[type(event)]
    try:
        status = DESTINATIONS[(state.status, trigger)]
    except KeyError:
        raise InvalidHistoryError(
            f"{event.event_type} cannot follow status {state.status.value}"
        ) from None
    return replace(_apply(state, event), status=status, version=state.version + 1)


def fold(history: Iterable[Event]) -> Trajectory:
    return reduce(evolve, history, Trajectory())


def _enrol(state: Trajectory, command: EnrolPupil, now: datetime) -> list[Event]:
    SchoolYear.parse(command.school_year)
    if command.groep not in (7, 8):
        raise DomainError(
            "groep_invalid", "het traject volgt leerlingen in groep 7 en 8", field="groep"
        )
    if not command.school_id.strip():
        raise DomainError("school_id_missing", "de school ontbreekt", field="school_id")
    return [
        PupilEnrolled(
            school_id=command.school_id,
            school_year=command.school_year,
            groep=command.groep,
            enrolled_on=command.enrolled_on,
        )
    ]


def _not_in_future(day: date, now: datetime, field: str) -> None:
    if day > now.date():
        raise DomainError(
            "date_in_future",
            f"{day.isoformat()} ligt in de toekomst; leg vast wat al gebeurd is",
            field=field,
        )


def _give_provisional_advice(
    state: Trajectory, command: GiveProvisionalAdvice, now: datetime
) -> list[Event]:
    if state.groep != 8 or state.school_year is None:
        raise DomainError(
            "provisional_advice_needs_groep_8",
            "een voorlopig schooladvies wordt in groep 8 gegeven",
        )
    _not_in_future(command.given_on, now, "given_on")
    if command.given_on not in state.school_year:
        raise DomainError(
            "date_outside_school_year",
            f"{command.given_on.isoformat()} valt niet in schooljaar {state.school_year}",
            field="given_on",
        )
    window = legal_calendar(state.school_year).provisional_advice_window
    if command.given_on < window.first:
        timeliness = Timeliness.EARLY
    elif command.given_on > window.last:
        timeliness = Timeliness.LATE
    else:
        timeliness = Timeliness.ON_TIME
    return [
        ProvisionalAdviceGiven(
            advice=command.advice, given_on=command.given_on, timeliness=timeliness
        )
    ]


_Decider = Callable[[Trajectory, Any, datetime], list[Event]]
# Each command with the trigger it must be allowed to fire and the function that decides it.
_DECIDERS: dict[type[Any], tuple[str, _Decider]] = {
    EnrolPupil: ("enrol", _enrol),
    GiveProvisionalAdvice: ("give_provisional_advice", _give_provisional_advice),
}


def decide(history: Sequence[Event], command: Command, now: datetime) -> list[Event]:
    """The events that follow from `command` given `history`, or a DomainError saying why not."""
    state = fold(history)
    if state.status is Status.NOT_ENROLLED and not isinstance(command, EnrolPupil):
        raise DomainError("pupil_not_enrolled", "deze leerling volgt geen adviestraject")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    trigger, decider = _DECIDERS[type(command)]
    fire(state.status, trigger)
    events = decider(state, command, now)
    status = state.status
    for event in events:
        status = fire(status, TRIGGERS[type(event)])
    return events
