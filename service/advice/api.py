"""HTTP routes for a pupil's trajectory: they turn requests into commands and state into JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.accounts.access import changes_pupil, sees_pupil
from service.accounts.roles import Principal
from service.api.deps import (
    CommandContextDep,
    ContainerDep,
    ExpectedVersionDep,
    IdempotencyKeyDep,
    PrincipalDep,
)
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.audit.access_log import record_read
from service.bootstrap import Container
from workflows.commands import GiveProvisionalAdvice
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice, parse_school_advice
from workflows.trajectory import RecordedAdvice, Trajectory

router = APIRouter(prefix="/api/v1", tags=["trajectory"])

PupilId = Annotated[UUID, Path(description="The pupil's id (UUID)")]

_ERRORS = problem_responses(
    {
        400: "A malformed header",
        401: UNAUTHENTICATED_401,
        403: "The caller sees the pupil but may not change it",
        404: "No such pupil, not in a trajectory, or outside the caller's school/class",
        409: "The If-Match version is stale; the body has current_version",
        422: "Invalid input or a rule that says no",
    }
)


class Advice(BaseModel):
    code: str = Field(description="DUO value (Schooladviestype_enum)", examples=["HAVO_TM_VWO"])
    label: str = Field(description="The usual Dutch spelling", examples=["havo/vwo"])

    @classmethod
    def of(cls, advice: SchoolAdvice) -> Advice:
        return cls(code=advice.value, label=advice.label)


class ProvisionalAdviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advice: str = Field(
        min_length=1,
        max_length=100,
        description="The voorlopig schooladvies: a DUO value or a common spelling",
        examples=["havo/vwo"],
    )
    given_on: date = Field(description="The day the advice was given to parents and pupil")

    @field_validator("advice")
    @classmethod
    def _known_advice(cls, value: str) -> str:
        try:
            return parse_school_advice(value).value
        except DomainError as error:
            raise ValueError(error.message) from None


class RecordedAdviceOut(BaseModel):
    advice: Advice
    given_on: date
    timeliness: str = Field(description="on_time, early or late against the legal window")

    @classmethod
    def of(cls, recorded: RecordedAdvice) -> RecordedAdviceOut:
        return cls(
            advice=Advice.of(recorded.advice),
            given_on=recorded.given_on,
            timeliness=recorded.timeliness.value,
        )


class CommandAccepted(BaseModel):
    pupil_id: UUID
    stream_version: int
    event_types: list[str]


class TrajectoryOut(BaseModel):
    pupil_id: UUID
    status: str
    status_label: str
    school_id: str | None
    school_year: str | None
    groep: int | None
    provisional_advice: RecordedAdviceOut | None
    stream_version: int

    @classmethod
    def of(cls, pupil_id: UUID, state: Trajectory) -> TrajectoryOut:
        provisional = state.provisional_advice
        return cls(
            pupil_id=pupil_id,
            status=state.status.value,
            status_label=state.status.label,
            school_id=state.school_id,
            school_year=str(state.school_year) if state.school_year else None,
            groep=state.groep,
            provisional_advice=RecordedAdviceOut.of(provisional) if provisional else None,
            stream_version=state.version,
        )


def authorised(container: Container, who: Principal, pupil_id: UUID, *, change: bool) -> None:
    """404 for a pupil the caller may not see (its existence does not leak), 403 for one they
    see but may not change."""
    pupil = container.register.pupil(str(pupil_id))
    if pupil is None or not sees_pupil(who, pupil.school_id, pupil.class_name):
        raise ProblemError(
            404,
            "pupil_not_found",
            "Niet gevonden",
            "deze leerling bestaat niet of valt buiten uw school of klas",
        )
    if change and not changes_pupil(who, pupil.school_id, pupil.class_name):
        raise ProblemError(
            403,
            "forbidden",
            "Geen toegang",
            f"als {who.role.label} mag u dit traject inzien, maar niet wijzigen",
        )


@router.post(
    "/pupils/{pupil_id}/provisional-advice",
    status_code=201,
    responses=_ERRORS,
    summary="Record the voorlopig schooladvies",
)
def give_provisional_advice(
    pupil_id: PupilId,
    body: ProvisionalAdviceIn,
    container: ContainerDep,
    context: CommandContextDep,
    expected_version: ExpectedVersionDep,
    idempotency_key: IdempotencyKeyDep,
    who: PrincipalDep,
    response: Response,
) -> CommandAccepted:
    authorised(container, who, pupil_id, change=True)
    command = GiveProvisionalAdvice(advice=SchoolAdvice(body.advice), given_on=body.given_on)
    result = container.trajectories.execute(
        pupil_id,
        command,
        context,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )
    response.headers["ETag"] = f'"{result.stream_version}"'
    response.headers["Location"] = f"/api/v1/pupils/{pupil_id}/trajectory"
    return CommandAccepted(
        pupil_id=pupil_id,
        stream_version=result.stream_version,
        event_types=result.event_types,
    )


@router.get(
    "/pupils/{pupil_id}/trajectory",
    responses={status: _ERRORS[status] for status in (401, 404, 422)},
    summary="The pupil's trajectory: state, advice and stream version (the read is logged)",
)
def get_trajectory(
    pupil_id: PupilId,
    container: ContainerDep,
    who: PrincipalDep,
    request: Request,
    response: Response,
) -> TrajectoryOut:
    authorised(container, who, pupil_id, change=False)
    record_read(
        container.engine,
        who,
        str(pupil_id),
        "trajectory",
        container.clock(),
        request.state.request_id,
    )
    state = container.trajectories.load(pupil_id)
    if state.version == 0:
        raise DomainError("pupil_not_enrolled", "deze leerling volgt geen adviestraject")
    response.headers["ETag"] = f'"{state.version}"'
    return TrajectoryOut.of(pupil_id, state)
