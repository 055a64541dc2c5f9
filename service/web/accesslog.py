"""The access log page `/toegangslog`: directie (also the school's privacy officer) sees who read
which pupil's data of their school, when and what; filters by pupil (part of the name), person
and date range; 50 rows a page, newest first; the same rows as CSV and XLSX.

Looking at the page is not itself in the access log (it would bury the reads it audits under
its own); an export is: a file with pupils' names leaves the service, so each pupil in it gets
a row "toegangslog-export" — written after the file's rows were read, so the export shows what
the page showed. Reads of an erased pupil show the pupil's pseudonym and the date of erasure
(`service/audit/access_report.py`); the export records no read of them (no name leaves).
"""

from __future__ import annotations

from datetime import date
from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.audit import access_report
from service.audit.access_report import AccessRow, Filters
from service.audit.integrity import status as integrity_status
from service.bootstrap import Container
from service.web.pages import page, signed_in

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
AUDITORS = frozenset({Role.DIRECTIE})
_REFUSAL = "Als {role} ziet u het toegangslog niet; dat is voor de directie van de school."


def _day(value: str, errors: dict[str, str], name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[name] = "Geef een datum als 2026-03-24."
        return None


def _filters(request: Request) -> tuple[Filters, dict[str, str], dict[str, str]]:
    """The filters from the address, what was typed (to show again) and what is wrong."""
    names = ("leerling", "persoon", "van", "tot", "soort")
    given = {k: request.query_params.get(k, "") for k in names}
    errors: dict[str, str] = {}
    since = _day(given["van"], errors, "van")
    until = _day(given["tot"], errors, "tot")
    if since and until and until < since:
        errors["tot"] = "De einddatum ligt voor de begindatum."
    if given["soort"] and given["soort"] not in access_report.KINDS:
        errors["soort"] = "Kies een soort inzage uit de lijst."
    filters = Filters(given["leerling"][:100], given["persoon"][:36], since, until, given["soort"])
    return filters, given, errors


def _session(request: Request, container: Container) -> SessionUser | Response:
    return signed_in(request, container, AUDITORS, _REFUSAL)


@router.get("/toegangslog", response_class=HTMLResponse)
def access_log_page(request: Request, container: ContainerDep) -> Response:
    session = _session(request, container)
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    schools = who.school_ids
    filters, given, errors = _filters(request)
    try:
        current = max(1, int(request.query_params.get("pagina", "1")))
    except ValueError:
        current = 1
    total = 0 if errors else access_report.count(container.engine, schools, filters)
    pages = max(1, ceil(total / PER_PAGE))
    current = min(current, pages)
    rows = (
        []
        if errors
        else access_report.reads(
            container.engine, schools, filters, offset=(current - 1) * PER_PAGE, limit=PER_PAGE
        )
    )
    kept = {k: v for k, v in given.items() if v}
    return page(
        "a_accesslog.html",
        status=422 if errors else 200,
        who=who,
        csrf_token=session.csrf_token,
        active="/toegangslog",
        rows=rows,
        total=total,
        current=current,
        pages=pages,
        given=given,
        errors=errors,
        people=access_report.people(container.engine, schools),
        kinds=list(access_report.KINDS.items()),
        query=urlencode(kept),
        page_url=lambda n: "/toegangslog?" + urlencode({**kept, "pagina": n}),
        columns=access_report.COLUMNS,
        integrity=integrity_status(container.engine),
    )


def _export(
    request: Request, container: Container, kind: str
) -> tuple[Principal, list[AccessRow]] | Response:
    session = _session(request, container)
    if not isinstance(session, SessionUser):
        return session
    filters, _, errors = _filters(request)
    if errors:
        return page(
            "message.html",
            status=422,
            who=session.principal,
            csrf_token=session.csrf_token,
            heading="Export niet gemaakt",
            message=" ".join(errors.values()),
        )
    who = session.principal
    rows = access_report.reads(
        container.engine,
        who.school_ids,
        filters,
        offset=0,
        limit=access_report.EXPORT_LIMIT,
    )
    # an erased pupil's pseudonym is no name leaving the service: no read of their data
    pupil_ids = list(dict.fromkeys(row.pupil_id for row in rows if row.erased_at is None))
    log_reads(container, who, pupil_ids, f"toegangslog-export ({kind})", request)
    return who, rows


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/toegangslog.csv")
def access_log_csv(request: Request, container: ContainerDep) -> Response:
    found = _export(request, container, "csv")
    if isinstance(found, Response):
        return found
    _, rows = found
    text = access_report.to_csv(rows)
    return _download(("\ufeff" + text).encode(), "text/csv; charset=utf-8", _name("csv"))


@router.get("/toegangslog.xlsx")
def access_log_xlsx(request: Request, container: ContainerDep) -> Response:
    found = _export(request, container, "xlsx")
    if isinstance(found, Response):
        return found
    _, rows = found
    body = access_report.to_xlsx(rows, integrity_status(container.engine).message)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(body, media, _name("xlsx"))


def _name(extension: str) -> str:
    return f"toegangslog.{extension}"
