"""What every pupil route shares: who may reach the pupil, and how a command is run over HTTP.

A command route declares its body, builds the domain command and hands it to `PupilCommand.run`.
The dependency has already checked that the caller sees the pupil (404 otherwise, so that its
existence does not leak) and may change it in this role (403), and gathered the If-Match version,
the Idempotency-Key (scoped to the caller's account by `get_idempotency_key`, so that another
school's key of the same spelling neither clashes nor shows) and the actor; `run` executes the
command through the one command handler and answers with the new stream version as the ETag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Path, Request, Response
from pydantic import AfterValidator, BaseModel, Field

from service.accounts.access import changes_pupil, sees_pupil
from service.accounts.roles import Principal, Role
from service.advice.trajectories import CommandContext
from service.api.deps import (
    CommandContextDep,
    ContainerDep,
    ExpectedVersionDep,
    IdempotencyKeyDep,
    PrincipalDep,
)
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.audit.access_log import record_reads
from service.bootstrap import Container
from service.schools.register import Pupil
from workflows.commands import Command
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice, parse_school_advice

PupilId = Annotated[UUID, Path(description="The pupil's id (UUID)")]

COMMAND_ERRORS = problem_responses(
    {
        400: "A malformed header",
        401: UNAUTHENTICATED_401,
        403: "The caller sees the pupil but may not change it (in this role)",
        404: "No such pupil, not in a trajectory, or outside the caller's school/class",
        409: "The If-Match version is stale (the body has current_version), or the "
        "Idempotency-Key was used for another request",
        422: "Invalid input or a rule that says no (the code says which)",
    }
)
READ_ERRORS: dict[int | str, dict[str, Any]] = {s: COMMAND_ERRORS[s] for s in (401, 404, 422)}

SCHOOL_STAFF = frozenset({Role.IB, Role.DIRECTIE})
"""Who records what the school as a whole decides (an exemption, a registration with DUO)."""


def _advice_code(value: str) -> str:
    try:
        return parse_school_advice(value).value
    except DomainError as error:
        raise ValueError(error.message) from None


AdviceCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="A schooladvies: the DUO value (Schooladviestype_enum) or a common spelling "
        '("havo/vwo", "vmbo-gt", "vmbo-b met lwoo")',
        examples=["havo/vwo"],
    ),
    AfterValidator(_advice_code),
]
"""A schooladvies as a client may write it; validated into its DUO value."""

FreeText = Annotated[
    str,
    Field(
        max_length=5000,
        description="Free text; it can name people, so it is stored encrypted per pupil",
    ),
]


def advice_of(code: str | None) -> SchoolAdvice | None:
    return None if code is None else SchoolAdvice(code)


class CommandAccepted(BaseModel):
    pupil_id: UUID
    stream_version: int = Field(description="The stream's version after the command (the ETag)")
    event_types: list[str] = Field(description="What was recorded, in order")


def pupil_in_reach(container: Container, who: Principal, pupil_id: UUID) -> Pupil:
    """The pupil, or a 404 that reads the same whether it exists or is not the caller's."""
    pupil = container.register.pupil(str(pupil_id))
    if pupil is None or not sees_pupil(who, pupil.school_id, pupil.class_name):
        raise ProblemError(
            404,
            "pupil_not_found",
            "Niet gevonden",
            "deze leerling bestaat niet of valt buiten uw school of klas",
        )
    return pupil


def log_reads(
    container: Container, who: Principal, pupil_ids: Sequence[str], what: str, request: Request
) -> None:
    """Write to the access log that `who` was shown these pupils' data, in this request."""
    record_reads(
        container.engine, who, pupil_ids, what, container.clock(), request.state.request_id
    )


def school_not_found() -> ProblemError:
    """A school that does not exist or is not the caller's: the same answer, nothing leaks."""
    return ProblemError(
        404, "school_not_found", "Niet gevonden", "deze school bestaat niet of is niet de uwe"
    )


def forbidden(who: Principal, what: str) -> ProblemError:
    return ProblemError(
        403, "forbidden", "Geen toegang", f"als {who.role.label} mag u {what} niet vastleggen"
    )


@dataclass(frozen=True)
class PupilCommand:
    """A command about to be run for one pupil, by an authenticated caller who may change it."""

    container: Container
    who: Principal
    pupil: Pupil
    pupil_id: UUID
    context: CommandContext
    expected_version: int | None
    idempotency_key: str | None
    response: Response

    def run(self, command: Command) -> CommandAccepted:
        """Execute `command` through the command handler; the ETag is the new version."""
        result = self.container.trajectories.execute(
            self.pupil_id,
            command,
            self.context,
            expected_version=self.expected_version,
            idempotency_key=self.idempotency_key,
        )
        self.response.headers["ETag"] = f'"{result.stream_version}"'
        self.response.headers["Location"] = f"/api/v1/pupils/{self.pupil_id}/trajectory"
        return CommandAccepted(
            pupil_id=self.pupil_id,
            stream_version=result.stream_version,
            event_types=result.event_types,
        )


def get_pupil_command(
    pupil_id: PupilId,
    container: ContainerDep,
    who: PrincipalDep,
    context: CommandContextDep,
    expected_version: ExpectedVersionDep,
    idempotency_key: IdempotencyKeyDep,
    response: Response,
) -> PupilCommand:
    pupil = pupil_in_reach(container, who, pupil_id)
    if not changes_pupil(who, pupil.school_id, pupil.class_name):
        raise ProblemError(
            403,
            "forbidden",
            "Geen toegang",
            f"als {who.role.label} mag u dit traject inzien, maar niet wijzigen",
        )
    return PupilCommand(
        container, who, pupil, pupil_id, context, expected_version, idempotency_key, response
    )


PupilCommandDep = Annotated[PupilCommand, Depends(get_pupil_command)]


class NarrowedTo:
    """A dependency for commands only some writers may give: 403 for the others, checked
    before the body is, so that a refusal never depends on what was sent."""

    def __init__(self, roles: frozenset[Role], what: str) -> None:
        self.roles, self.what = roles, what

    async def __call__(self, command: PupilCommandDep) -> PupilCommand:
        if command.who.role not in self.roles:
            raise forbidden(command.who, self.what)
        return command
