"""HTTP route for a pupil's full history: every event with who recorded it, when and why.

This is what directie audits and parents may ask to see; each read of it is itself logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from service.advice.routing import pupil_in_reach
from service.api.deps import ContainerDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, problem_responses
from service.audit.access_log import record_read

router = APIRouter(prefix="/api/v1", tags=["history"])


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
    after: Annotated[int, Query(ge=0, description="Only events after this stream version")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HistoryOut:
    pupil_in_reach(container, who, pupil_id)
    record_read(
        container.engine,
        who,
        str(pupil_id),
        "geschiedenis",
        container.clock(),
        request.state.request_id,
    )
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
