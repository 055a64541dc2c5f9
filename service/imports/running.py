"""What both imports share: one transaction for the whole file, all or nothing, and a report.

The file is read and checked row by row; the rows that are right are decided by the domain in a
`Batch` (chunk by chunk, so memory stays flat and the progress bar moves). Should any row be
wrong, or the run be a dry run, the transaction is rolled back at the end: the store is exactly
as before, and the report names every bad row with its line number and reason. Otherwise it is
committed in one go. A re-run of the same file decides the same rows again and finds nothing new
to record (the pupil ids and delivery ids come from the file's own keys).

The whole file is one transaction with the log locked: API commands wait while a large file is
imported (a results file takes about 0.35 s per thousand rows on PostgreSQL, 0.26 s on SQLite:
bench/intake.py), so a provider's export for many schools is best imported outside school hours.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

from service.advice.batch import Batch
from service.bootstrap import Container
from service.imports.csvfile import Field, ImportFileError, Row, RowError, parse_date, read_rows
from service.schools.register import School

CHUNK = 500
# A pupil imported from a school administration is known by (school, leerlingnummer): the same
# number in a re-run, or in a results file, names the same pupil id.
PUPIL_NUMBERS = uuid.UUID("6f0c7a52-2f0e-4e36-9f7e-9d1b8a5c2a10")

Progress = Callable[[int, int], None]  # (rows done now, rows in the file)
T = TypeVar("T")


def pupil_id_for(school_id: str, number: str) -> uuid.UUID:
    return uuid.uuid5(PUPIL_NUMBERS, f"{school_id}/{number}")


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False
    outcomes: dict[int, str] = field(default_factory=dict)  # line -> what became of it

    def count(self, line: int, what: str) -> None:
        self.counts[what] += 1
        self.outcomes[line] = what

    @property
    def committed(self) -> bool:
        return not self.errors and not self.dry_run

    def summary(self) -> str:
        told = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))
        rows = f"{self.rows} regel{'s' if self.rows != 1 else ''}"
        if self.errors:
            bad = len({e.line for e in self.errors})
            return f"{bad} van {rows} afgekeurd; niets opgeslagen"
        if self.dry_run:
            return f"proefrun: {rows} in orde ({told}); niets opgeslagen"
        return f"{rows} opgeslagen ({told})"


class _NothingStoredError(Exception):
    """Ends the import's transaction without a commit (bad rows, or a dry run)."""


@contextmanager
def all_or_nothing(container: Container, report: ImportReport) -> Iterator[Batch]:
    """The import's transaction: rolled back when the report has errors or is a dry run."""
    try:
        with container.trajectories.batch() as batch:
            yield batch
            report.errors.sort(key=lambda e: e.line)
            if not report.committed:
                raise _NothingStoredError
    except _NothingStoredError:
        pass


@dataclass(frozen=True)
class ImportFile:
    """A file read and checked as a whole, with what every row is checked against."""

    rows: list[Row]
    default_school: School | None  # --school
    schools: dict[str, School]  # by BRIN and id, for a brin column
    source: str  # file name and content hash, in every event's metadata

    @classmethod
    def read(
        cls,
        container: Container,
        path: Path,
        fields: Sequence[Field],
        mapping: dict[str, str] | None,
        school: str | None,
        allowed: Collection[str] | None = None,
    ) -> ImportFile:
        """`allowed`: the ids of the only schools the file may name (a web user's); None: all."""
        rows = read_rows(path, fields, mapping or {})
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        schools = {
            code: found
            for code, found in schools_by_code(container).items()
            if allowed is None or found.id in allowed
        }
        given = None
        if school is not None:
            given = schools.get(school.strip().upper())
            if given is None:
                raise ImportFileError(f"school {school!r} staat niet in het register")
        return cls(rows, given, schools, f"{path.name} sha256:{digest[:16]}")


def schools_by_code(container: Container) -> dict[str, School]:
    """The register's schools by BRIN (case-insensitive) and by id."""
    found: dict[str, School] = {}
    for school in container.register.schools():
        found[school.brin.upper()] = school
        found[school.id.upper()] = school
    return found


def chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def school_of(
    values: dict[str, str],
    default: School | None,
    schools: dict[str, School],
    wrong: Callable[[str, str], None],
) -> School | None:
    """The row's school: its brin column, else the one given on the command line."""
    if values.get("brin"):
        school = schools.get(values["brin"].upper())
        if school is None:
            wrong("brin", f"school {values['brin']!r} staat niet in het register")
        return school
    if default is None:
        wrong("brin", "geen school: geef een kolom brin of --school")
    return default


def date_of(
    values: dict[str, str], name: str, default: date, wrong: Callable[[str, str], None]
) -> date:
    if not values.get(name):
        return default
    try:
        return parse_date(values[name])
    except ValueError as error:
        wrong(name, str(error))
        return default


def row_error(line: int, error: Exception, fields: dict[str, str]) -> RowError:
    """A refusal of the domain as a row error, with the file's name for the field."""
    field = fields.get(str(getattr(error, "field", "") or ""), "")
    return RowError(line, field, str(getattr(error, "message", error)))
