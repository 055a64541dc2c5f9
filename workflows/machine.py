"""The shared `transitions` machines built once from the life cycle's data, and `fire`.

Nothing registers per-pupil objects on these machines: `fire` runs a trigger on a throw-away state
holder and passes the trajectory and policy to the guards, so one machine serves every pupil (a
`Machine` per pupil costs ~100-340 µs; a trigger on the shared one ~10 µs, see bench/). When the
machine says no, `fire` names the state or the guard that refused.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

from workflows.errors import DomainError
from workflows.guards import GUARDS
from workflows.lifecycle import (
    CONVERSATION_TRANSITIONS,
    GUARDS_BY_STEP,
    TRANSITIONS,
    TRIGGER_LABELS,
    ConversationStatus,
    Status,
)
from workflows.policy import SchoolPolicy
from workflows.trajectory import Trajectory


def _with_guards(transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**t, "conditions": [GUARDS[n].holds for n in t.get("conditions", ())]} for t in transitions
    ]


def build_machine() -> Machine:
    return Machine(
        model=None,
        states=Status,
        transitions=_with_guards(TRANSITIONS),
        initial=Status.NOT_ENROLLED,
        auto_transitions=False,
    )


def build_conversation_machine() -> Machine:
    return Machine(
        model=None,
        states=ConversationStatus,
        transitions=CONVERSATION_TRANSITIONS,
        initial=ConversationStatus.NONE,
        auto_transitions=False,
    )


MACHINE = build_machine()
CONVERSATION_MACHINE = build_conversation_machine()


class _StateHolder:
    __slots__ = ("state",)

    def __init__(self, state: Any) -> None:
        self.state = state


def fire(
    state: Trajectory, trigger: str, policy: SchoolPolicy, machine: Machine = MACHINE
) -> Status:
    """The status after `trigger`, or a DomainError naming the state or guard that forbids it."""
    holder = _StateHolder(state.status)
    try:
        moved = machine.events[trigger].trigger(holder, state, policy)
    except MachineError:
        raise DomainError(
            "not_allowed_in_state",
            f"{TRIGGER_LABELS.get(trigger, trigger)} kan niet in de toestand "
            f"'{state.status.label}'",
        ) from None
    if not moved:
        for name in GUARDS_BY_STEP.get((state.status, trigger), ()):
            guard = GUARDS[name]
            if not guard.holds(state, policy):
                raise DomainError(guard.code, guard.message)
        raise DomainError("not_allowed", f"{TRIGGER_LABELS.get(trigger, trigger)} kan nu niet")
    result: Status = holder.state
    return result


def fire_conversation(
    status: ConversationStatus, trigger: str, machine: Machine = CONVERSATION_MACHINE
) -> ConversationStatus:
    holder = _StateHolder(status)
    try:
        machine.events[trigger].trigger(holder)
    except MachineError:
        raise DomainError(
            "conversation_not_allowed",
            f"{TRIGGER_LABELS.get(trigger, trigger)} kan niet als het gesprek '{status.label}' is",
        ) from None
    result: ConversationStatus = holder.state
    return result
