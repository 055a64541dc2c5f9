"""HTTP routes that enrol pupils in the trajectory, one at a time or a class at once.

The pupil's name and class go to the register (personal data, erasable), the enrolment to the log.
The service makes the pupil's id; with an `Idempotency-Key` the id is derived from the key, so a
retried request finds the pupil it made the first time and returns the first answer. A bulk
request is checked whole before anything is stored: every bad row is reported with its index.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from service.accounts.access import sees_school
from service.accounts.roles import Role
from service.advice.routing import CommandAccepted, school_not_found
from service.advice.trajectories import CommandContext
from service.api.deps import CommandContextDep, ContainerDep, IdempotencyKeyDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.bootstrap import Container
from service.schools.register import Pupil
from workflows.commands import EnrolPupil
from workflows.decide import decide_on
from workflows.errors import DomainError
from workflows.trajectory import Trajectory

router = APIRouter(prefix="/api/v1", tags=["enrolment"])

ENROLLERS = frozenset({Role.IB, Role.DIRECTIE})
MAX_BULK = 500
_KEYED = uuid.UUID("0b7a3c5e-2d41-4f0e-9a63-5c1e8f2d7b90")  # namespace for keyed pupil ids
_ERRORS = problem_responses(
    {
        400: "A malformed header",
        401: UNAUTHENTICATED_401,
        403: "The caller's role does not enrol pupils",
        404: "No such school, or not the caller's",
        409: "The pupil this Idempotency-Key made is enrolled otherwise",
        422: "Invalid input or a rule that says no",
    }
)


class EnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(min_length=1, max_length=100, examples=["Noor"])
    family_name: str = Field(min_length=1, max_length=100, examples=["de Vries"])
    class_name: str = Field(min_length=1, max_length=20, examples=["8A"])
    groep: int = Field(ge=7, le=8, examples=[8])
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$", examples=["2026-2027"])
    enrolled_on: date = Field(description="The first day of the pupil in this groep")


class BulkEnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupils: list[EnrolmentIn] = Field(min_length=1, max_length=MAX_BULK)


class BulkEnrolmentOut(BaseModel):
    enrolled: list[CommandAccepted]


def get_enrolling_school(
    school_id: Annotated[str, Path(max_length=36, description="The school's id")],
    container: ContainerDep,
    who: PrincipalDep,
) -> str:
    """The school, when the caller may enrol pupils there: checked before the body is read."""
    if not sees_school(who, school_id) or container.register.school(school_id) is None:
        raise school_not_found()
    if who.role not in ENROLLERS:
        raise ProblemError(
            403,
            "forbidden",
            "Geen toegang",
            f"als {who.role.label} mag u geen leerlingen inschrijven; vraag de IB of directie",
        )
    return school_id


EnrollingSchool = Annotated[str, Depends(get_enrolling_school)]


def _command(school_id: str, body: EnrolmentIn) -> EnrolPupil:
    return EnrolPupil(
        school_id=school_id,
        school_year=body.school_year,
        groep=body.groep,
        enrolled_on=body.enrolled_on,
    )


def _enrol(
    container: Container,
    school_id: str,
    body: EnrolmentIn,
    context: CommandContext,
    key: str | None,
) -> CommandAccepted:
    pupil_id = uuid.uuid5(_KEYED, f"{school_id}/{key}") if key else uuid.uuid4()
    command = _command(school_id, body)
    # The rules first (pure): a refused enrolment must not leave a name in the register.
    decide_on(Trajectory(), command, container.clock())
    container.register.add_pupil(
        Pupil(str(pupil_id), school_id, body.given_name, body.family_name, body.class_name)
    )
    result = container.trajectories.execute(
        pupil_id,
        command,
        context,
        expected_version=None if key else 0,
        idempotency_key=key,
    )
    return CommandAccepted(
        pupil_id=pupil_id, stream_version=result.stream_version, event_types=result.event_types
    )


@router.post(
    "/schools/{school_id}/pupils",
    status_code=201,
    responses=_ERRORS,
    summary="Enrol one pupil: register entry and trajectory",
)
def enrol_pupil(
    school_id: EnrollingSchool,
    body: EnrolmentIn,
    container: ContainerDep,
    context: CommandContextDep,
    idempotency_key: IdempotencyKeyDep,
    response: Response,
) -> CommandAccepted:
    accepted = _enrol(container, school_id, body, context, idempotency_key)
    response.headers["Location"] = f"/api/v1/pupils/{accepted.pupil_id}/trajectory"
    response.headers["ETag"] = f'"{accepted.stream_version}"'
    return accepted


@router.post(
    "/schools/{school_id}/pupils/bulk",
    status_code=201,
    responses=_ERRORS,
    summary="Enrol a class at once; nothing is stored unless every row is right",
)
def enrol_pupils(
    school_id: EnrollingSchool,
    body: BulkEnrolmentIn,
    container: ContainerDep,
    context: CommandContextDep,
    idempotency_key: IdempotencyKeyDep,
) -> BulkEnrolmentOut:
    now = container.clock()
    errors = []
    for index, row in enumerate(body.pupils):
        try:
            decide_on(Trajectory(), _command(school_id, row), now)
        except DomainError as error:
            field = f"pupils.{index}.{error.field}" if error.field else f"pupils.{index}"
            errors.append({"field": field, "code": error.code, "message": error.message})
    if errors:
        raise ProblemError(
            422,
            "bulk_rows_invalid",
            "Niet alle leerlingen kunnen worden ingeschreven",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )
    return BulkEnrolmentOut(
        enrolled=[
            _enrol(
                container,
                school_id,
                row,
                context,
                f"{idempotency_key}/{index}" if idempotency_key else None,
            )
            for index, row in enumerate(body.pupils)
        ]
    )
