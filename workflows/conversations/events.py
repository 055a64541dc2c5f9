"""The talk's vocabulary: kinds, statuses (Dutch labels), periods and its twelve events.

Events are frozen dataclasses in the past tense on the trajectory's codec machinery (`TALK_CODEC`,
stable `event_type` strings, schema versions); free text is `PersonalText`, sealed per pupil.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from workflows.codec import Event, EventCodec, PersonalText
from workflows.enums import ConversationParty


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
    REMINDER = "reminder"
    """The reminder before the talk (the invitation again, same SEQUENCE)."""


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
    schema_version = 2

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
    unknown_attendees: tuple[str, ...] = ()
    """Whom the school's setting asks for but the service could not name (`Attendee` values,
    e.g. "groep_7_teacher"): the talk is planned without them and says so. New in v2."""


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


def _talk_requested_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A talk requested before v2 named everyone the setting asked for."""
    data.setdefault("unknown_attendees", [])
    return data


TALK_CODEC = EventCodec(TALK_EVENTS, {("talk_requested", 1): _talk_requested_v1_to_v2})
TALK_EVENT_TYPES = TALK_CODEC.event_types


def talk_stream(talk_id: str) -> str:
    return f"conversation-{talk_id}"
