"""The year rollover ("Jaarovergang"): a whole groep 7 class moves to groep 8 in one action, for
the intern begeleider and directie.

Three steps: choose the school's groep 7 class (`GET /jaarovergang`), see the preview of every
pupil (`GET /jaarovergang?school=…&klas=…&jaar=…`: the new class, the new school year, the
chain's group id and the oriënterend advies, which the pupil's history carries as it is), and
confirm (`POST /jaarovergang`). The confirmation is one transaction: every pupil's
`MoveToGroep8` and their new class in the register, or nothing. The preview names each pupil's
version; a pupil whose history changed in between, or a class that gained or lost a pupil, stops
the whole move with "intussen gewijzigd" and the fresh preview.

The chain's group id (the Deelnemerslijst's `Groep.id`) is derived from school, school year and
class (`service.chain.messages.group_id`), so the new year and class give the new group id
without storing anything.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.advice.batch import BatchItem
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.chain.messages import group_id
from service.imports.csvfile import parse_date
from service.schools.register import School, move_to_class
from service.shared.context import Actor, CommandContext
from service.store.engine import single_statements
from service.store.events import ConcurrencyError
from service.store.schema import trajectories
from service.web.pages import page, signed_in, tokens_match
from workflows.calendar import SchoolYear
from workflows.commands import MoveToGroep8
from workflows.errors import DomainError
from workflows.lifecycle import Status

router = APIRouter(include_in_schema=False)

MOVERS = frozenset({Role.IB, Role.DIRECTIE})
_CLASS = re.compile(r"^[0-9A-Za-z][0-9A-Za-z /-]{0,19}$")


@dataclass(frozen=True)
class Member:
    pupil_id: str
    name: str
    version: int
    orientation: str  # the oriënterend advies as it stands ("–": none)


@dataclass(frozen=True)
class Group7:
    class_name: str
    school_year: SchoolYear
    members: list[Member]

    @property
    def new_year(self) -> SchoolYear:
        return SchoolYear(self.school_year.start_year + 1)


class _StaleError(Exception):
    """The class changed after the preview: nothing is moved."""


class _RefusedError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def new_class_name(class_name: str) -> str:
    """The groep 8 class of a groep 7 class: "7A" -> "8A", "Groep 7b" -> "Groep 8b"."""
    return re.sub(r"7", "8", class_name, count=1) if "7" in class_name else f"8{class_name}"


def _school_of(container: Container, who: Principal, school_id: str) -> School | None:
    schools = [s for s in container.register.schools() if s.id in who.school_ids]
    return next((s for s in schools if s.id == school_id), schools[0] if schools else None)


def groups_7(container: Container, school: School, *, orientation: bool) -> list[Group7]:
    """The school's groep 7 classes: the pupils still in groep 7, by class and school year."""
    pupils = {p.id: p for p in container.register.pupils_of(school.id)}
    streams = {f"trajectory-{p}": p for p in pupils}
    if not streams:
        return []
    with single_statements(container.engine).connect() as conn:
        found = conn.execute(
            select(
                trajectories.c.stream_id, trajectories.c.school_year, trajectories.c.version
            ).where(
                trajectories.c.stream_id.in_(list(streams)),
                trajectories.c.status == Status.IN_GROEP_7.value,
            )
        ).all()
    groups: dict[tuple[str, str], list[Member]] = {}
    for r in found:
        pupil = pupils[streams[r.stream_id]]
        advice = "–"
        if orientation:
            given = container.trajectories.load(uuid.UUID(pupil.id)).orientation_advice
            advice = f"{given.advice.label} ({given.given_on:%d-%m-%Y})" if given else "–"
        member = Member(pupil.id, pupil.display_name, int(r.version), advice)
        groups.setdefault((pupil.class_name, str(r.school_year)), []).append(member)
    order = list(pupils)
    return [
        Group7(
            class_name,
            SchoolYear.parse(year),
            sorted(members, key=lambda m: order.index(m.pupil_id)),
        )
        for (class_name, year), members in sorted(groups.items())
    ]


def _session(request: Request, container: Container) -> SessionUser | Response:
    return signed_in(
        request,
        container,
        MOVERS,
        "Als {role} zet u geen klas over naar groep 8; vraag de intern begeleider of de directie.",
    )


def _render(
    container: Container,
    request: Request,
    session: SessionUser,
    school: School | None,
    *,
    klas: str = "",
    jaar: str = "",
    nieuwe_klas: str = "",
    datum: str = "",
    errors: dict[str, str] | None = None,
    stale: bool = False,
    status: int = 200,
) -> HTMLResponse:
    who = session.principal
    schools = [s for s in container.register.schools() if s.id in who.school_ids]
    groups = groups_7(container, school, orientation=False) if school else []
    chosen = next((g for g in groups if g.class_name == klas and str(g.school_year) == jaar), None)
    preview: Group7 | None = None
    if chosen is not None and school is not None:
        preview = next(
            g
            for g in groups_7(container, school, orientation=True)
            if g.class_name == klas and str(g.school_year) == jaar
        )
        log_reads(container, who, [m.pupil_id for m in preview.members], "jaarovergang", request)
    today = container.clock().date()
    new_class = nieuwe_klas or (new_class_name(klas) if klas else "")
    first_day = preview.new_year.first_day if preview else None
    return page(
        "w_rollover.html",
        status=status,
        who=who,
        csrf_token=session.csrf_token,
        active="/jaarovergang",
        schools=schools,
        school_options=[(s.id, s.name) for s in schools],
        school=school,
        groups=groups,
        preview=preview,
        new_class=new_class,
        group_id=group_id(school.id, str(preview.new_year), new_class)
        if preview and school
        else "",
        datum=datum or (first_day.isoformat() if first_day and first_day <= today else ""),
        too_early=bool(first_day and first_day > today),
        errors=errors or {},
        stale=stale,
        versions=",".join(f"{m.pupil_id}:{m.version}" for m in preview.members) if preview else "",
    )


@router.get("/jaarovergang", response_class=HTMLResponse)
def rollover_page(
    request: Request,
    container: ContainerDep,
    school: Annotated[str, Query(max_length=36)] = "",
    klas: Annotated[str, Query(max_length=20)] = "",
    jaar: Annotated[str, Query(max_length=9)] = "",
) -> Response:
    session = _session(request, container)
    if not isinstance(session, SessionUser):
        return session
    found = _school_of(container, session.principal, school)
    return _render(container, request, session, found, klas=klas, jaar=jaar)


def _move(
    container: Container,
    who: Principal,
    school: School,
    group: Group7,
    versions: dict[str, int],
    new_class: str,
    entered_on: date,
) -> int:
    """Every pupil of the class to groep 8 and into the new class, in one transaction."""
    if {m.pupil_id for m in group.members} != set(versions):
        raise _StaleError
    context = CommandContext(actor=Actor(who.user_id, who.role.value))
    command = MoveToGroep8(school_year=str(group.new_year), entered_on=entered_on)
    items = [
        BatchItem(uuid.UUID(pupil_id), [command], context, expected_version=version)
        for pupil_id, version in versions.items()
    ]
    with container.trajectories.batch() as batch:
        outcomes = batch.execute(items)
        for outcome in outcomes:
            if isinstance(outcome.error, ConcurrencyError):
                raise _StaleError
            if isinstance(outcome.error, DomainError):
                field = "datum" if outcome.error.field == "entered_on" else "form"
                raise _RefusedError({field: outcome.error.message})
            if outcome.error is not None:
                raise outcome.error
        move_to_class(batch.io, school.id, list(versions), new_class)
    return len(items)


@router.post("/jaarovergang", response_class=HTMLResponse)
def rollover_confirm(
    request: Request,
    container: ContainerDep,
    school: Annotated[str, Form(max_length=36)] = "",
    klas: Annotated[str, Form(max_length=20)] = "",
    jaar: Annotated[str, Form(max_length=9)] = "",
    nieuwe_klas: Annotated[str, Form(max_length=40)] = "",
    datum: Annotated[str, Form(max_length=20)] = "",
    versies: Annotated[str, Form(max_length=20_000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    session = _session(request, container)
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    found = _school_of(container, who, school)
    args: dict[str, Any] = {"klas": klas, "jaar": jaar, "nieuwe_klas": nieuwe_klas, "datum": datum}
    if not tokens_match(session.csrf_token, csrf_token):
        errors = {"form": "Het formulier was verlopen. Probeer het nog eens."}
        return _render(container, request, session, found, **args, errors=errors, status=403)
    errors = {}
    name = " ".join(nieuwe_klas.split())
    if not _CLASS.match(name):
        errors["nieuwe_klas"] = "Geef de nieuwe klas, bijvoorbeeld 8A (hoogstens 20 tekens)."
    entered_on = None
    try:
        entered_on = parse_date(datum.strip())
    except ValueError:
        errors["datum"] = "Geef de datum waarop de leerlingen naar groep 8 gingen (dd-mm-jjjj)."
    group = None
    if found is not None and found.id == school:
        group = next(
            (
                g
                for g in groups_7(container, found, orientation=False)
                if g.class_name == klas and str(g.school_year) == jaar
            ),
            None,
        )
    if found is None or found.id != school or group is None:
        errors["form"] = "Deze groep 7 bestaat niet (meer) op uw school."
        return _render(container, request, session, found, **args, errors=errors, status=422)
    if errors or entered_on is None:
        return _render(container, request, session, found, **args, errors=errors, status=422)
    try:
        versions = {
            pupil_id: int(version)
            for pupil_id, _, version in (v.partition(":") for v in versies.split(",") if v)
        }
        moved = _move(container, who, found, group, versions, name, entered_on)
    except (ValueError, _StaleError):
        return _render(container, request, session, found, **args, stale=True, status=409)
    except _RefusedError as refusal:
        return _render(
            container, request, session, found, **args, errors=refusal.errors, status=422
        )
    return page(
        "w_rollover_done.html",
        who=who,
        csrf_token=session.csrf_token,
        active="/jaarovergang",
        school=found,
        moved=moved,
        old_class=klas,
        new_class=name,
        new_year=str(group.new_year),
        group_id=group_id(found.id, str(group.new_year), name),
    )
