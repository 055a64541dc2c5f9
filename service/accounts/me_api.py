"""Who am I, and which schools may I see: what a script or page needs before anything else
(the ids of the schools, which no other answer lists).

`GET /api/v1/me`: the caller's account, role and schools with their classes (a teacher's own
classes; `whole_school` for a role that works with the whole school). `GET /api/v1/schools`:
the schools the caller may see: every school for beheer, the own schools for everyone else.
Neither shows a pupil.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service.accounts.roles import Principal, Role
from service.api.deps import ContainerDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, problem_responses
from service.schools.register import School

router = APIRouter(prefix="/api/v1", tags=["accounts"])

_ERRORS = problem_responses({401: UNAUTHENTICATED_401})


class SchoolOut(BaseModel):
    id: str = Field(description="The id other routes take as school_id")
    brin: str = Field(examples=["12AB"])
    name: str


class MySchoolOut(SchoolOut):
    whole_school: bool = Field(description="Works with every class of the school")
    classes: list[str] = Field(description="A teacher's own classes, e.g. ['8A']")


class MeOut(BaseModel):
    id: str
    name: str
    email: str
    role: Role
    role_label: str = Field(description="The role in Dutch, as pages show it")
    schools: list[MySchoolOut]


class SchoolsOut(BaseModel):
    items: list[SchoolOut]
    total: int


def _visible(who: Principal, every: list[School]) -> list[School]:
    if who.role is Role.BEHEER:
        return every
    return [school for school in every if school.id in who.school_ids]


@router.get("/me", responses=_ERRORS, summary="Who I am: my account, role, schools and classes")
def me(who: PrincipalDep, container: ContainerDep) -> MeOut:
    mine = []
    for school in container.register.schools():
        scopes = [s for s in who.scopes if s.school_id == school.id]
        if not scopes:
            continue
        classes = sorted({s.class_name for s in scopes if s.class_name})
        mine.append(
            MySchoolOut(
                id=school.id,
                brin=school.brin,
                name=school.name,
                whole_school=any(not s.class_name for s in scopes),
                classes=classes,
            )
        )
    return MeOut(
        id=who.user_id,
        name=who.name,
        email=who.email,
        role=who.role,
        role_label=who.role.label,
        schools=mine,
    )


@router.get(
    "/schools",
    responses=_ERRORS,
    summary="The schools I may see (beheer: every school), by name",
)
def list_schools(who: PrincipalDep, container: ContainerDep) -> SchoolsOut:
    found = _visible(who, container.register.schools())
    items = [SchoolOut(id=s.id, brin=s.brin, name=s.name) for s in found]
    return SchoolsOut(items=items, total=len(items))
