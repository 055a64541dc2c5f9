"""The heroverweging talk's echo on the pupil's trajectory: which trajectory command a talk's
new events mean, so that the trajectory's guard `conversation_settled` sees the talk.

A plan is `PlanConversation` (or `MoveConversation` when the trajectory already has a planned
conversation, e.g. one planned before talks existed), a move `MoveConversation`, a cancel
`CancelConversation` (only of a planned conversation), a held talk `RecordConversationHeld`
and declining parents `RecordConversationDeclined`. The trajectory's own rules decide it with
the school's policy in the same unit of work, and refuse the same way (a time in the past,
the pupil no longer in heroverweging). Once the trajectory's conversation is held or declined,
nothing more is echoed; cancel, held and declined are echoed only while the heroverweging is open.

With the school's `separate_parents` a heroverweging has a talk per parent (`others`: the other
parents' talks, as they stand). The trajectory has one conversation, so the echo keeps it
truthful: it shows the time of one planned talk (a second parent's talk planned beside it
changes nothing; when the talk it shows is cancelled while another parent's still stands, the
trajectory's conversation is cancelled and planned again at that one's time); it is held only
when the last open talk is settled — every talk held or declined by its parents, a talk the
school cancelled is not settled — held when at least one was held (the date of the last, the
attendees and notes of every held talk), declined when all parents declined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from workflows.codec import Event
from workflows.commands import (
    CancelConversation,
    Command,
    MoveConversation,
    PlanConversation,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.conversations import (
    ParentsDeclined,
    Talk,
    TalkCancelled,
    TalkHeld,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
    TalkStatus,
    fold_talk,
)
from workflows.enums import ConversationParty
from workflows.lifecycle import ConversationStatus, Status
from workflows.rules_common import MAX_TEXT
from workflows.trajectory import Trajectory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
C = ConversationStatus
REPLANNED = "opnieuw gepland via de gespreksplanning"


def _today(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


@dataclass(frozen=True)
class Other:
    """Another parent's talk of the same heroverweging, as it stands (not requested yet: a
    plain `Talk()`, which is open)."""

    talk: Talk
    held: TalkHeld | None = None
    declined: ParentsDeclined | None = None

    @classmethod
    def of(cls, history: Sequence[Event]) -> Other:
        held = [e for e in history if isinstance(e, TalkHeld)]
        declined = [e for e in history if isinstance(e, ParentsDeclined)]
        return cls(
            fold_talk(history),
            held[-1] if held else None,
            declined[-1] if declined else None,
        )


def trajectory_commands(
    state: Trajectory,
    request: TalkRequested,
    events: Sequence[Event],
    now: datetime,
    talk: Talk | None = None,
    others: Sequence[Other] = (),
) -> list[Command]:
    """The trajectory commands the talk's `events` mean for the pupil (often none); `talk` is
    the talk before them, `others` the other parents' talks of this heroverweging."""
    if others:
        return _with_others(state, request, events, now, talk or Talk(), others)
    commands: list[Command] = []
    conversation, planned_at = state.conversation, state.conversation_planned_at
    open_ = state.status is Status.RECONSIDERATION_REQUIRED
    for event in events:
        if conversation in (C.HELD, C.DECLINED):
            break
        match event:
            case TalkPlanned() | TalkMoved():
                if conversation is C.PLANNED:
                    if planned_at == event.start:
                        continue
                    reason = event.reason if isinstance(event, TalkMoved) else REPLANNED
                    commands.append(MoveConversation(planned_at=event.start, reason=reason))
                else:
                    commands.append(
                        PlanConversation(planned_at=event.start, with_pupil=request.with_pupil)
                    )
                conversation, planned_at = C.PLANNED, event.start
            case TalkCancelled() if open_ and conversation is C.PLANNED:
                commands.append(CancelConversation(cancelled_on=_today(now), reason=event.reason))
                conversation, planned_at = C.CANCELLED, None
            case TalkHeld() if open_:
                commands.append(
                    RecordConversationHeld(
                        held_on=event.held_on, attendees=event.attendees, notes=event.notes
                    )
                )
                conversation = C.HELD
            case ParentsDeclined() if open_:
                commands.append(
                    RecordConversationDeclined(declined_on=_today(now), notes=event.message)
                )
                conversation = C.DECLINED
    return commands


def _with_others(
    state: Trajectory,
    request: TalkRequested,
    events: Sequence[Event],
    now: datetime,
    talk: Talk,
    others: Sequence[Other],
) -> list[Command]:
    commands: list[Command] = []
    conversation, planned_at = state.conversation, state.conversation_planned_at
    open_ = state.status is Status.RECONSIDERATION_REQUIRED
    mine = talk.start if talk.planned else None
    standing = sorted(o.talk.start for o in others if o.talk.planned and o.talk.start)
    shows_other = planned_at is not None and planned_at != mine and planned_at in standing
    for event in events:
        if conversation in (C.HELD, C.DECLINED):
            break
        match event:
            case TalkPlanned() | TalkMoved():
                if conversation is not C.PLANNED:
                    commands.append(
                        PlanConversation(planned_at=event.start, with_pupil=request.with_pupil)
                    )
                    conversation, planned_at, shows_other = C.PLANNED, event.start, False
                elif not shows_other and planned_at != event.start:
                    reason = event.reason if isinstance(event, TalkMoved) else REPLANNED
                    commands.append(MoveConversation(planned_at=event.start, reason=reason))
                    planned_at = event.start
                mine = event.start
            case TalkCancelled() if open_ and conversation is C.PLANNED and not shows_other:
                commands.append(CancelConversation(cancelled_on=_today(now), reason=event.reason))
                conversation, planned_at = C.CANCELLED, None
                later = [s for s in standing if s > now]
                if later:  # another parent's talk still stands: the trajectory shows that one
                    commands.append(
                        PlanConversation(planned_at=later[0], with_pupil=request.with_pupil)
                    )
                    conversation, planned_at, shows_other = C.PLANNED, later[0], True
                mine = None
            case TalkHeld() | ParentsDeclined() if open_:
                settled = _settled(event, others, now)
                if settled is not None:
                    commands.append(settled)
                    conversation = (
                        C.HELD if isinstance(settled, RecordConversationHeld) else C.DECLINED
                    )
    return commands


def _settled(
    event: TalkHeld | ParentsDeclined, others: Sequence[Other], now: datetime
) -> Command | None:
    """The trajectory's outcome once this talk and every other one is held or declined by its
    parents; None while one is open or was cancelled by the school."""
    closed = (TalkStatus.HELD, TalkStatus.DECLINED)
    if any(o.talk.status not in closed for o in others):
        return None
    held = [o.held for o in others if o.talk.status is TalkStatus.HELD and o.held]
    declined = [o.declined for o in others if o.talk.status is TalkStatus.DECLINED]
    if isinstance(event, TalkHeld):
        held.append(event)
    else:
        declined.append(event)
    if held:
        attendees: list[ConversationParty] = []
        for h in held:
            attendees.extend(a for a in h.attendees if a not in attendees)
        notes = [h.notes for h in held if h.notes]
        return RecordConversationHeld(
            held_on=max(h.held_on for h in held),
            attendees=tuple(attendees),
            notes=_joined(notes),
        )
    messages = [d.message for d in declined if d and d.message]
    return RecordConversationDeclined(declined_on=_today(now), notes=_joined(messages))


CLIPPED = " … (ingekort; de volledige tekst staat bij elk gesprek)"


def _joined(texts: Sequence[str]) -> str | None:
    """The parents' talks' texts as one text for the trajectory, within what the trajectory
    takes (`rules_common.MAX_TEXT`; each talk's own is up to `conversations.MAX_TEXT`, so two
    together may be longer): clipped with a note, never refused, or the last talk could never
    be recorded and the decision would wait for good. The full texts stay on the talks."""
    if not texts:
        return None
    text = "\n\n".join(texts)
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - len(CLIPPED)].rstrip() + CLIPPED
