"""The report pages: `/rapportage`, the school's report for directie and intern begeleider, and
`/bestuur`, the board's schools side by side and rolled up, per school year; each with CSV per
table, XLSX of all tables and a PDF of its print version, all carrying the integrity status.

The figures come from `service.reports.figures` (a few set-based statements for the whole page,
never a query per pupil). On the school report every figure that stands for pupils links to
`/rapportage/leerlingen`, the pupils behind it, each name leading to the pupil's dossier; that
list is in the access log ("rapportage"). The bestuur sees figures only: no names, no drill-down.
A leerkracht (and beheer) is refused with a Dutch 403 page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.audit.integrity import IntegrityStatus
from service.audit.integrity import status as chain_status
from service.bootstrap import Container
from service.reports import exports
from service.reports.figures import board_report, years_report
from service.reports.pdf import render_pdf
from service.reports.table import ReportTable
from service.reports.tables import board_tables, school_tables, years_tables
from service.schools.register import School, surname_sort_key
from service.store.schema import pupils, trajectories
from service.web.pages import DUTCH, page, signed_in
from service.web.report_view import drill_href, sections
from workflows.calendar import SchoolYear
from workflows.errors import DomainError

router = APIRouter(include_in_schema=False)

SCHOOL_ROLES = frozenset({Role.DIRECTIE, Role.IB})
BOARD_ROLES = frozenset({Role.BESTUUR})
_SCHOOL_REFUSAL = (
    "Als {role} kunt u de rapportage niet openen. De rapportage van de school is voor directie "
    "en intern begeleider; het bestuur vergelijkt zijn scholen onder Rapportage."
)
_BOARD_REFUSAL = (
    "Als {role} kunt u de rapportage van het bestuur niet openen: die is voor het bestuur. "
    "Directie en intern begeleider vinden de rapportage van hun school onder Rapportage."
)
_DRILL_REFUSAL = (
    "Als {role} kunt u de leerlingen achter een cijfer niet zien: namen zijn alleen voor "
    "directie en intern begeleider van de school."
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Scope:
    """What a report is about: the schools (one for a school report), the year, the years."""

    schools: list[School]
    year: SchoolYear
    years: list[str]
    """Offered in the switcher: the years with groep 8 pupils, and the current one."""
    board: bool
    data_years: list[str]
    """The years with groep 8 pupils (the report over the years shows the last five)."""
    mine: tuple[School, ...] = ()
    """All schools of the person (offered in the chooser)."""

    @property
    def params(self) -> dict[str, str]:
        if self.board:
            return {"jaar": str(self.year)}
        return {"school": self.schools[0].id, "jaar": str(self.year)}

    def query(self) -> str:
        pairs = [f"jaar={self.year}"]
        pairs += [f"school={s.id}" for s in self.schools]
        return "&".join(pairs)

    @property
    def file_stem(self) -> str:
        if self.board:
            return f"bestuur-{self.year}"
        return f"rapportage-{self.schools[0].brin.lower()}-{self.year}"


def _today(container: Container) -> Any:
    return container.clock().astimezone(DUTCH).date()


def _years(container: Container, school_ids: Sequence[str]) -> list[str]:
    """The school years with groep 8 pupils at these schools (one statement)."""
    query = (
        select(trajectories.c.school_year)
        .distinct()
        .where(
            trajectories.c.school_id.in_(list(school_ids)),
            trajectories.c.school_year.is_not(None),
            trajectories.c.groep == 8,
        )
    )
    with container.engine.connect() as conn:
        return sorted(row[0] for row in conn.execute(query))


def _scope(request: Request, container: Container, who: Principal, board: bool) -> Scope:
    mine = [s for s in container.register.schools() if s.id in who.school_ids]
    asked = request.query_params.getlist("school")
    chosen = [s for s in mine if s.id in asked]
    # a board compares two or more schools (fewer chosen: all); a school report is of one
    chosen = (chosen if len(chosen) >= 2 else mine) if board else (chosen[:1] or mine[:1])
    current = SchoolYear.containing(_today(container))
    try:
        year = SchoolYear.parse(request.query_params["jaar"])
    except (KeyError, ValueError, DomainError):  # none or not a school year: this one
        year = current
    found = _years(container, [s.id for s in chosen])
    return Scope(chosen, year, sorted({*found, str(current)}), board, found, tuple(mine))


TREND_YEARS = 5


def _tables(container: Container, scope: Scope, *, with_years: bool = True) -> list[ReportTable]:
    """The report's tables: the chosen year's, then (when there are several) the last years'
    key figures side by side, reusing the chosen year's figures (the others rolled up, a few
    statements per year)."""
    ids = [s.id for s in scope.schools]
    today = _today(container)
    report = board_report(container.engine, ids, scope.year, today=today)
    found = board_tables(report) if scope.board else school_tables(report.schools[0])
    trend = scope.data_years[-TREND_YEARS:]
    if with_years and len(trend) > 1:
        others = [y for y in trend if y != str(scope.year)]
        totals = {
            r.school_year: r for r in years_report(container.engine, ids, others, today=today)
        }
        totals[str(scope.year)] = report.total
        found += years_tables([totals[y] for y in trend])
    return found


def _session(
    request: Request, container: Container, board: bool, *, drill: bool = False
) -> tuple[SessionUser, Scope] | Response:
    roles, refusal = (BOARD_ROLES, _BOARD_REFUSAL) if board else (SCHOOL_ROLES, _SCHOOL_REFUSAL)
    if drill:
        refusal = _DRILL_REFUSAL
    elif not board:
        roles = roles | BOARD_ROLES  # the bestuur is sent on to its own report
    session = signed_in(request, container, roles, refusal)
    if isinstance(session, Response):
        return session
    if session.principal.role is Role.BESTUUR and not board:
        return RedirectResponse("/bestuur", status_code=303)
    scope = _scope(request, container, session.principal, board)
    if not scope.schools:
        return page(
            "message.html",
            403,
            who=session.principal,
            csrf_token=session.csrf_token,
            heading="Geen school",
            message="Uw account hoort bij geen school; vraag de beheerder om dat te regelen.",
        )
    return session, scope


def _page(request: Request, container: Container, board: bool) -> Response:
    found = _session(request, container, board)
    if isinstance(found, Response):
        return found
    session, scope = found
    base = "/bestuur" if board else "/rapportage"
    tables = _tables(container, scope)
    drill = None if board else drill_href("/rapportage/leerlingen", scope.params)
    wanted = request.query_params.getlist("school")
    return page(
        "v_report.html",
        who=session.principal,
        csrf_token=session.csrf_token,
        active=base,
        school_label="" if board else scope.schools[0].name,
        board=board,
        base=base,
        scope=scope,
        all_schools=scope.mine,
        too_few=board and 0 < len(wanted) < 2,
        sections=sections(tables, drill, lambda key: f"{base}/{key}.csv?{scope.query()}"),
        integrity=chain_status(container.engine),
    )


@router.get("/rapportage", response_class=HTMLResponse)
def school_page(request: Request, container: ContainerDep) -> Response:
    return _page(request, container, board=False)


@router.get("/bestuur", response_class=HTMLResponse)
def board_page(request: Request, container: ContainerDep) -> Response:
    return _page(request, container, board=True)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _xlsx(request: Request, container: Container, board: bool) -> Response:
    found = _session(request, container, board)
    if isinstance(found, Response):
        return found
    _, scope = found
    line = chain_status(container.engine).message
    content = exports.to_xlsx(_tables(container, scope), line)
    return _download(content, XLSX, f"{scope.file_stem}.xlsx")


def _csv(request: Request, container: Container, board: bool, key: str) -> Response:
    found = _session(request, container, board)
    if isinstance(found, Response):
        return found
    _, scope = found
    table = next((t for t in _tables(container, scope) if t.key == key), None)
    if table is None:
        return Response("Deze tabel bestaat niet.", status_code=404, media_type="text/plain")
    text = exports.to_csv(table, chain_status(container.engine).message)
    return _download(text.encode(), "text/csv; charset=utf-8", f"{scope.file_stem}-{key}.csv")


def _pdf(request: Request, container: Container, board: bool) -> Response:
    found = _session(request, container, board)
    if isinstance(found, Response):
        return found
    _, scope = found
    integrity: IntegrityStatus = chain_status(container.engine)
    html = bytes(
        page(
            "v_print.html",
            board=board,
            scope=scope,
            made_at=container.clock(),
            sections=sections(_tables(container, scope), None, lambda key: ""),
            integrity=integrity,
        ).body
    ).decode()
    return _download(render_pdf(html), "application/pdf", f"{scope.file_stem}.pdf")


@router.get("/rapportage/rapportage.xlsx")
def school_xlsx(request: Request, container: ContainerDep) -> Response:
    return _xlsx(request, container, board=False)


@router.get("/rapportage/rapportage.pdf")
def school_pdf(request: Request, container: ContainerDep) -> Response:
    return _pdf(request, container, board=False)


@router.get("/bestuur/bestuur.xlsx")
def board_xlsx(request: Request, container: ContainerDep) -> Response:
    return _xlsx(request, container, board=True)


@router.get("/bestuur/bestuur.pdf")
def board_pdf(request: Request, container: ContainerDep) -> Response:
    return _pdf(request, container, board=True)


@router.get("/rapportage/leerlingen", response_class=HTMLResponse)
def pupils_behind(request: Request, container: ContainerDep) -> Response:
    """The pupils behind one figure of the school report (its table, row and column)."""
    found = _session(request, container, board=False, drill=True)
    if isinstance(found, Response):
        return found
    session, scope = found
    key = request.query_params.get("tabel", "")
    table = next((t for t in _tables(container, scope, with_years=key.startswith("jaren"))
                  if t.key == key), None)  # fmt: skip
    try:
        r, c = int(request.query_params.get("rij", "")), int(request.query_params.get("kolom", ""))
    except ValueError:
        r = c = -1
    ids = table.pupils.get((r, c), ()) if table is not None else ()
    common: dict[str, Any] = {
        "who": session.principal,
        "csrf_token": session.csrf_token,
        "active": "/rapportage",
    }
    if table is None or not (0 <= r < len(table.rows) and 0 < c < len(table.columns)):
        return page(
            "message.html",
            404,
            heading="Cijfer niet gevonden",
            message="Dit cijfer staat niet (meer) in de rapportage.",
            **common,
        )
    school = scope.schools[0]
    query = select(pupils.c.id, pupils.c.given_name, pupils.c.family_name,
                   pupils.c.surname_prefix, pupils.c.class_name).where(
        pupils.c.id.in_(list(ids)), pupils.c.school_id == school.id
    )  # fmt: skip
    with container.engine.connect() as conn:
        rows = sorted(
            conn.execute(query),
            key=lambda p: (surname_sort_key(p.family_name, p.surname_prefix), p.given_name),
        )
    log_reads(container, session.principal, [p.id for p in rows], "rapportage", request)
    return page(
        "v_pupils.html",
        **common,
        school_label=school.name,
        table=table,
        row_label=str(table.rows[r][0]),
        column=table.columns[c],
        value=table.rows[r][c],
        pupils=rows,
        scope=scope,
        back=f"/rapportage?{scope.query()}",
        integrity=chain_status(container.engine),
    )


@router.get("/rapportage/{key}.csv")
def school_csv(key: str, request: Request, container: ContainerDep) -> Response:
    return _csv(request, container, False, key)


@router.get("/bestuur/{key}.csv")
def board_csv(key: str, request: Request, container: ContainerDep) -> Response:
    return _csv(request, container, True, key)
