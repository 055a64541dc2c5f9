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
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.accounts.access import sees_school
from service.accounts.roles import Role
from service.advice.enrolment import EnrolmentRefusedError, enrol
from service.advice.routing import CommandAccepted, school_not_found
from service.advice.trajectories import CommandContext
from service.api.deps import CommandContextDep, ContainerDep, IdempotencyKeyDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.bootstrap import Container
from service.schools.register import Pupil
from workflows.commands import EnrolPupil

router = APIRouter(prefix="/api/v1", tags=["enrolment"])

ENROLLERS = frozenset({Role.IB, Role.DIRECTIE})
MAX_BULK = 500
MAX_FAMILY_NAME = 100  # the register's column
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
    family_name: str = Field(
        min_length=1,
        max_length=100,
        examples=["van het Hof"],
        description="The surname as written, with its voorvoegsel (a voorvoegsel given apart "
        "and missing here is put in front)",
    )
    voorvoegsel: str | None = Field(
        default=None,
        max_length=10,
        examples=["van het"],
        description="The tussenvoegsel (NEN 1888), as the test providers' Deelnemerslijst sends "
        'it; "" for none. Left out: read from the surname\'s leading words',
    )
    class_name: str = Field(min_length=1, max_length=20, examples=["8A"])
    groep: int = Field(ge=7, le=8, examples=[8])
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$", examples=["2026-2027"])
    enrolled_on: date = Field(description="The first day of the pupil in this groep")

    def surname(self) -> tuple[str, str | None]:
        """The surname as the register keeps it (with its voorvoegsel), and the voorvoegsel."""
        family = " ".join(self.family_name.split())
        if self.voorvoegsel is None:
            return family, None
        prefix = " ".join(self.voorvoegsel.split())
        if prefix and not family.casefold().startswith(prefix.casefold() + " "):
            family = f"{prefix} {family}"
        return family, prefix

    @model_validator(mode="after")
    def _surname_fits(self) -> EnrolmentIn:
        if len(self.surname()[0]) > MAX_FAMILY_NAME:
            raise ValueError(f"voorvoegsel en achternaam samen langer dan {MAX_FAMILY_NAME} tekens")
        return self


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


def _pupil(school_id: str, body: EnrolmentIn) -> Pupil:
    family, prefix = body.surname()
    return Pupil(str(uuid.uuid4()), school_id, body.given_name, family, body.class_name, prefix)


def _enrol_all(
    container: Container,
    school_id: str,
    rows: list[EnrolmentIn],
    context: CommandContext,
    key: str | None,
) -> list[CommandAccepted]:
    """Register rows and enrolments in one commit (`service.advice.enrolment`): all or none."""
    try:
        enrolled = enrol(
            container.trajectories,
            school_id,
            [(_pupil(school_id, row), _command(school_id, row)) for row in rows],
            context,
            key,
        )
    except EnrolmentRefusedError as refused:
        if len(rows) == 1:
            raise refused.refusals[0][1] from None
        errors = [
            {
                "field": f"pupils.{i}.{e.field}" if e.field else f"pupils.{i}",
                "code": e.code,
                "message": e.message,
            }
            for i, e in refused.refusals
        ]
        raise ProblemError(
            422,
            "bulk_rows_invalid",
            "Niet alle leerlingen kunnen worden ingeschreven",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        ) from None
    return [
        CommandAccepted(
            pupil_id=e.pupil_id,
            stream_version=e.outcome.stream_version,
            event_types=e.outcome.event_types,
        )
        for e in enrolled
    ]


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
    accepted = _enrol_all(container, school_id, [body], context, idempotency_key)[0]
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
    return BulkEnrolmentOut(
        enrolled=_enrol_all(container, school_id, body.pupils, context, idempotency_key)
    )
