"""The administration trail's page `/beheer/logboek` ("Logboek beheer"): who invited, changed,
disabled or enabled which account, made or revoked which token or test provider's link, added
which school or set its chain data — when, on the website or the command line, and the role,
schools and classes before and after. Newest first, 50 rows a page, and the same rows as CSV.

Beheer sees every row; directie the rows about its own schools (the accounts that work there,
its school's data), as it sees those accounts on `/beheer/accounts`. The page shows no pupil.
"""

from __future__ import annotations

from math import ceil

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.api.deps import ContainerDep
from service.audit import admin_trail
from service.bootstrap import Container
from service.web.pages import page, signed_in

router = APIRouter(include_in_schema=False)

PATH, PER_PAGE = "/beheer/logboek", 50
READERS = frozenset({Role.BEHEER, Role.DIRECTIE})
_REFUSAL = "Als {role} ziet u het logboek van het beheer niet; vraag uw beheerder."


def concerned(who: Principal) -> frozenset[str] | None:
    """The schools whose rows `who` reads; None: every row (beheer)."""
    return None if who.role is Role.BEHEER else who.school_ids


def brins(container: Container) -> dict[str, str]:
    return {school.id: school.brin for school in container.register.schools()}


@router.get(PATH, response_class=HTMLResponse)
def trail_page(request: Request, container: ContainerDep) -> Response:
    session = signed_in(request, container, READERS, _REFUSAL)
    if not isinstance(session, SessionUser):
        return session
    where = concerned(session.principal)
    total = admin_trail.count(container.engine, where)
    pages = max(1, ceil(total / PER_PAGE))
    try:
        current = min(pages, max(1, int(request.query_params.get("pagina", "1"))))
    except ValueError:
        current = 1
    rows = admin_trail.entries(
        container.engine, where, offset=(current - 1) * PER_PAGE, limit=PER_PAGE
    )
    return page(
        "o_trail.html",
        who=session.principal,
        csrf_token=session.csrf_token,
        active="/beheer/accounts",
        rows=rows,
        brins=brins(container),
        total=total,
        current=current,
        pages=pages,
        page_url=lambda n: f"{PATH}?pagina={n}",
        columns=admin_trail.COLUMNS,
    )


@router.get(f"{PATH}.csv")
def trail_csv(request: Request, container: ContainerDep) -> Response:
    session = signed_in(request, container, READERS, _REFUSAL)
    if not isinstance(session, SessionUser):
        return session
    rows = admin_trail.entries(
        container.engine, concerned(session.principal), limit=admin_trail.EXPORT_LIMIT
    )
    text = admin_trail.to_csv(rows, brins(container))
    return Response(
        ("\ufeff" + text).encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="logboek-beheer.csv"',
            "Cache-Control": "no-store",
        },
    )
