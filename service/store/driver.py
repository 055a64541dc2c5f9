"""The small shared driver layer every table owner writes its SQL on.

Fixed SQL strings on the DBAPI connection of a transaction that is already open: building
SQLAlchemy statement objects cost more per command than the database work itself (a profile of a
five-event append showed two thirds of the time in statement construction). `?` placeholders are
rewritten for psycopg; values are stored exactly as SQLAlchemy's types store them (JSON text and
naive UTC timestamps on SQLite, jsonb and timestamptz on PostgreSQL), so every other reader of the
tables is unaffected. This class is the SQLite behaviour; the PostgreSQL adapter
(`service.store.postgres`) subclasses it with the driver's own JSON type, pipeline and COPY.

Each capability keeps its own tables' statements in its own module and runs them on a `Driver`
(the log in `service.store.log`, the trajectories read model in `service.projections`, the outbox
in `service.outbox`, deliveries in `service.intake`, the register in `service.schools`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.store.hashing import canonical, parse

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class Driver:
    """One open transaction (or autocommit connection) on one database."""

    postgres = False

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._pending: list[tuple[str, Sequence[Sequence[Any]]]] | None = None

    # -- batching writes ------------------------------------------------------------------------

    def defer(self) -> None:
        """From now on, queue writes and send them together at `flush` (a pipeline on PG)."""
        self._pending = []

    def flush(self) -> None:
        """Send what was queued; later writes go straight out again (until the next `defer`)."""
        pending, self._pending = self._pending, None
        if pending:
            self._send_all(pending)

    def _send_all(self, pending: list[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        for statement, rows in pending:
            self._send(statement, rows)

    def _send(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self.raw.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(statement, rows[0])
            else:
                cursor.executemany(statement, rows)
        finally:
            cursor.close()

    # -- statements -----------------------------------------------------------------------------

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        if self._pending:
            self.flush()
        cursor = self.raw.cursor()
        try:
            cursor.execute(self.sql(statement), params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        if self._pending:
            self.flush()
        cursor = self.raw.cursor()
        try:
            cursor.execute(self.sql(statement), params)
            rows: list[Any] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    def run(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.run_many(statement, [params])

    def run_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._pending is not None:
            self._pending.append((self.sql(statement), rows))
        else:
            self._send(self.sql(statement), rows)

    def copy_rows(self, table: str, columns: Sequence[str], lines: Sequence[str]) -> bool:
        """Rows in COPY's text format, where the database has COPY; False where it has not."""
        return False

    # -- values ---------------------------------------------------------------------------------

    def json_in(self, value: Any) -> Any:
        return canonical(value)

    def json_out(self, value: Any) -> Any:
        return parse(value)

    def time_in(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).strftime(_SQLITE_TIME)

    def time_out(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """`column` is one of `values`: a condition and its one parameter, the same statement
        whatever their number. On SQLite the values go as one JSON array; PostgreSQL uses
        `= ANY(array)` (see its adapter)."""
        return f"{column} IN (SELECT value FROM json_each(?))", canonical(list(values))


@dataclass(frozen=True)
class Table:
    """A table owned by a capability that the store writes inside a unit of work: its name, its
    columns in order (the one definition: the upsert, the COPY of a rebuild and the PostgreSQL
    append function's column list are all checked against it), its key and its JSON columns."""

    name: str
    columns: tuple[str, ...]
    key: str
    json_columns: frozenset[str] = frozenset()

    def values(self, driver: Driver, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            driver.json_in(row[c]) if c in self.json_columns else row[c] for c in self.columns
        )

    def upsert(self, driver: Driver, rows: Sequence[dict[str, Any]]) -> None:
        names = ", ".join(self.columns)
        marks = ", ".join("?" for _ in self.columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c != self.key)
        driver.run_many(
            f"INSERT INTO {self.name} ({names}) VALUES ({marks}) "
            f"ON CONFLICT ({self.key}) DO UPDATE SET {updates}",
            [self.values(driver, r) for r in rows],
        )

    def insert(self, driver: Driver, rows: Sequence[dict[str, Any]]) -> None:
        """Rows into an emptied table (a rebuild): COPY where the database has it."""
        from service.store.copyformat import copy_value  # noqa: PLC0415 - rebuilds only

        lines = ["\t".join(copy_value(r[c]) for c in self.columns) + "\n" for r in rows]
        if driver.copy_rows(self.name, self.columns, lines):
            return
        names = ", ".join(self.columns)
        marks = ", ".join("?" for _ in self.columns)
        driver.run_many(
            f"INSERT INTO {self.name} ({names}) VALUES ({marks})",
            [self.values(driver, r) for r in rows],
        )
