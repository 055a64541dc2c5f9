"""The talk: one conversation with a pupil's parents (and the pupil), from request to held.

A talk lives on its own stream `conversation-<talk_id>`: it is requested (kind, who of the school
attends, the deadline and the latest end that leaves a margin to record the decision, the family
and the invited parents), planned by the planner or a person, moved, cancelled, answered by the
parents (accepted, another time asked with their unavailable times, declined, their zienswijze),
and finally held. `sequence` is the iCalendar SEQUENCE of the invitation: 0 with the first plan,
one up on every later plan, move and cancel. Free text (reasons, the parents' messages and
zienswijze, the notes of the talk) is `PersonalText`, sealed per pupil like the trajectory's.
The status follows a small `transitions` machine declared as data and shared (as
`workflows.lifecycle`); `decide_talk(history, command, now)` is pure and refuses with a
`DomainError` carrying a stable code and a Dutch message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from transitions import Machine, MachineError

from workflows.codec import Event, EventCodec, PersonalText
from workflows.enums import ConversationParty
from workflows.errors import DomainError, InvalidHistoryError


class TalkKind(Enum):
    __hash__ = object.__hash__

    RECONSIDERATION = "reconsideration"
    PROVISIONAL_ADVICE = "provisional_advice"
    OKR = "okr"
    ROUND = "round"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


class TalkStatus(Enum):
    __hash__ = object.__hash__

    REQUESTED = "requested"
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    OTHER_TIME_ASKED = "other_time_asked"
    HELD = "held"
    DECLINED = "declined"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


class InvitationKind(Enum):
    INVITATION = "invitation"
    UPDATE = "update"
    CANCEL = "cancel"


_KIND_LABELS = {
    TalkKind.RECONSIDERATION: "heroverwegingsgesprek",
    TalkKind.PROVISIONAL_ADVICE: "voorlopig-adviesgesprek",
    TalkKind.OKR: "OKR-gesprek",
    TalkKind.ROUND: "gesprek",
}
_STATUS_LABELS = {
    TalkStatus.REQUESTED: "nog in te plannen",
    TalkStatus.PROPOSED: "voorgesteld, wacht op ouders",
    TalkStatus.ACCEPTED: "bevestigd door ouders",
    TalkStatus.OTHER_TIME_ASKED: "ouders vragen een ander moment",
    TalkStatus.HELD: "gevoerd",
    TalkStatus.DECLINED: "ouders zien af van het gesprek",
    TalkStatus.CANCELLED: "afgezegd",
}


@dataclass(frozen=True, kw_only=True)
class Period:
    """A stretch of time, [start, end), with time zones (the parents' unavailable times)."""

    start: datetime
    end: datetime


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TalkRequested(Event):
    event_type = "talk_requested"

    kind: TalkKind
    pupil_id: str
    school_id: str
    school_year: str
    round_key: str
    """Whose availability the talk is planned in: "reconsideration" or the round's name."""
    deadline: datetime
    latest_end: datetime
    """The deadline minus the margin to record the decision: the talk ends before it."""
    minutes: int
    staff: tuple[str, ...]
    """User ids of the school who all attend."""
    staff_any: tuple[tuple[str, ...], ...]
    """Per group one of them attends (duo teachers)."""
    with_pupil: bool
    online: bool
    family: str
    """A stable key of the parents' addresses: siblings share it (back to back, never at once)."""
    parents: tuple[str, ...]
    """The parent ids invited (register `parents.id`)."""
    requested_on: datetime


@dataclass(frozen=True, kw_only=True)
class TalkPlanned(Event):
    event_type = "talk_planned"

    start: datetime
    end: datetime
    room: str | None
    staff: tuple[str, ...]
    by_planner: bool
    sequence: int
    planned_on: datetime


@dataclass(frozen=True, kw_only=True)
class TalkMoved(Event):
    event_type = "talk_moved"

    start: datetime
    end: datetime
    room: str | None
    staff: tuple[str, ...]
    reason: PersonalText
    sequence: int
    asked_by_parents: bool
    moved_on: datetime


@dataclass(frozen=True, kw_only=True)
class TalkCancelled(Event):
    event_type = "talk_cancelled"

    reason: PersonalText
    sequence: int
    cancelled_on: datetime


@dataclass(frozen=True, kw_only=True)
class InvitationSent(Event):
    event_type = "talk_invitation_sent"

    sequence: int
    parent_id: str
    kind: InvitationKind
    sent_on: datetime


@dataclass(frozen=True, kw_only=True)
class ParentsAccepted(Event):
    event_type = "talk_parents_accepted"

    parent_id: str
    on: datetime
    sequence: int


@dataclass(frozen=True, kw_only=True)
class ParentsAskedOtherTime(Event):
    event_type = "talk_parents_asked_other_time"

    parent_id: str
    on: datetime
    message: PersonalText | None
    unavailable: tuple[Period, ...]
    preferred: tuple[Period, ...]


@dataclass(frozen=True, kw_only=True)
class ParentsDeclined(Event):
    """The parents decline the talk; `parent_id` None when the school records it for them."""

    event_type = "talk_parents_declined"

    parent_id: str | None
    on: datetime
    message: PersonalText | None


@dataclass(frozen=True, kw_only=True)
class ParentsViewGiven(Event):
    """The parents' zienswijze, written before the talk."""

    event_type = "talk_parents_view_given"

    parent_id: str
    on: datetime
    text: PersonalText


@dataclass(frozen=True, kw_only=True)
class TalkHeld(Event):
    event_type = "talk_held"

    held_on: date
    attendees: tuple[ConversationParty, ...]
    notes: PersonalText | None


@dataclass(frozen=True, kw_only=True)
class ReminderSent(Event):
    event_type = "talk_reminder_sent"

    sequence: int
    on: datetime


@dataclass(frozen=True, kw_only=True)
class TalkEscalated(Event):
    """Directie warned: `code` no_slot_before_deadline, no_proposal_in_time or no_answer."""

    event_type = "talk_escalated"

    code: str
    message: str
    on: datetime


TALK_EVENTS: tuple[type[Event], ...] = (
    TalkRequested,
    TalkPlanned,
    TalkMoved,
    TalkCancelled,
    InvitationSent,
    ParentsAccepted,
    ParentsAskedOtherTime,
    ParentsDeclined,
    ParentsViewGiven,
    TalkHeld,
    ReminderSent,
    TalkEscalated,
)
TALK_CODEC = EventCodec(TALK_EVENTS)
TALK_EVENT_TYPES = TALK_CODEC.event_types


def talk_stream(talk_id: str) -> str:
    return f"conversation-{talk_id}"


# -- the status machine, as data ------------------------------------------------------------------

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


# -- state ----------------------------------------------------------------------------------------


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


# -- commands -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RequestTalk:
    kind: TalkKind
    pupil_id: str
    school_id: str
    school_year: str
    round_key: str
    deadline: datetime
    latest_end: datetime
    minutes: int
    staff: tuple[str, ...] = ()
    staff_any: tuple[tuple[str, ...], ...] = ()
    with_pupil: bool = True
    online: bool = False
    family: str = ""
    parents: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlanTalk:
    start: datetime
    end: datetime
    room: str | None
    staff: tuple[str, ...]
    by_planner: bool = False


@dataclass(frozen=True, kw_only=True)
class MoveTalk:
    start: datetime
    end: datetime
    room: str | None
    staff: tuple[str, ...]
    reason: str
    asked_by_parents: bool = False


@dataclass(frozen=True, kw_only=True)
class CancelTalk:
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordInvitation:
    parent_id: str
    kind: InvitationKind


@dataclass(frozen=True, kw_only=True)
class AcceptTalk:
    parent_id: str


@dataclass(frozen=True, kw_only=True)
class AskOtherTime:
    parent_id: str
    message: str | None = None
    unavailable: tuple[Period, ...] = ()
    preferred: tuple[Period, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeclineTalk:
    parent_id: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class GiveView:
    parent_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class HoldTalk:
    held_on: date
    attendees: tuple[ConversationParty, ...]
    notes: str | None = None


@dataclass(frozen=True, kw_only=True)
class SendReminder:
    pass


@dataclass(frozen=True, kw_only=True)
class EscalateTalk:
    code: str
    message: str


TalkCommand = (
    RequestTalk
    | PlanTalk
    | MoveTalk
    | CancelTalk
    | RecordInvitation
    | AcceptTalk
    | AskOtherTime
    | DeclineTalk
    | GiveView
    | HoldTalk
    | SendReminder
    | EscalateTalk
)
MAX_TEXT = 4000
"""Free text the parents or the school write, at most this many characters."""


def decide_talk(history: Sequence[Event], command: TalkCommand, now: datetime) -> list[Event]:
    """The events that follow from `command` on the talk `history`, or a DomainError why not.

    A repeated reminder or escalation of the same cause decides nothing (an empty list), so the
    worker's rounds can ask again safely."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return decide_on_talk(fold_talk(history), command, now)


def decide_on_talk(talk: Talk, command: TalkCommand, now: datetime) -> list[Event]:
    if isinstance(command, RequestTalk):
        if talk.version:
            raise DomainError("talk_already_requested", "dit gesprek is al aangevraagd")
        return [_request(command, now)]
    if talk.version == 0:
        raise DomainError("talk_unknown", "dit gesprek bestaat niet")
    match command:
        case PlanTalk():
            fire_talk(talk.status, "plan")
            _check_time(talk, command.start, command.end, now)
            return [
                TalkPlanned(
                    start=command.start,
                    end=command.end,
                    room=command.room,
                    staff=tuple(command.staff),
                    by_planner=command.by_planner,
                    sequence=talk.sequence + 1,
                    planned_on=now,
                )
            ]
        case MoveTalk():
            fire_talk(talk.status, "move")
            _check_time(talk, command.start, command.end, now)
            if (command.start, command.room, tuple(command.staff)) == (
                talk.start,
                talk.room,
                talk.staff,
            ):
                raise DomainError(
                    "talk_not_moved", "het gesprek staat al op dit tijdstip", field="start"
                )
            return [
                TalkMoved(
                    start=command.start,
                    end=command.end,
                    room=command.room,
                    staff=tuple(command.staff),
                    reason=_required(command.reason, "reason", "geef de reden van verzetten"),
                    sequence=talk.sequence + 1,
                    asked_by_parents=command.asked_by_parents,
                    moved_on=now,
                )
            ]
        case CancelTalk():
            fire_talk(talk.status, "cancel")
            return [
                TalkCancelled(
                    reason=_required(command.reason, "reason", "geef de reden van afzeggen"),
                    sequence=talk.sequence + 1,
                    cancelled_on=now,
                )
            ]
        case _:
            return _decide_answer(talk, command, now)


def _decide_answer(talk: Talk, command: TalkCommand, now: datetime) -> list[Event]:  # noqa: PLR0912
    match command:
        case RecordInvitation():
            fire_talk(talk.status, "invite")
            _invited(talk, command.parent_id)
            return [
                InvitationSent(
                    sequence=talk.sequence,
                    parent_id=command.parent_id,
                    kind=command.kind,
                    sent_on=now,
                )
            ]
        case AcceptTalk():
            fire_talk(talk.status, "accept")
            _invited(talk, command.parent_id)
            _not_over(talk, now)
            if command.parent_id in talk.accepted_by:
                return []
            return [ParentsAccepted(parent_id=command.parent_id, on=now, sequence=talk.sequence)]
        case AskOtherTime():
            fire_talk(talk.status, "ask_other_time")
            _invited(talk, command.parent_id)
            _not_over(talk, now)
            for period in (*command.unavailable, *command.preferred):
                if period.start.tzinfo is None or period.end <= period.start:
                    raise DomainError(
                        "bad_period", "een periode loopt van een begin naar een later eind"
                    )
            return [
                ParentsAskedOtherTime(
                    parent_id=command.parent_id,
                    on=now,
                    message=_optional(command.message, "message"),
                    unavailable=tuple(command.unavailable),
                    preferred=tuple(command.preferred),
                )
            ]
        case DeclineTalk():
            fire_talk(talk.status, "decline")
            if command.parent_id is not None:
                _invited(talk, command.parent_id)
            return [
                ParentsDeclined(
                    parent_id=command.parent_id,
                    on=now,
                    message=_optional(command.message, "message"),
                )
            ]
        case GiveView():
            fire_talk(talk.status, "give_view")
            _invited(talk, command.parent_id)
            text = _required(command.text, "text", "schrijf uw zienswijze")
            return [ParentsViewGiven(parent_id=command.parent_id, on=now, text=text)]
        case HoldTalk():
            fire_talk(talk.status, "hold")
            return [_held(talk, command, now)]
        case SendReminder():
            fire_talk(talk.status, "remind")
            if talk.sequence in talk.reminded:
                return []
            return [ReminderSent(sequence=talk.sequence, on=now)]
        case EscalateTalk():
            fire_talk(talk.status, "escalate")
            if command.code in talk.escalations:
                return []
            return [TalkEscalated(code=command.code, message=command.message, on=now)]
    raise TypeError(f"not a talk command: {type(command).__name__}")


def _request(command: RequestTalk, now: datetime) -> TalkRequested:
    if command.deadline.tzinfo is None or command.latest_end.tzinfo is None:
        raise DomainError("time_without_zone", "geef de tijden met tijdzone", field="deadline")
    if command.latest_end > command.deadline:
        raise DomainError(
            "latest_end_after_deadline",
            "het gesprek moet vóór de deadline afgelopen zijn",
            field="latest_end",
        )
    if command.minutes <= 0 or command.minutes > 240:
        raise DomainError("bad_minutes", "een gesprek duurt 1 tot 240 minuten", field="minutes")
    if not command.staff and not command.staff_any:
        raise DomainError(
            "no_staff", "er is niemand van de school die het gesprek kan voeren", field="staff"
        )
    return TalkRequested(
        kind=command.kind,
        pupil_id=command.pupil_id,
        school_id=command.school_id,
        school_year=command.school_year,
        round_key=command.round_key,
        deadline=command.deadline,
        latest_end=command.latest_end,
        minutes=command.minutes,
        staff=tuple(command.staff),
        staff_any=tuple(tuple(g) for g in command.staff_any),
        with_pupil=command.with_pupil,
        online=command.online,
        family=command.family,
        parents=tuple(command.parents),
        requested_on=now,
    )


def _check_time(talk: Talk, start: datetime, end: datetime, now: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError("time_without_zone", "geef het tijdstip met tijdzone", field="start")
    if start <= now:
        raise DomainError(
            "talk_in_past",
            "plan een gesprek in de toekomst; een gevoerd gesprek legt u vast als gevoerd",
            field="start",
        )
    if end <= start:
        raise DomainError("talk_ends_before_start", "het gesprek eindigt na het begin", field="end")
    if end > talk.requested.deadline:
        raise DomainError(
            "after_deadline",
            f"het gesprek moet vóór de deadline ({talk.requested.deadline:%d-%m-%Y}) zijn",
            field="start",
        )


def _invited(talk: Talk, parent_id: str) -> None:
    if talk.requested.parents and parent_id not in talk.requested.parents:
        raise DomainError("parent_not_invited", "deze ouder is niet voor dit gesprek uitgenodigd")


def _not_over(talk: Talk, now: datetime) -> None:
    if talk.end is not None and talk.end <= now:
        raise DomainError("talk_over", "het gesprek is al voorbij")


def _held(talk: Talk, command: HoldTalk, now: datetime) -> TalkHeld:
    if command.held_on > now.date():
        raise DomainError(
            "date_in_future",
            f"{command.held_on.isoformat()} ligt in de toekomst; leg vast wat al gebeurd is",
            field="held_on",
        )
    if talk.requested.kind is TalkKind.RECONSIDERATION and (
        ConversationParty.PARENTS not in command.attendees
    ):
        raise DomainError(
            "conversation_without_parents",
            "het heroverwegingsgesprek is met de ouders; zien zij ervan af, leg dat dan vast",
            field="attendees",
        )
    return TalkHeld(
        held_on=command.held_on,
        attendees=tuple(dict.fromkeys(command.attendees)),
        notes=_optional(command.notes, "notes"),
    )


def _required(text: str | None, name: str, message: str) -> PersonalText:
    found = _optional(text, name)
    if found is None:
        raise DomainError("text_missing", message, field=name)
    return found


def _optional(text: str | None, name: str) -> PersonalText | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_TEXT:
        raise DomainError("text_too_long", f"ten hoogste {MAX_TEXT} tekens", field=name)
    return PersonalText(text.strip())
