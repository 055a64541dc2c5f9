"""The trajectory's life cycle as one `transitions` state machine shared by every pupil.

The machine is declared as data and built once at import time with no model attached; nothing
registers per-pupil objects on it. `fire` runs a trigger on a throw-away state holder to ask the
machine whether a step is allowed and where it leads (`decide` uses it to vet every event it
produces); `DESTINATIONS` is the same definition as a plain lookup table, so that folding a stored
history (`evolve`) never fires a trigger.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from transitions import Machine, MachineError

from workflows.errors import DomainError


class Status(Enum):
    NOT_ENROLLED = "not_enrolled"
    ENROLLED = "enrolled"
    PROVISIONAL_ADVICE_GIVEN = "provisional_advice_given"

    @property
    def label(self) -> str:
        """How the status reads in Dutch, for teachers and in error messages."""
        return _LABELS[self]


_LABELS = {
    Status.NOT_ENROLLED: "niet in het traject",
    Status.ENROLLED: "ingeschreven, wacht op voorlopig advies",
    Status.PROVISIONAL_ADVICE_GIVEN: "voorlopig advies gegeven",
}
_TRIGGER_LABELS = {
    "enrol": "inschrijven in het traject",
    "give_provisional_advice": "voorlopig advies geven",
}


TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "enrol", "source": Status.NOT_ENROLLED, "dest": Status.ENROLLED},
    {
        "trigger": "give_provisional_advice",
        "source": Status.ENROLLED,
        "dest": Status.PROVISIONAL_ADVICE_GIVEN,
    },
]

MACHINE = Machine(
    model=None,
    states=Status,
    transitions=TRANSITIONS,
    initial=Status.NOT_ENROLLED,
    auto_transitions=False,
)


class _StateHolder:
    __slots__ = ("state",)

    def __init__(self, state: Status) -> None:
        self.state = state


def fire(status: Status, trigger: str) -> Status:
    """The status after `trigger` from `status`, or a DomainError when the machine forbids it."""
    holder = _StateHolder(status)
    try:
        MACHINE.events[trigger].trigger(holder)
    except MachineError:
        raise DomainError(
            "not_allowed_in_state",
            f"{_TRIGGER_LABELS.get(trigger, trigger)} kan niet in de toestand '{status.label}'",
        ) from None
    return holder.state


def _destinations() -> dict[tuple[Status, str], Status]:
    table: dict[tuple[Status, str], Status] = {}
    for trigger, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            dest = transitions[0].dest
            if dest is None:
                raise ValueError(f"internal transitions are not used ({trigger})")
            table[(Status[source], trigger)] = Status[dest]
    return table


DESTINATIONS = _destinations()
