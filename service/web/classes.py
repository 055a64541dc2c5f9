"""The class page `/klassen`: every pupil of a class with state, advices, toetsadvies and the next
legal deadline, filtered by school, school year, class, state and overdue.

One statement reads the page's pupils: the register joined to the `trajectories` read model, the
oriënterend advies (not in the read model) as a subquery on the pupil's own events. The school
year defaults to the current one, and a pupil's row belongs to the year of their trajectory, so
last year's cohort is never mixed into this year's. A teacher sees the own classes, IB and
directie the school, the board its schools (reading); every pupil shown is in the access log.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine, and_, literal, or_, select

from service.accounts.access import READERS, WRITERS, sees_school, visible_classes
from service.accounts.roles import Principal
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.schools.register import School, surname_sort_key
from service.store.engine import single_statements
from service.store.schema import events, pupils, trajectories
from service.web.pages import page, school_names, session_of
from workflows.calendar import LegalCalendar, SchoolYear
from workflows.deadlines import Due, next_due
from workflows.errors import DomainError
from workflows.lifecycle import Status

router = APIRouter(include_in_schema=False)

OVERDUE = "verlopen"


@dataclass(frozen=True)
class ClassRow:
    pupil_id: str
    name: str
    class_name: str
    school_year: str | None
    status: Status
    orientation_advice: str | None
    provisional_advice: str | None
    provisional_late: bool
    test_advice: str | None
    final_advice: str | None
    final_late: bool
    due: Due | None
    overdue: bool


def read_class(
    engine: Engine,
    school_id: str,
    school_year: str,
    *,
    classes: Collection[str] | None,
    with_unenrolled: bool,
) -> list[Any]:
    """The register and read-model rows of a school's pupils in one school year (and, with
    `with_unenrolled`, the pupils not yet in any trajectory), in one statement."""
    stream = literal("trajectory-") + pupils.c.id
    orientation = (
        select(events.c.data)
        .where(
            events.c.stream_id == trajectories.c.stream_id,
            events.c.event_type == "orientation_advice_given",
        )
        .order_by(events.c.stream_version.desc())
        .limit(1)
        .scalar_subquery()
    )
    year = trajectories.c.school_year == school_year
    query = (
        select(
            pupils.c.id,
            pupils.c.given_name,
            pupils.c.family_name,
            pupils.c.surname_prefix,
            pupils.c.class_name,
            trajectories.c.school_year,
            trajectories.c.status,
            trajectories.c.provisional_advice,
            trajectories.c.provisional_timeliness,
            trajectories.c.test_advice,
            trajectories.c.final_advice,
            trajectories.c.reconsideration_deadline,
            trajectories.c.late,
            orientation.label("orientation"),
        )
        .select_from(pupils.outerjoin(trajectories, trajectories.c.stream_id == stream))
        .where(
            pupils.c.school_id == school_id,
            or_(year, trajectories.c.stream_id.is_(None)) if with_unenrolled else year,
        )
    )
    if classes is not None:
        query = query.where(pupils.c.class_name.in_(list(classes)))
    with single_statements(engine).connect() as conn:
        found = conn.execute(query).all()
    return sorted(
        found,
        key=lambda r: (surname_sort_key(r.family_name, r.surname_prefix), r.given_name.casefold()),
    )


def class_names(engine: Engine, school_id: str) -> list[str]:
    with single_statements(engine).connect() as conn:
        found = conn.execute(
            select(pupils.c.class_name)
            .distinct()
            .where(and_(pupils.c.school_id == school_id, pupils.c.class_name != ""))
        ).scalars()
        return sorted(found)


def school_years(engine: Engine, school_id: str) -> list[str]:
    with single_statements(engine).connect() as conn:
        found = conn.execute(
            select(trajectories.c.school_year)
            .distinct()
            .where(trajectories.c.school_id == school_id, trajectories.c.school_year.is_not(None))
        ).scalars()
        return [str(y) for y in found]


def class_rows(container: Container, school_id: str, raw: list[Any], today: date) -> list[ClassRow]:
    calendars: dict[str, LegalCalendar] = {}
    rows = []
    for r in raw:
        status = Status(r.status) if r.status else Status.NOT_ENROLLED
        due = None
        if r.school_year:
            calendar = calendars.get(r.school_year)
            if calendar is None:
                year = SchoolYear.parse(r.school_year)
                calendar = container.policies(school_id, year).calendar(year)
                calendars[r.school_year] = calendar
            due = next_due(status, calendar, r.reconsideration_deadline)
        late = tuple(r.late or ())
        orientation = r.orientation.get("advice") if isinstance(r.orientation, Mapping) else None
        rows.append(
            ClassRow(
                pupil_id=r.id,
                name=f"{r.given_name} {r.family_name}",
                class_name=r.class_name,
                school_year=r.school_year,
                status=status,
                orientation_advice=orientation,
                provisional_advice=r.provisional_advice,
                provisional_late=r.provisional_timeliness == "late",
                test_advice=r.test_advice,
                final_advice=r.final_advice,
                final_late="final_advice_given" in late,
                due=due,
                overdue=bool(due and due.overdue_on(today)),
            )
        )
    return rows


@dataclass(frozen=True)
class Filters:
    school: School
    schools: list[School]
    year: str
    years: list[str]
    class_name: str
    classes: list[str]
    status: Status | None
    overdue: bool
    errors: dict[str, str]

    @property
    def school_options(self) -> list[tuple[str, str]]:
        return [(s.id, s.name) for s in self.schools]

    @property
    def year_options(self) -> list[tuple[str, str]]:
        return [(y, y) for y in self.years]

    @property
    def class_options(self) -> list[tuple[str, str]]:
        return [(c, c) for c in self.classes]

    @property
    def status_options(self) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in Status]

    def query(self, **changes: str) -> str:
        values = {
            "school": self.school.id if len(self.schools) > 1 else "",
            "jaar": self.year,
            "klas": self.class_name,
            "status": self.status.value if self.status else "",
            "termijn": OVERDUE if self.overdue else "",
        } | changes
        return urlencode({k: v for k, v in values.items() if v})


def _filters(
    container: Container, who: Principal, params: Mapping[str, str], today: date
) -> Filters | None:
    """The filters asked for, checked against what `who` may see; None: a school or class that
    does not exist or is not theirs (the page answers 404)."""
    schools = [s for s in container.register.schools() if sees_school(who, s.id)]
    wanted = params.get("school", "")
    school = next((s for s in schools if s.id == wanted), None) if wanted else schools[0]
    if school is None:
        return None
    mine = visible_classes(who, school.id)
    classes = [c for c in class_names(container.engine, school.id) if mine is None or c in mine]
    if mine is not None:
        classes = sorted(set(classes) | set(mine))
    class_name = params.get("klas", "")
    if class_name and class_name not in classes:
        return None
    errors = {}
    current = str(SchoolYear.containing(today))
    year = params.get("jaar", "") or current
    try:
        year = str(SchoolYear.parse(year))
    except DomainError:
        errors["jaar"] = "Kies een schooljaar uit de lijst, bijvoorbeeld 2025-2026."
        year = current
    years = sorted({current, year, *school_years(container.engine, school.id)}, reverse=True)
    status = None
    if given := params.get("status", ""):
        try:
            status = Status(given)
        except ValueError:
            errors["status"] = "Kies een stand van zaken uit de lijst."
    return Filters(
        school=school,
        schools=schools,
        year=year,
        years=years,
        class_name=class_name,
        classes=classes,
        status=status,
        overdue=params.get("termijn", "") == OVERDUE,
        errors=errors,
    )


@router.get("/klassen", response_class=HTMLResponse)
def class_page(request: Request, container: ContainerDep) -> Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    common: dict[str, Any] = {
        "who": who,
        "csrf_token": session.csrf_token,
        "active": "/klassen",
        "school_label": ", ".join(school_names(container, who)),
    }
    if who.role not in READERS or not who.school_ids:
        return page(
            "message.html",
            403,
            heading="Geen toegang",
            message=f"Als {who.role.label} ziet u geen leerlinggegevens.",
            **common,
        )
    today = container.clock().date()
    filters = _filters(container, who, request.query_params, today)
    if filters is None:
        return page(
            "message.html",
            404,
            heading="Niet gevonden",
            message="Deze school of klas bestaat niet of valt buiten uw school of klassen.",
            **common,
        )
    rows: list[ClassRow] = []
    if not filters.errors:
        mine = visible_classes(who, filters.school.id)
        chosen = [filters.class_name] if filters.class_name else mine
        raw = read_class(
            container.engine,
            filters.school.id,
            filters.year,
            classes=chosen,
            with_unenrolled=filters.year == str(SchoolYear.containing(today)),
        )
        rows = [
            row
            for row in class_rows(container, filters.school.id, raw, today)
            if (filters.status is None or row.status is filters.status)
            and (not filters.overdue or row.overdue)
        ]
        log_reads(container, who, [row.pupil_id for row in rows], "klassenpagina", request)
    return page(
        "class.html",
        422 if filters.errors else 200,
        filters=filters,
        rows=rows,
        writer=who.role in WRITERS,
        current_year=str(SchoolYear.containing(today)),
        **common,
    )
