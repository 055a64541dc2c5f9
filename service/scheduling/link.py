"""The heroverweging talk's echo on the pupil's trajectory: which trajectory command a talk's
new events mean, so that the trajectory's guard `conversation_settled` sees the talk.

A plan is `PlanConversation` (or `MoveConversation` when the trajectory already has a planned
conversation, e.g. one planned before talks existed), a move `MoveConversation`, a cancel
`CancelConversation` (only of a planned conversation), a held talk `RecordConversationHeld`
and declining parents `RecordConversationDeclined`. The trajectory's own rules decide it with
the school's policy in the same unit of work, and refuse the same way (a time in the past,
the pupil no longer in heroverweging). Once the trajectory's conversation is held or declined,
nothing more is echoed; cancel, held and declined are echoed only while the heroverweging is open.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    TalkCancelled,
    TalkHeld,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
)
from workflows.lifecycle import ConversationStatus, Status
from workflows.trajectory import Trajectory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
C = ConversationStatus
REPLANNED = "opnieuw gepland via de gespreksplanning"


def _today(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


def trajectory_commands(
    state: Trajectory, request: TalkRequested, events: Sequence[Event], now: datetime
) -> list[Command]:
    """The trajectory commands the talk's `events` mean for the pupil (often none)."""
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
