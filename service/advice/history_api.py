"""HTTP routes for auditing a pupil's file: every event with who recorded it, when and why; and
every read of the pupil's data, with who read what and when (directie only).

This is what directie audits and what parents may ask to see (AVG); each look is itself logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from service.accounts.roles import Role
from service.advice.routing import log_reads, pupil_in_reach
from service.api.deps import ContainerDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.audit.access_log import reads_page

router = APIRouter(prefix="/api/v1", tags=["history"])

MAX_ID = 2**63 - 1  # a 64-bit integer: the largest stream version either database stores
MAX_LOG_ID = 2**31 - 1  # access_log.id is a 32-bit integer on PostgreSQL


class HistoryEvent(BaseModel):
    position: int = Field(description="Place in the global log")
    stream_version: int = Field(description="Place in the pupil's history, from 1")
    event_type: str
    schema_version: int
    recorded_at: datetime
    actor: str = Field(description="The user id (or system actor) who recorded it")
    role: str
    data: dict[str, Any] = Field(description="What was recorded; erased free text reads [gewist]")


class HistoryOut(BaseModel):
    items: list[HistoryEvent]
    next_after: int | None = Field(description="Pass as `after` for the next page; null: done")


@router.get(
    "/pupils/{pupil_id}/events",
    responses=problem_responses(
        {
            401: UNAUTHENTICATED_401,
            404: "No such pupil, or not the caller's to see",
            422: "An invalid page",
        }
    ),
    summary="The pupil's full history, oldest first (the read is logged)",
)
def get_history(
    pupil_id: Annotated[UUID, Path(description="The pupil's id (UUID)")],
    container: ContainerDep,
    who: PrincipalDep,
    request: Request,
    after: Annotated[
        int, Query(ge=0, le=MAX_ID, description="Only events after this stream version")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HistoryOut:
    pupil_in_reach(container, who, pupil_id)
    log_reads(container, who, [str(pupil_id)], "geschiedenis", request)
    trail = [
        (event, data)
        for event, data in container.trajectories.audit_trail(pupil_id)
        if event.stream_version > after
    ]
    page = trail[:limit]
    return HistoryOut(
        items=[
            HistoryEvent(
                position=event.position,
                stream_version=event.stream_version,
                event_type=event.event_type,
                schema_version=event.schema_version,
                recorded_at=event.recorded_at,
                actor=str(event.metadata.get("actor", "")),
                role=str(event.metadata.get("role", "")),
                data=data,
            )
            for event, data in page
        ],
        next_after=page[-1][0].stream_version if len(trail) > limit else None,
    )


class ReadOut(BaseModel):
    id: int = Field(description="Place in the access log; pass as `after` for the next page")
    at: datetime
    user_id: str
    user_name: str
    user_email: str
    role: str
    what: str = Field(description="What was shown: trajectory, geschiedenis, klasoverzicht, …")
    request_id: str | None


class ReadsOut(BaseModel):
    items: list[ReadOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null: done")


@router.get(
    "/pupils/{pupil_id}/reads",
    responses=problem_responses(
        {
            401: UNAUTHENTICATED_401,
            403: "Only directie sees who read a pupil's data",
            404: "No such pupil, or not the caller's to see",
            422: "An invalid page",
        }
    ),
    summary="Who read the pupil's data, when and what (directie; for an AVG request)",
)
def get_reads(
    pupil_id: Annotated[UUID, Path(description="The pupil's id (UUID)")],
    container: ContainerDep,
    who: PrincipalDep,
    request: Request,
    after: Annotated[
        int, Query(ge=0, le=MAX_LOG_ID, description="Only reads after this log id")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReadsOut:
    pupil_in_reach(container, who, pupil_id)
    if who.role is not Role.DIRECTIE:
        raise ProblemError(
            403,
            "forbidden",
            "Geen toegang",
            f"als {who.role.label} mag u niet inzien wie deze gegevens las; vraag de directie",
        )
    page = reads_page(container.engine, str(pupil_id), after, limit + 1)
    # this look is itself a read of the pupil's file, and is logged after the page it shows
    log_reads(container, who, [str(pupil_id)], "toegangslog", request)
    return ReadsOut(
        items=[ReadOut(**vars(read)) for read in page[:limit]],
        next_after=page[limit - 1].id if len(page) > limit else None,
    )
