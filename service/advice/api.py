"""HTTP routes for a pupil's advice: the trajectory as JSON, and every advice the school gives.

Oriënterend advies (groep 7), the move to groep 8, the voorlopig schooladvies and its correction,
the definitief schooladvies and the registration of an advice with DUO. Each route turns its body
into one domain command; the domain decides, `PupilCommand.run` stores and answers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from service.advice.routing import (
    COMMAND_ERRORS,
    READ_ERRORS,
    SCHOOL_STAFF,
    AdviceCode,
    CommandAccepted,
    FreeText,
    NarrowedTo,
    PupilCommand,
    PupilCommandDep,
    PupilId,
    advice_of,
    log_reads,
    pupil_in_reach,
)
from service.advice.trajectory_out import TrajectoryOut
from service.api.deps import ContainerDep, PrincipalDep
from workflows.commands import (
    CorrectProvisionalAdvice,
    GiveFinalAdvice,
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    MoveToGroep8,
    RecordNationalRegistration,
)
from workflows.enums import AdviceKind
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice

router = APIRouter(prefix="/api/v1", tags=["advice"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdviceIn(_Body):
    advice: AdviceCode
    given_on: date = Field(description="The day the advice was given to parents and pupil")


class ProvisionalAdviceIn(AdviceIn):
    motivation: FreeText | None = Field(
        default=None,
        description="What the advice rests on (development, work attitude, results), as parents "
        "and the VO school read it; stored encrypted, erasable",
    )


class CorrectionIn(_Body):
    advice: AdviceCode
    corrected_on: date
    reason: Annotated[FreeText, Field(min_length=1, description="Why the advice was wrong")]


class Groep8In(_Body):
    school_year: str = Field(
        pattern=r"^\d{4}-\d{4}$", description="The school year of groep 8", examples=["2026-2027"]
    )
    entered_on: date


class FinalAdviceIn(_Body):
    given_on: date
    advice: AdviceCode | None = Field(
        default=None,
        description="Only after a result review (vso, geen specifiek advies mogelijk); "
        "otherwise the advice follows from the test and the heroverweging",
    )


class RegistrationIn(_Body):
    kind: AdviceKind = Field(description="Which advice was sent to DUO's register (ROD)")
    sent_on: date


@router.post(
    "/pupils/{pupil_id}/orientation-advice",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record the oriënterend advies of groep 7",
)
def give_orientation_advice(body: AdviceIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(
        GiveOrientationAdvice(advice=SchoolAdvice(body.advice), given_on=body.given_on)
    )


@router.post(
    "/pupils/{pupil_id}/groep-8",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record that a groep 7 pupil entered groep 8",
)
def move_to_groep_8(body: Groep8In, command: PupilCommandDep) -> CommandAccepted:
    return command.run(MoveToGroep8(school_year=body.school_year, entered_on=body.entered_on))


@router.post(
    "/pupils/{pupil_id}/provisional-advice",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record the voorlopig schooladvies",
)
def give_provisional_advice(body: ProvisionalAdviceIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(
        GiveProvisionalAdvice(
            advice=SchoolAdvice(body.advice), given_on=body.given_on, motivation=body.motivation
        )
    )


@router.post(
    "/pupils/{pupil_id}/provisional-advice/corrections",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Correct a voorlopig schooladvies that was recorded wrongly (with the reason)",
)
def correct_provisional_advice(body: CorrectionIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(
        CorrectProvisionalAdvice(
            advice=SchoolAdvice(body.advice), corrected_on=body.corrected_on, reason=body.reason
        )
    )


@router.post(
    "/pupils/{pupil_id}/final-advice",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Give the definitief schooladvies",
)
def give_final_advice(body: FinalAdviceIn, command: PupilCommandDep) -> CommandAccepted:
    return command.run(GiveFinalAdvice(given_on=body.given_on, advice=advice_of(body.advice)))


@router.post(
    "/pupils/{pupil_id}/national-registrations",
    status_code=201,
    responses=COMMAND_ERRORS,
    summary="Record that an advice was sent to DUO's register (intern begeleider, directie)",
)
def record_national_registration(
    body: RegistrationIn,
    command: Annotated[PupilCommand, Depends(NarrowedTo(SCHOOL_STAFF, "een aanmelding bij DUO"))],
) -> CommandAccepted:
    return command.run(
        RecordNationalRegistration(kind=body.kind, sent_on=body.sent_on),
    )


@router.get(
    "/pupils/{pupil_id}/trajectory",
    responses=READ_ERRORS,
    summary="The pupil's trajectory: every advice, the test, the heroverweging (the read is "
    "logged)",
)
def get_trajectory(
    pupil_id: PupilId,
    container: ContainerDep,
    who: PrincipalDep,
    request: Request,
    response: Response,
) -> TrajectoryOut:
    pupil_in_reach(container, who, pupil_id)
    log_reads(container, who, [str(pupil_id)], "trajectory", request)
    state = container.trajectories.load(pupil_id)
    if state.version == 0:
        raise DomainError("pupil_not_enrolled", "deze leerling volgt geen adviestraject")
    response.headers["ETag"] = f'"{state.version}"'
    return TrajectoryOut.of(pupil_id, state)
