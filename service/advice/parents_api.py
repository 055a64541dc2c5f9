"""HTTP routes for what involves parents beyond the advice itself, and for leaving school.

Parents may ask for another advice (there is no formal bezwaar; the school decides and records
why — directie, who is accountable for the advice); the OKR-gesprek in which parents see the
onderwijskundig rapport and may add their view; and the pupil leaving the school.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from service.accounts.roles import Role
from service.advice.routing import (
    COMMAND_ERRORS,
    AdviceCode,
    CommandAccepted,
    FreeText,
    NarrowedTo,
    PupilCommand,
    PupilCommandDep,
    advice_of,
)
from workflows.commands import (
    DecideObjection,
    ReceiveObjection,
    RecordLeaving,
    RecordOkrConversation,
)

router = APIRouter(prefix="/api/v1", tags=["ouders en vertrek"])

_KEYED = uuid.UUID("5d0f7f2e-8c3b-4f7e-b1a2-9e4c6d8a0b13")  # namespace for keyed objection ids
DIRECTIE_ONLY = NarrowedTo(frozenset({Role.DIRECTIE}), "een besluit op een verzoek van ouders")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectionIn(_Body):
    received_on: date
    summary: Annotated[FreeText, Field(min_length=1, description="What the parents ask, and why")]
    requested_advice: AdviceCode | None = Field(
        default=None, description="The advice the parents ask for, if they name one"
    )


class ObjectionAccepted(CommandAccepted):
    objection_id: str = Field(description="The request's id, for the decision")


class ObjectionDecisionIn(_Body):
    decided_on: date
    granted: bool
    motivation: Annotated[FreeText, Field(min_length=1)]
    new_advice: AdviceCode | None = Field(
        default=None, description="When granted: the (higher) advice the pupil now gets"
    )


class OkrConversationIn(_Body):
    held_on: date
    parents_saw_okr: bool = Field(description="Parents saw the onderwijskundig rapport first")
    parents_view: FreeText | None = Field(default=None, description="The parents' zienswijze")


class LeavingIn(_Body):
    left_on: date
    destination: FreeText | None = Field(
        default=None, max_length=200, description="The VO school, if known"
    )


@router.post(
    "/pupils/{pupil_id}/objections",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record the parents' request for another advice",
)
def receive_objection(body: ObjectionIn, command: PupilCommandDep) -> ObjectionAccepted:
    key = command.idempotency_key
    # A retry with the same Idempotency-Key must be the same command: the id follows the key.
    objection_id = str(uuid.uuid5(_KEYED, f"{command.pupil_id}/{key}") if key else uuid.uuid4())
    accepted = command.run(
        ReceiveObjection(
            objection_id=objection_id,
            received_on=body.received_on,
            summary=body.summary,
            requested_advice=advice_of(body.requested_advice),
        )
    )
    return ObjectionAccepted(**accepted.model_dump(), objection_id=objection_id)


@router.post(
    "/pupils/{pupil_id}/objections/{objection_id}/decision",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Decide the parents' request (directie): grant it with a higher advice, or refuse",
)
def decide_objection(
    objection_id: Annotated[str, Path(max_length=64)],
    body: ObjectionDecisionIn,
    command: Annotated[PupilCommand, Depends(DIRECTIE_ONLY)],
) -> CommandAccepted:
    return command.run(
        DecideObjection(
            objection_id=objection_id,
            decided_on=body.decided_on,
            granted=body.granted,
            motivation=body.motivation,
            new_advice=advice_of(body.new_advice),
        ),
    )


@router.post(
    "/pupils/{pupil_id}/okr-conversation",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record the OKR-gesprek: parents saw the onderwijskundig rapport, and their view",
)
def record_okr_conversation(body: OkrConversationIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(
        RecordOkrConversation(
            held_on=body.held_on,
            parents_saw_okr=body.parents_saw_okr,
            parents_view=body.parents_view,
        )
    )


@router.post(
    "/pupils/{pupil_id}/leaving",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record that the pupil left the school",
)
def record_leaving(body: LeavingIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(RecordLeaving(left_on=body.left_on, destination=body.destination))
