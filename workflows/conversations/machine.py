"""The talk's status machine declared as data, built once and shared (as `workflows.machine`).

`fire_talk` runs a trigger on a throw-away holder and raises a Dutch `DomainError` when the status
does not allow it; `TALK_DESTINATIONS` is the same table for folding without firing.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

from workflows.codec import Event
from workflows.conversations.events import (
    InvitationSent,
    ParentsAccepted,
    ParentsAskedOtherTime,
    ParentsDeclined,
    ParentsViewGiven,
    ReminderSent,
    TalkCancelled,
    TalkEscalated,
    TalkHeld,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
    TalkStatus,
)
from workflows.errors import DomainError

T = TalkStatus
_OPEN = [T.REQUESTED, T.PROPOSED, T.ACCEPTED, T.OTHER_TIME_ASKED]
_PLANNED = [T.PROPOSED, T.ACCEPTED, T.OTHER_TIME_ASKED]


def _stay(trigger: str, states: list[TalkStatus]) -> list[dict[str, Any]]:
    return [{"trigger": trigger, "source": s, "dest": s} for s in states]


TALK_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "request", "source": T.REQUESTED, "dest": T.REQUESTED},  # the initial state
    {"trigger": "plan", "source": T.REQUESTED, "dest": T.PROPOSED},
    {"trigger": "plan", "source": T.CANCELLED, "dest": T.PROPOSED},
    *[{"trigger": "move", "source": s, "dest": T.PROPOSED} for s in _PLANNED],
    *[{"trigger": "cancel", "source": s, "dest": T.CANCELLED} for s in _OPEN],
    *_stay("invite", [*_PLANNED, T.CANCELLED]),
    {"trigger": "accept", "source": T.PROPOSED, "dest": T.ACCEPTED},
    *_stay("accept", [T.ACCEPTED]),
    {"trigger": "ask_other_time", "source": T.PROPOSED, "dest": T.OTHER_TIME_ASKED},
    {"trigger": "ask_other_time", "source": T.ACCEPTED, "dest": T.OTHER_TIME_ASKED},
    *_stay("ask_other_time", [T.OTHER_TIME_ASKED]),
    *[{"trigger": "decline", "source": s, "dest": T.DECLINED} for s in [*_OPEN, T.CANCELLED]],
    *_stay("give_view", _OPEN),
    *[{"trigger": "hold", "source": s, "dest": T.HELD} for s in [*_OPEN, T.CANCELLED]],
    *_stay("remind", [T.PROPOSED, T.ACCEPTED]),
    *_stay("escalate", _OPEN),
]
TALK_TRIGGER_LABELS = {
    "request": "gesprek aanvragen",
    "plan": "gesprek plannen",
    "move": "gesprek verzetten",
    "cancel": "gesprek afzeggen",
    "invite": "uitnodiging versturen",
    "accept": "gesprek bevestigen",
    "ask_other_time": "ander moment vragen",
    "decline": "afzien van het gesprek",
    "give_view": "zienswijze geven",
    "hold": "gevoerd gesprek vastleggen",
    "remind": "herinnering versturen",
    "escalate": "directie waarschuwen",
}


def _table(transitions: list[dict[str, Any]]) -> dict[tuple[TalkStatus, str], TalkStatus]:
    table: dict[tuple[TalkStatus, str], TalkStatus] = {}
    for t in transitions:
        key = (t["source"], t["trigger"])
        if key in table:
            raise ValueError(f"two transitions for {key}")
        table[key] = t["dest"]
    return table


TALK_DESTINATIONS = _table(TALK_TRANSITIONS)
TALK_MACHINE = Machine(
    model=None,
    states=TalkStatus,
    transitions=TALK_TRANSITIONS,
    initial=TalkStatus.REQUESTED,
    auto_transitions=False,
)


class _Holder:
    __slots__ = ("state",)

    def __init__(self, state: TalkStatus) -> None:
        self.state = state


def fire_talk(status: TalkStatus, trigger: str) -> TalkStatus:
    """The status after `trigger` on the shared machine, or a DomainError naming the status."""
    holder = _Holder(status)
    try:
        TALK_MACHINE.events[trigger].trigger(holder)
    except MachineError:
        raise DomainError(
            "talk_not_allowed",
            f"{TALK_TRIGGER_LABELS.get(trigger, trigger)} kan niet als het gesprek "
            f"'{status.label}' is",
        ) from None
    result: TalkStatus = holder.state
    return result


TRIGGER_OF: dict[type[Event], str] = {
    TalkRequested: "request",
    TalkPlanned: "plan",
    TalkMoved: "move",
    TalkCancelled: "cancel",
    InvitationSent: "invite",
    ParentsAccepted: "accept",
    ParentsAskedOtherTime: "ask_other_time",
    ParentsDeclined: "decline",
    ParentsViewGiven: "give_view",
    TalkHeld: "hold",
    ReminderSent: "remind",
    TalkEscalated: "escalate",
}
