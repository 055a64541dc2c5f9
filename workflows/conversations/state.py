"""A talk folded from its events, without firing triggers (the machine's table says where each
event leads; a history it does not allow is an `InvalidHistoryError`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from workflows.codec import Event
from workflows.conversations.events import (
    InvitationSent,
    ParentsAccepted,
    ParentsAskedOtherTime,
    ParentsDeclined,
    ParentsViewGiven,
    Period,
    ReminderSent,
    TalkCancelled,
    TalkEscalated,
    TalkHeld,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
    TalkStatus,
)
from workflows.conversations.machine import TALK_DESTINATIONS, TRIGGER_OF, T
from workflows.errors import InvalidHistoryError


@dataclass(frozen=True)
class Talk:
    """A talk folded from its events (without firing triggers)."""

    status: TalkStatus = TalkStatus.REQUESTED
    version: int = 0
    request: TalkRequested | None = None
    start: datetime | None = None
    end: datetime | None = None
    room: str | None = None
    staff: tuple[str, ...] = ()
    sequence: int = -1
    """The invitation's SEQUENCE; -1 before the first plan."""
    proposed_on: datetime | None = None
    by_planner: bool = False
    accepted_by: frozenset[str] = frozenset()
    unavailable: tuple[Period, ...] = ()
    preferred: tuple[Period, ...] = ()
    invitations: frozenset[tuple[int, str, str]] = frozenset()
    """(sequence, parent id, kind) of every invitation sent."""
    reminded: frozenset[int] = frozenset()
    escalations: frozenset[str] = frozenset()
    answered_on: datetime | None = None
    """When parents last answered the current proposal (accept, other time, decline)."""
    views: int = 0
    held_on: date | None = None
    risk: str | None = None
    """What the last escalation said, until the talk moves on (planned, answered, closed)."""

    @property
    def requested(self) -> TalkRequested:
        if self.request is None:
            raise InvalidHistoryError("a talk without its request")
        return self.request

    @property
    def planned(self) -> bool:
        return self.status in (T.PROPOSED, T.ACCEPTED, T.OTHER_TIME_ASKED)

    @property
    def closed(self) -> bool:
        return self.status in (T.HELD, T.DECLINED)


def evolve(talk: Talk, event: Event) -> Talk:  # noqa: PLR0912 - one case per event
    trigger = TRIGGER_OF.get(type(event))
    if trigger is None:
        raise InvalidHistoryError(f"not a talk event: {event.event_type}")
    if talk.version == 0 and not isinstance(event, TalkRequested):
        raise InvalidHistoryError("a talk starts with its request")
    status = TALK_DESTINATIONS.get((talk.status, trigger))
    if status is None:
        raise InvalidHistoryError(f"{event.event_type} in {talk.status.value}")
    talk = replace(talk, status=status, version=talk.version + 1)
    if trigger in _SETTLES_RISK:
        talk = replace(talk, risk=None)
    match event:
        case TalkRequested():
            return replace(talk, request=event)
        case TalkPlanned() | TalkMoved():
            on = event.planned_on if isinstance(event, TalkPlanned) else event.moved_on
            return replace(
                talk,
                start=event.start,
                end=event.end,
                room=event.room,
                staff=event.staff,
                sequence=event.sequence,
                proposed_on=on,
                by_planner=isinstance(event, TalkPlanned) and event.by_planner,
                accepted_by=frozenset(),
                answered_on=None,
            )
        case TalkCancelled():
            return replace(talk, sequence=event.sequence, accepted_by=frozenset())
        case InvitationSent():
            sent = (event.sequence, event.parent_id, event.kind.value)
            return replace(talk, invitations=talk.invitations | {sent})
        case ParentsAccepted():
            return replace(
                talk, accepted_by=talk.accepted_by | {event.parent_id}, answered_on=event.on
            )
        case ParentsAskedOtherTime():
            return replace(
                talk,
                unavailable=_merge(talk.unavailable, event.unavailable),
                preferred=event.preferred or talk.preferred,
                accepted_by=frozenset(),
                answered_on=event.on,
            )
        case ParentsDeclined():
            return replace(talk, answered_on=event.on)
        case ParentsViewGiven():
            return replace(talk, views=talk.views + 1)
        case TalkHeld():
            return replace(talk, held_on=event.held_on)
        case ReminderSent():
            return replace(talk, reminded=talk.reminded | {event.sequence})
        case TalkEscalated():
            return replace(talk, escalations=talk.escalations | {event.code}, risk=event.message)
    return talk


_SETTLES_RISK = frozenset({"plan", "move", "cancel", "accept", "decline", "hold"})


def _merge(known: tuple[Period, ...], new: tuple[Period, ...]) -> tuple[Period, ...]:
    return tuple(dict.fromkeys([*known, *new]))


def fold_talk(history: Sequence[Event], start: Talk | None = None) -> Talk:
    talk = start or Talk()
    for event in history:
        talk = evolve(talk, event)
    return talk
