"""The access log as directie reads it: who read which pupil's data, when and what, for the
pupils of their own schools, filtered by pupil (part of the name), person and date range, newest
first, a page at a time; and the same rows as CSV and XLSX (read back, an XLSX equals the page).

Names are resolved in the query (a person whose account is gone reads as "onbekend account");
rows of pupils no longer in the register are not shown (their school is not known any more).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import Engine, Select, func, select

from service.accounts.roles import Role
from service.store.engine import single_statements
from service.store.schema import access_log, pupils, users

DUTCH = ZoneInfo("Europe/Amsterdam")
COLUMNS = ("Wanneer", "Wie", "Rol", "Leerling", "Klas", "Wat")
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class Filters:
    pupil: str = ""  # part of the pupil's name, any case
    person: str = ""  # a user id
    since: date | None = None  # from this day (Dutch time), inclusive
    until: date | None = None  # up to and including this day


@dataclass(frozen=True)
class AccessRow:
    id: int
    at: datetime
    person: str
    role: str
    pupil_id: str
    pupil: str
    class_name: str
    what: str
    request_id: str | None

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """The row as the page, the CSV and the XLSX show it."""
        when = self.at.astimezone(DUTCH).strftime("%d-%m-%Y %H:%M:%S")
        return (when, self.person, self.role, self.pupil, self.class_name or "–", self.what)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), DUTCH)


def _query(school_ids: Collection[str], filters: Filters, *columns: Any) -> Select[Any]:
    query = (
        select(*columns)
        .select_from(access_log)
        .join(pupils, pupils.c.id == access_log.c.pupil_id)
        .where(pupils.c.school_id.in_(sorted(school_ids)))
    )
    if filters.pupil.strip():
        name = func.lower(pupils.c.given_name + " " + pupils.c.family_name)
        query = query.where(name.contains(filters.pupil.strip().lower(), autoescape=True))
    if filters.person:
        query = query.where(access_log.c.user_id == filters.person)
    if filters.since is not None:
        query = query.where(access_log.c.at >= _start(filters.since))
    if filters.until is not None:
        query = query.where(access_log.c.at < _start(filters.until + timedelta(days=1)))
    return query


def _role(value: str) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value


def reads(
    engine: Engine, school_ids: Collection[str], filters: Filters, *, offset: int, limit: int
) -> list[AccessRow]:
    """The reads of the schools' pupils that pass the filters, newest first."""
    if not school_ids:
        return []
    query = (
        _query(
            school_ids,
            filters,
            access_log,
            users.c.name.label("person"),
            pupils.c.given_name,
            pupils.c.family_name,
            pupils.c.class_name,
        )
        .outerjoin(users, users.c.id == access_log.c.user_id)
        .order_by(access_log.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    with single_statements(engine).connect() as conn:
        rows = conn.execute(query).all()
    return [
        AccessRow(
            id=r.id,
            at=r.at,
            person=r.person or "onbekend account",
            role=_role(r.role),
            pupil_id=r.pupil_id,
            pupil=f"{r.given_name} {r.family_name}",
            class_name=r.class_name or "",
            what=r.what,
            request_id=r.request_id,
        )
        for r in rows
    ]


def count(engine: Engine, school_ids: Collection[str], filters: Filters) -> int:
    if not school_ids:
        return 0
    with single_statements(engine).connect() as conn:
        found = conn.execute(_query(school_ids, filters, func.count())).scalar_one()
    return int(found)


def people(engine: Engine, school_ids: Collection[str]) -> list[tuple[str, str]]:
    """(user id, "name (role)") of everyone who read data of the schools' pupils, by name."""
    if not school_ids:
        return []
    query = (
        _query(school_ids, Filters(), access_log.c.user_id, users.c.name, users.c.role)
        .outerjoin(users, users.c.id == access_log.c.user_id)
        .distinct()
    )
    with single_statements(engine).connect() as conn:
        rows = conn.execute(query).all()
    found = {
        r.user_id: f"{r.name or 'onbekend account'} ({_role(r.role) if r.role else '?'})"
        for r in rows
    }
    return sorted(found.items(), key=lambda item: item[1].casefold())


def to_csv(rows: Sequence[AccessRow]) -> str:
    """Semicolon-separated with a header (Excel in Dutch opens it as columns)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.cells() for row in rows)
    return out.getvalue()


def to_xlsx(rows: Sequence[AccessRow], integrity: str) -> bytes:
    """One sheet "Toegangslog" (the page's columns), and the log's integrity line beside it."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Toegangslog")
    sheet.freeze_panes = "A2"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row.cells())
    status = book.create_sheet("Integriteit")
    status.append(("Integriteit van het logboek",))
    status.append((integrity,))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
