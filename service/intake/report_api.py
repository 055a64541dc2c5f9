"""What the test providers delivered to a school, and what became of each delivery.

For the intern begeleider and directie (and the board, reading): deliveries for a pupil the
school does not know, or that the rules refused, wait here with the reason until someone acts
(enrol the pupil, fix the LAS-key at the provider, give the voorlopig advies first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from service.accounts.access import sees_school
from service.accounts.roles import Role
from service.advice.routing import school_not_found
from service.api.deps import ContainerDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses

router = APIRouter(prefix="/api/v1", tags=["doorstroomtoetsketen"])

State = Literal["pending", "processed", "unknown_pupil", "refused"]
_READERS = frozenset({Role.IB, Role.DIRECTIE, Role.BESTUUR})


class DeliveryOut(BaseModel):
    id: int
    received_at: datetime
    provider: str = Field(description="The test (toetsdefinitie): ICE, ROUTE_8, DIA, AMN, …")
    pupil_ref: str = Field(description="The LAS-key (or ECK-iD) the provider sent")
    state: State
    outcome: str | None = Field(description="What became of it, in Dutch")
    pupil_id: str | None


class DeliveriesOut(BaseModel):
    items: list[DeliveryOut]


def get_school(
    school_id: Annotated[str, Path(max_length=36, description="The school's id")],
    who: PrincipalDep,
) -> str:
    if not sees_school(who, school_id):
        raise school_not_found()
    if who.role not in _READERS:
        raise ProblemError(
            403,
            "forbidden",
            "Geen toegang",
            f"als {who.role.label} ziet u de leveringen van toetsaanbieders niet; vraag de IB",
        )
    return school_id


@router.get(
    "/schools/{school_id}/deliveries",
    responses=problem_responses(
        {
            401: UNAUTHENTICATED_401,
            403: "Only intern begeleider, directie and the board see deliveries",
            404: "No such school, or not the caller's",
            422: "An invalid filter",
        }
    ),
    summary="The newest result deliveries to the school (oldest of them first), with outcome",
)
def get_deliveries(
    school_id: Annotated[str, Depends(get_school)],
    container: ContainerDep,
    state: Annotated[State | None, Query(description="Only deliveries in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> DeliveriesOut:
    found = container.inbox.of_school(school_id, state=state, limit=limit)
    return DeliveriesOut(
        items=[
            DeliveryOut(
                id=d.id,
                received_at=d.received_at,
                provider=d.provider,
                pupil_ref=d.pupil_ref,
                state=d.state,
                outcome=d.outcome,
                pupil_id=d.pupil_id,
            )
            for d in found
        ]
    )
