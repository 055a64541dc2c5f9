"""The talk's commands and `decide_talk(history, command, now)`: pure, no clock, no I/O.

Each command's trigger is fired on the shared machine first (a move of a held talk, an acceptance
of a cancelled one: refused by the status), then its own rules: no time in the past, the end
before the deadline, only invited parents answer, a reason for a move or cancel, free text at
most `MAX_TEXT` characters. A repeated reminder, escalation of the same cause or acceptance
decides nothing (an empty list), so the worker and the parents' page may ask again safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.calendar import school_day
from workflows.codec import Event, PersonalText
from workflows.conversations.events import (
    InvitationKind,
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
    TalkKind,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
)
from workflows.conversations.machine import fire_talk
from workflows.conversations.state import Talk, fold_talk
from workflows.enums import ConversationParty
from workflows.errors import DomainError


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
    unknown_attendees: tuple[str, ...] = ()
    """Whom the setting asks for but nobody could name (`Attendee` values)."""


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
        unknown_attendees=tuple(command.unknown_attendees),
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
            f"het gesprek moet uiterlijk op de dag van de deadline "
            f"({_last_day(talk.requested.deadline):%d-%m-%Y}) zijn",
            field="start",
        )


def _last_day(deadline: datetime) -> date:
    """The day a deadline belongs to: one kept as the next midnight ends the day before."""
    return (deadline - timedelta(microseconds=1)).date()


def _invited(talk: Talk, parent_id: str) -> None:
    if talk.requested.parents and parent_id not in talk.requested.parents:
        raise DomainError("parent_not_invited", "deze ouder is niet voor dit gesprek uitgenodigd")


def _not_over(talk: Talk, now: datetime) -> None:
    if talk.end is not None and talk.end <= now:
        raise DomainError("talk_over", "het gesprek is al voorbij")


def _held(talk: Talk, command: HoldTalk, now: datetime) -> TalkHeld:
    if command.held_on > school_day(now):
        raise DomainError(
            "date_in_future",
            f"{command.held_on.isoformat()} ligt in de toekomst; leg vast wat al gebeurd is",
            field="held_on",
        )
    if talk.planned and talk.start is not None and command.held_on < school_day(talk.start):
        # a talk still planned for a later day has not been held yet (a date defaulting to
        # today recorded a talk months early and unlocked the decision)
        raise DomainError(
            "held_before_planned",
            f"het gesprek staat gepland op {school_day(talk.start):%d-%m-%Y} en kan niet op "
            f"{command.held_on:%d-%m-%Y} gevoerd zijn; is het eerder gevoerd, zeg het dan eerst af "
            "en leg daarna vast op welke dag het gevoerd is",
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
