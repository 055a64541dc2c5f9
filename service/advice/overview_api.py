"""HTTP route for the class overview: the pupils of a school where the caller may look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from service.accounts.access import sees_school, visible_classes
from service.accounts.roles import Principal
from service.advice.overview import OverviewRow, class_overview
from service.advice.routing import log_reads, school_not_found
from service.advice.trajectory_out import Advice
from service.api.deps import ContainerDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.bootstrap import Container
from workflows.lifecycle import Status
from workflows.scale import SchoolAdvice

router = APIRouter(prefix="/api/v1", tags=["overview"])

_ERRORS = problem_responses(
    {
        401: UNAUTHENTICATED_401,
        404: "No such school or class, or outside the caller's scope",
        422: "An invalid filter or page",
    }
)


class DeadlineOut(BaseModel):
    action: str = Field(
        description="provisional_advice, test_result, reconsideration or result_review"
    )
    label: str = Field(description="What is due, in Dutch")
    due: date


class OverviewItem(BaseModel):
    pupil_id: UUID
    name: str = Field(description="Given name and family name, from the register")
    class_name: str = Field(description='The class ("8A"); empty when not yet placed')
    status: str
    status_label: str
    provisional_advice: Advice | None
    test_advice: str | None = Field(description="The toetsadvies, when the result is in")
    final_advice: Advice | None
    reconsideration_deadline: date | None = Field(
        description="When a heroverweging is open: the day it must be decided by"
    )
    late: list[str] = Field(description="Actions recorded after their legal deadline")
    next_deadline: DeadlineOut | None = Field(
        description="What the trajectory waits for, by when (none: nothing legal is due)"
    )
    overdue: bool = Field(description="The next deadline has passed")

    @classmethod
    def of(cls, row: OverviewRow, today: date) -> OverviewItem:
        due = row.next_due
        return cls(
            pupil_id=UUID(row.pupil.id),
            name=row.pupil.display_name,
            class_name=row.pupil.class_name,
            status=row.status.value,
            status_label=row.status.label,
            provisional_advice=_advice(row.provisional_advice),
            test_advice=row.test_advice,
            final_advice=_advice(row.final_advice),
            reconsideration_deadline=row.reconsideration_deadline,
            late=list(row.late),
            next_deadline=DeadlineOut(action=due.action, label=due.label, due=due.due)
            if due
            else None,
            overdue=bool(due and due.overdue_on(today)),
        )


class OverviewOut(BaseModel):
    items: list[OverviewItem]
    total: int = Field(description="Pupils matching the filters, over all pages")
    limit: int
    offset: int


def _advice(code: str | None) -> Advice | None:
    return None if code is None else Advice.of(SchoolAdvice(code))


@dataclass(frozen=True)
class ClassScope:
    """Which classes of which school a list shows; `classes` None: every class."""

    school_id: str
    classes: frozenset[str] | None


def get_class_scope(
    school_id: Annotated[str, Path(max_length=36, description="The school's id")],
    who: PrincipalDep,
    class_name: Annotated[
        str | None, Query(alias="class", max_length=20, description='Only this class ("8A")')
    ] = None,
) -> ClassScope:
    """The school and classes the caller asked for, or a 404 when they are not the caller's."""
    if not sees_school(who, school_id):
        raise school_not_found()
    allowed = visible_classes(who, school_id)
    if class_name is not None and allowed is not None and class_name not in allowed:
        raise ProblemError(
            404, "class_not_found", "Niet gevonden", f"klas {class_name} is niet de uwe"
        )
    return ClassScope(school_id, frozenset({class_name}) if class_name is not None else allowed)


ClassScopeDep = Annotated[ClassScope, Depends(get_class_scope)]


def _logged(
    container: Container, who: Principal, rows: list[OverviewRow], what: str, request: Request
) -> list[OverviewItem]:
    """The rows as shown, each pupil's appearance written to the access log first."""
    log_reads(container, who, [row.pupil.id for row in rows], what, request)
    today = container.clock().date()
    return [OverviewItem.of(row, today) for row in rows]


@router.get(
    "/schools/{school_id}/pupils",
    responses=_ERRORS,
    summary="Class overview: the school's pupils and where their trajectories stand",
)
def get_class_overview(
    scope: ClassScopeDep,
    container: ContainerDep,
    who: PrincipalDep,
    request: Request,
    status: Annotated[Status | None, Query(description="Only pupils in this status")] = None,
    overdue: Annotated[
        bool, Query(description="Only pupils whose next deadline has passed")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OverviewOut:
    page = class_overview(
        container.engine,
        container.register,
        scope.school_id,
        classes=scope.classes,
        status=status,
        limit=limit,
        offset=offset,
        overdue_on=container.clock().date() if overdue else None,
    )
    items = _logged(container, who, page.rows, "klasoverzicht", request)
    return OverviewOut(items=items, total=page.total, limit=limit, offset=offset)


@router.get(
    "/schools/{school_id}/reconsiderations",
    responses=_ERRORS,
    summary="Heroverweging worklist: pupils whose advice must be reconsidered, soonest first",
)
def get_reconsideration_worklist(
    scope: ClassScopeDep, container: ContainerDep, who: PrincipalDep, request: Request
) -> OverviewOut:
    page = class_overview(
        container.engine,
        container.register,
        scope.school_id,
        classes=scope.classes,
        status=Status.RECONSIDERATION_REQUIRED,
        limit=10_000,
        offset=0,
    )
    rows = sorted(page.rows, key=lambda r: r.reconsideration_deadline or date.max)
    items = _logged(container, who, rows, "heroverwegingslijst", request)
    return OverviewOut(items=items, total=len(items), limit=len(items), offset=0)
