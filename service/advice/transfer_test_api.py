"""HTTP routes around the doorstroomtoets that the school records itself: an exemption, a pupil
who was verhinderd, the inhaaltoets, and a pupil for whom no result is possible.

The results themselves arrive from the test providers through the national chain standard
(the intake), not through these routes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from service.advice.routing import (
    COMMAND_ERRORS,
    SCHOOL_STAFF,
    CommandAccepted,
    FreeText,
    NarrowedTo,
    PupilCommand,
    PupilCommandDep,
)
from workflows.commands import GrantExemption, PlanCatchUpTest, RecordNoTestResult, RecordTestMissed
from workflows.enums import ExemptionGround

router = APIRouter(prefix="/api/v1", tags=["doorstroomtoets"])

Reason = Annotated[FreeText, Field(min_length=1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExemptionIn(_Body):
    ground: ExemptionGround = Field(description="The ground on which the board exempted the pupil")
    decided_on: date
    parents_consulted: bool = Field(
        default=False, description="Required for the newcomer ground (parents are consulted)"
    )


class TestMissedIn(_Body):
    missed_on: date
    reason: Reason


class CatchUpIn(_Body):
    planned_on: date = Field(description="The day of the inhaaltoets")


class NoResultIn(_Body):
    recorded_on: date
    reason: Reason


@router.post(
    "/pupils/{pupil_id}/exemption",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record the board's exemption from the doorstroomtoets (intern begeleider, directie)",
)
def grant_exemption(
    body: ExemptionIn,
    command: Annotated[PupilCommand, Depends(NarrowedTo(SCHOOL_STAFF, "een vrijstelling"))],
) -> CommandAccepted:
    return command.run(
        GrantExemption(
            ground=body.ground,
            decided_on=body.decided_on,
            parents_consulted=body.parents_consulted,
        ),
    )


@router.post(
    "/pupils/{pupil_id}/test-absence",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record that the pupil missed the doorstroomtoets (verhinderd)",
)
def record_test_missed(body: TestMissedIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(RecordTestMissed(missed_on=body.missed_on, reason=body.reason))


@router.post(
    "/pupils/{pupil_id}/catch-up-test",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Plan the inhaaltoets for a pupil who missed the test",
)
def plan_catch_up_test(body: CatchUpIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(PlanCatchUpTest(planned_on=body.planned_on))


@router.post(
    "/pupils/{pupil_id}/no-test-result",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record that no result is possible: the voorlopig advies becomes definitief",
)
def record_no_test_result(body: NoResultIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(RecordNoTestResult(recorded_on=body.recorded_on, reason=body.reason))
