"""HTTP routes for the heroverweging: the conversation with parents and pupil, and the decision.

The conversation is planned (the scheduler proposes, a person confirms), moved, cancelled, and
then held or declined by the parents — through the pupil's heroverweging talk
(`service.scheduling.conversation_api`), so a time is checked as the planner plans. The decision
raises the advice — fully, or partly with a reason — or keeps it with a reason and motivation.
The domain enforces the law (never lower, never above the toetsadvies, a reason when not raised
fully).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.advice.routing import (
    COMMAND_ERRORS,
    AdviceCode,
    CommandAccepted,
    FreeText,
    PupilCommandDep,
)
from service.scheduling.conversation_api import run_conversation
from workflows.commands import (
    CancelConversation,
    KeepAdvice,
    MoveConversation,
    PlanConversation,
    RaiseAdvice,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty, KeepReason
from workflows.scale import SchoolAdvice

router = APIRouter(prefix="/api/v1", tags=["heroverweging"])

Reason = Annotated[FreeText, Field(min_length=1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanIn(_Body):
    planned_at: AwareDatetime = Field(description="When, with its time zone")
    with_pupil: bool = Field(default=True, description="The pupil takes part too")


class MoveIn(_Body):
    planned_at: AwareDatetime
    reason: Reason


class CancelIn(_Body):
    cancelled_on: date
    reason: Reason


class HeldIn(_Body):
    outcome: Literal["held"]
    held_on: date
    attendees: list[ConversationParty] = Field(min_length=1, max_length=5)
    notes: FreeText | None = None


class DeclinedIn(_Body):
    outcome: Literal["declined"] = Field(description="The parents declined the conversation")
    declined_on: date
    notes: FreeText | None = None


class RaiseIn(_Body):
    outcome: Literal["raise"]
    advice: AdviceCode
    decided_on: date
    reason: KeepReason | None = Field(default=None, description="Required when raised partly")
    motivation: FreeText | None = None


class KeepIn(_Body):
    outcome: Literal["keep"]
    decided_on: date
    reason: KeepReason
    motivation: Reason


ConversationOutcomeIn = Annotated[HeldIn | DeclinedIn, Field(discriminator="outcome")]
DecisionIn = Annotated[RaiseIn | KeepIn, Field(discriminator="outcome")]


@router.post(
    "/pupils/{pupil_id}/reconsideration/conversation",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Plan the heroverwegingsgesprek with parents (and pupil)",
)
def plan_conversation(body: PlanIn, command: PupilCommandDep) -> CommandAccepted:
    return run_conversation(
        command, PlanConversation(planned_at=body.planned_at, with_pupil=body.with_pupil)
    )


@router.post(
    "/pupils/{pupil_id}/reconsideration/conversation/moves",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Move the planned conversation to another time (with the reason)",
)
def move_conversation(body: MoveIn, command: PupilCommandDep) -> CommandAccepted:
    return run_conversation(
        command, MoveConversation(planned_at=body.planned_at, reason=body.reason)
    )


@router.post(
    "/pupils/{pupil_id}/reconsideration/conversation/cancellation",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Cancel the planned conversation (with the reason)",
)
def cancel_conversation(body: CancelIn, command: PupilCommandDep) -> CommandAccepted:
    return run_conversation(
        command, CancelConversation(cancelled_on=body.cancelled_on, reason=body.reason)
    )


@router.post(
    "/pupils/{pupil_id}/reconsideration/conversation/outcome",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record that the conversation was held, or that the parents declined it",
)
def record_conversation_outcome(
    body: ConversationOutcomeIn, command: PupilCommandDep
) -> CommandAccepted:
    if isinstance(body, HeldIn):
        return run_conversation(
            command,
            RecordConversationHeld(
                held_on=body.held_on, attendees=tuple(body.attendees), notes=body.notes
            ),
        )
    return run_conversation(
        command, RecordConversationDeclined(declined_on=body.declined_on, notes=body.notes)
    )


@router.post(
    "/pupils/{pupil_id}/reconsideration/decision",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Decide the heroverweging: raise the advice (fully or partly) or keep it",
)
def decide_reconsideration(body: DecisionIn, command: PupilCommandDep) -> CommandAccepted:
    if isinstance(body, RaiseIn):
        return command.run(
            RaiseAdvice(
                advice=SchoolAdvice(body.advice),
                decided_on=body.decided_on,
                reason=body.reason,
                motivation=body.motivation,
            )
        )
    return command.run(
        KeepAdvice(decided_on=body.decided_on, reason=body.reason, motivation=body.motivation)
    )
