"""The access log as directie reads it: who read which pupil's data, when and what, for the
pupils of their own schools, filtered by pupil (part of the name), person and date range, newest
first, a page at a time; and the same rows as CSV and XLSX (read back, an XLSX equals the page).

Names are resolved in the query (a person whose account is gone reads as "onbekend account").
A pupil erased under the AVG has no name any more: the reads of their data stay visible to the
school's directie under a stable pseudonym with the date of the erasure ("gewiste leerling
(3F2A-9C1E), gewist op 01-12-2026", `service/schools/erasures.py`), and the pupil filter finds
them by that label. Reads of pupils erased before the erasures were kept (migration 0018) have
no school any more and are not shown.
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
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)

from service.accounts.roles import Role
from service.schools.erasures import PREFIX
from service.store.engine import single_statements
from service.store.schema import access_log, pupil_erasures, pupils, users

DUTCH = ZoneInfo("Europe/Amsterdam")
COLUMNS = ("Wanneer", "Wie", "Rol", "Leerling", "Klas", "Wat")
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class Filters:
    pupil: str = ""  # part of the pupil's name, any case
    person: str = ""  # a user id
    since: date | None = None  # from this day (Dutch time), inclusive
    until: date | None = None  # up to and including this day
    kind: str = ""  # one of KINDS' keys: which sort of read ("" every read)


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
    erased_at: datetime | None = None  # the pupil was erased then; `pupil` is the pseudonym

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """The row as the page, the CSV and the XLSX show it."""
        when = self.at.astimezone(DUTCH).strftime("%d-%m-%Y %H:%M:%S")
        pupil = self.pupil
        if self.erased_at is not None:
            pupil += f", gewist op {self.erased_at.astimezone(DUTCH):%d-%m-%Y}"
        what = READ_LABELS.get(self.what, self.what)
        return (when, self.person, self.role, pupil, self.class_name or "–", what)


READ_LABELS = {
    "dossier-pdf": "dossier als pdf",
    "actieformulier": "formulier bij de leerling",
    "trajectory": "stand van zaken (koppeling)",
    "geschiedenis": "geschiedenis (koppeling)",
    "toegangslog": "toegangslog (koppeling)",
    "import": "importeren",
}
"""What was read, as the access log's reader reads it (stored as the code that logged it)."""


# Pages that list many pupils at once: each pupil shown is logged (a list shows names and
# advice), which makes most of the log; the filter "Soort inzage" tells them apart.
LIST_READS = (
    "startpagina",
    "klassenpagina",
    "klasoverzicht",
    "klas voorlopig advies",
    "heroverwegingslijst",
    "gesprekkenweek",
    "gesprekken in gevaar",
    "rapportage",
    "toetsuitslagen",
    "jaarovergang",
)
KINDS = {
    "leerling": "één leerling geopend (pagina, dossier, formulier, gesprek, koppeling)",
    "lijst": "in een overzicht gezien (startpagina, klas, week, rapportage, …)",
    "buiten": "buiten de website: export, importeren, opdrachtregel",
}
"""The sorts of reads the page filters on, as the form offers them."""


def _of_kind(kind: str) -> ColumnElement[bool] | None:
    what = access_log.c.what
    outside = or_(what.startswith("opdrachtregel"), what.contains("export"), what == "import")
    if kind == "lijst":
        return what.in_(LIST_READS)
    if kind == "buiten":
        return outside
    if kind == "leerling":
        return ~or_(what.in_(LIST_READS), outside)
    return None


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), DUTCH)


# the pupil as the page names it: the register's name, or an erased pupil's pseudonym
_PUPIL_NAME = func.coalesce(
    pupils.c.given_name + " " + pupils.c.family_name,
    literal(f"{PREFIX} (") + pupil_erasures.c.label + ")",
)


def _pupils_of(school_ids: Collection[str], named: str, *, hashed: bool) -> ColumnElement[bool]:
    """The log's rows about the schools' pupils (in the register, or erased from it) whose name,
    or an erased pupil's pseudonym, contains `named`.

    Two forms, as the databases plan them best (measured on 300,000 rows of 50 schools, one
    school's page): with `hashed`, for a page on PostgreSQL, the log is walked backwards and
    each row tested against two hashed lists (10 ms; one IN over their UNION is tested by a scan
    per row: 33 ms). Otherwise one IN over the UNION: what PostgreSQL hash-joins for a count
    (100 ms; the hashed lists: 160 ms) and SQLite does best for both (a page 54 ms, not 77)."""
    wanted = sorted(school_ids)
    present = select(pupils.c.id).where(pupils.c.school_id.in_(wanted))
    erased = select(pupil_erasures.c.pupil_id).where(
        pupil_erasures.c.school_id.in_(wanted),
        ~exists().where(pupils.c.id == pupil_erasures.c.pupil_id),  # an import brought it back
    )
    if named:
        name = func.lower(pupils.c.given_name + " " + pupils.c.family_name)
        present = present.where(name.contains(named, autoescape=True))
        label = func.lower(literal(f"{PREFIX} (") + pupil_erasures.c.label + ")")
        erased = erased.where(label.contains(named, autoescape=True))
    if hashed:
        return or_(access_log.c.pupil_id.in_(present), access_log.c.pupil_id.in_(erased))
    return access_log.c.pupil_id.in_(union_all(present, erased))


def _query(
    school_ids: Collection[str], filters: Filters, *columns: Any, hashed: bool = False
) -> Select[Any]:
    named = filters.pupil.strip().lower()
    query = (
        select(*columns)
        .select_from(access_log)
        .outerjoin(pupils, pupils.c.id == access_log.c.pupil_id)
        .outerjoin(pupil_erasures, pupil_erasures.c.pupil_id == access_log.c.pupil_id)
        .where(_pupils_of(school_ids, named, hashed=hashed))
    )
    if filters.person:
        query = query.where(access_log.c.user_id == filters.person)
    if filters.since is not None:
        query = query.where(access_log.c.at >= _start(filters.since))
    if filters.until is not None:
        query = query.where(access_log.c.at < _start(filters.until + timedelta(days=1)))
    kind = _of_kind(filters.kind)
    if kind is not None:
        query = query.where(kind)
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
            _PUPIL_NAME.label("pupil"),
            func.coalesce(pupils.c.class_name, pupil_erasures.c.class_name).label("class_name"),
            pupils.c.id.label("in_register"),
            pupil_erasures.c.erased_at,
            hashed=engine.dialect.name == "postgresql",
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
            pupil=r.pupil,
            class_name=r.class_name or "",
            what=r.what,
            request_id=r.request_id,
            erased_at=r.erased_at if r.in_register is None else None,
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
