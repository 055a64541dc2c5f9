"""The store's hot path in plain SQL on the driver's cursor, inside SQLAlchemy's transaction.

Building SQLAlchemy statement objects costs more per append than the database work itself (a
profile of a five-event append showed two thirds of the time in statement construction), so the
few statements every command runs are fixed strings here, executed on the DBAPI connection of the
SQLAlchemy transaction that is already open (psycopg prepares them after a few uses). The values
are stored exactly as SQLAlchemy's types store them (JSON text and naive UTC timestamps on SQLite,
jsonb and timestamptz on PostgreSQL), so every other reader of these tables is unaffected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection

from service.store.events import Fact, StoredEvent
from service.store.hashing import canonical, parse

EVENT_COLUMNS = (
    "position, stream_id, stream_version, event_type, schema_version, data, "
    "metadata, recorded_at, hash"
)
TRAJECTORY_COLUMNS = (
    "stream_id",
    "school_id",
    "school_year",
    "groep",
    "status",
    "conversation",
    "provisional_advice",
    "provisional_given_on",
    "provisional_timeliness",
    "test_advice",
    "final_advice",
    "final_basis",
    "final_given_on",
    "reconsideration_deadline",
    "late",
    "version",
    "position",
)
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
# Appends are serialised by a transaction-level advisory lock (released at commit, after the
# transaction is visible); unlike SELECT ... FOR UPDATE it writes nothing, so a transaction that
# ends up appending nothing commits without a WAL flush. Any constant works if all writers agree.
APPEND_LOCK_KEY = 0x61647669657374  # "adviest"
LOCK_SQL = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"
HEAD_SQL = "SELECT position, hash FROM log_head WHERE id = 1"


class SqlIO:
    """Fixed statements for one dialect; `?` placeholders are rewritten for psycopg."""

    def __init__(self, conn: Connection) -> None:
        self.postgres = conn.dialect.name == "postgresql"
        self.raw: Any = conn.connection.driver_connection
        self._pending: list[tuple[str, Sequence[Sequence[Any]]]] | None = None

    @classmethod
    def on_driver(cls, driver: Any, *, postgres: bool) -> SqlIO:
        """For a transaction the caller runs on the driver connection itself."""
        io = cls.__new__(cls)
        io.postgres, io.raw, io._pending = postgres, driver, None
        return io

    def defer(self) -> None:
        """From now on, queue writes and send them together at `flush` (a pipeline on PG)."""
        self._pending = []

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if not pending:
            self._pending = [] if pending is not None else None
            return
        if self.postgres:
            # One cursor for the whole pipeline, closed after it: closing a cursor inside the
            # pipeline would wait for its results and defeat the single round trip.
            # The first error (e.g. the unique index refusing a stale append) is the one raised;
            # the pipeline's own "aborted" follow-up is only its consequence.
            cursor = self.raw.cursor()
            errors: list[psycopg.Error] = []
            try:
                with self.raw.pipeline():
                    try:
                        for statement, rows in pending:
                            if len(rows) == 1:
                                cursor.execute(statement, rows[0])
                            else:
                                cursor.executemany(statement, rows)
                    except psycopg.Error as error:
                        errors.append(error)
            except psycopg.Error as error:
                errors.append(error)
            finally:
                cursor.close()
            if errors:
                raise errors[0]
        else:
            for statement, rows in pending:
                self._send(statement, rows)
        self._pending = []

    def _send(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self.raw.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(statement, rows[0])
            else:
                cursor.executemany(statement, rows)
        finally:
            cursor.close()

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def json_in(self, value: Any) -> Any:
        return Jsonb(value) if self.postgres else canonical(value)

    def json_out(self, value: Any) -> Any:
        return value if self.postgres else parse(value)

    def time_in(self, moment: datetime) -> Any:
        return moment if self.postgres else moment.astimezone(UTC).strftime(_SQLITE_TIME)

    def time_out(self, value: Any) -> datetime:
        if self.postgres:
            moment: datetime = value.astimezone(UTC)
            return moment
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        if self._pending:
            self.flush()
        cursor = self.raw.cursor()
        try:
            cursor.execute(self._sql(statement), params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        if self._pending:
            self.flush()
        cursor = self.raw.cursor()
        try:
            cursor.execute(self._sql(statement), params)
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
            self._pending.append((self._sql(statement), rows))
        else:
            self._send(self._sql(statement), rows)

    # -- the log ----------------------------------------------------------------------------

    def lock_head(self) -> tuple[int, str]:
        if self.postgres:  # SQLite: BEGIN IMMEDIATE already holds the database's write lock
            self.one(LOCK_SQL)
        row = self.one(HEAD_SQL)
        return int(row[0]), str(row[1])

    def lock_head_and_read(
        self, stream_id: str, idempotency_key: str | None
    ) -> tuple[tuple[int, str], list[StoredEvent], tuple[str, dict[str, Any]] | None]:
        """Lock the log, then read its head, one stream and a remembered response (the SQLite
        command path; PostgreSQL commands use `adviestraject_append`)."""
        read_sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version"
        key_sql = "SELECT fingerprint, response FROM idempotency_keys WHERE key = ?"
        if self.postgres:  # SQLite: BEGIN IMMEDIATE already holds the database's write lock
            self.one(LOCK_SQL)
        head = self.one(HEAD_SQL)
        rows = self.all(read_sql, (stream_id,))
        found = self.one(key_sql, (idempotency_key,)) if idempotency_key is not None else None
        idempotent = None if found is None else (found[0], self.json_out(found[1]))
        return (int(head[0]), str(head[1])), [self._event(r) for r in rows], idempotent

    def read_for_command(
        self, stream_id: str, idempotency_key: str | None, pupil_id: str
    ) -> tuple[list[StoredEvent], tuple[str, dict[str, Any]] | None, bytes | None]:
        """Stream, remembered response and pupil key in one statement (autocommit, no lock).

        The key lookups ride along as columns of every stream row (or of one empty row when the
        stream is new), so a command's read is one round trip and one snapshot.
        """
        columns = ", ".join(f"e.{c.strip()}" for c in EVENT_COLUMNS.split(","))
        rows = self.all(
            f"SELECT k.key, i.fingerprint, i.response, {columns} "
            "FROM (SELECT 1) AS one "
            "LEFT JOIN pupil_keys AS k ON k.pupil_id = ? "
            "LEFT JOIN idempotency_keys AS i ON i.key = ? "
            "LEFT JOIN events AS e ON e.stream_id = ? "
            "ORDER BY e.stream_version",
            (pupil_id, idempotency_key, stream_id),
        )
        first = rows[0]
        key = None if first[0] is None else bytes(first[0])
        remembered = None if first[1] is None else (first[1], self.json_out(first[2]))
        stored = [self._event(r[3:]) for r in rows if r[3] is not None]
        return stored, remembered, key

    def call_append(
        self,
        stream_id: str,
        expected: int,
        events: Sequence[tuple[str, int, dict[str, Any]]],
        metadata: dict[str, Any],
        recorded_at: datetime,
        contents: Sequence[str],
        read_model: dict[str, Any] | None,
        topics: Sequence[str | None],
        idempotency: tuple[str, str] | None,
    ) -> list[tuple[int, str]]:
        """`adviestraject_append` (migration 0005): one statement, one round trip, committed.

        The JSON goes as text (orjson, cast by the server), not through psycopg's adapters.
        """
        key, fingerprint = idempotency or (None, None)
        batch = [
            [event_type, version, data, content, topic]
            for (event_type, version, data), content, topic in zip(
                events, contents, topics, strict=True
            )
        ]
        return [
            (int(r[0]), str(r[1]))
            for r in self.all(
                "SELECT * FROM adviestraject_append(?::text, ?::integer, ?::jsonb, ?::jsonb, "
                "?::timestamptz, ?::jsonb, ?::text, ?::text)",
                (
                    stream_id,
                    expected,
                    canonical(batch),
                    canonical(metadata),
                    recorded_at,
                    None if read_model is None else canonical(read_model),
                    key,
                    fingerprint,
                ),
            )
        ]

    def move_head(self, position: int, digest: str) -> None:
        self.run("UPDATE log_head SET position = ?, hash = ? WHERE id = 1", (position, digest))

    def stream_version(self, stream_id: str) -> int:
        row = self.one(
            "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (stream_id,)
        )
        return int(row[0])

    def stream_versions(self, stream_ids: Sequence[str]) -> dict[str, int]:
        # The ids go as one JSON array: one fixed (prepared) statement whatever their number,
        # where an IN list of 500 placeholders was parsed and planned anew every time.
        where, ids = self.any_of("stream_id", stream_ids)
        rows = self.all(
            f"SELECT stream_id, MAX(stream_version) FROM events WHERE {where} GROUP BY stream_id",
            (ids,),
        )
        return {row[0]: int(row[1]) for row in rows}

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Several streams in one statement (ids as one JSON array, as `stream_versions`)."""
        where, ids = self.any_of("stream_id", stream_ids)
        rows = self.all(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY stream_id, stream_version",
            (ids,),
        )
        found: dict[str, list[StoredEvent]] = {}
        for row in rows:
            found.setdefault(row[1], []).append(self._event(row))
        return found

    def remembered(self, keys: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """The remembered responses of several idempotency keys, in one statement."""
        where, ids = self.any_of("key", keys)
        rows = self.all(
            f"SELECT key, fingerprint, response FROM idempotency_keys WHERE {where}", (ids,)
        )
        return {row[0]: (row[1], self.json_out(row[2])) for row in rows}

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """`column` is one of `values`: a condition and its one parameter, the same statement
        whatever their number. On PostgreSQL `= ANY(array)`, which the planner answers from the
        index even in a generic (prepared) plan; a subquery over a JSON array made it hash all of
        `events` once the table was large. On SQLite the values go as one JSON array."""
        if self.postgres:
            return f"{column} = ANY(?)", list(values)
        return f"{column} IN (SELECT value FROM json_each(?))", canonical(list(values))

    # -- what the intake worker reads under the batch's lock ------------------------------------

    def pending_deliveries(self, delivery_ids: Sequence[int]) -> set[int]:
        where, ids = self.any_of("id", delivery_ids)
        rows = self.all(
            f"SELECT id FROM result_deliveries WHERE {where} AND state = 'pending'", (ids,)
        )
        return {int(r[0]) for r in rows}

    def schools_of_pupils(self, pupil_ids: Sequence[str]) -> dict[str, str]:
        """The school of every given pupil that is in the register."""
        if not pupil_ids:
            return {}
        where, ids = self.any_of("id", pupil_ids)
        rows = self.all(f"SELECT id, school_id FROM pupils WHERE {where}", (ids,))
        return {str(r[0]): str(r[1]) for r in rows}

    def register_rows(self, pupil_ids: Sequence[str]) -> tuple[list[Any], list[Any]]:
        """The register's rows of these pupils and of their parents (an import compares)."""
        where, ids = self.any_of("id", pupil_ids)
        pupils = self.all(
            "SELECT id, school_id, given_name, family_name, class_name, initials, birth_date, sex "
            f"FROM pupils WHERE {where}",
            (ids,),
        )
        where, ids = self.any_of("pupil_id", pupil_ids)
        parents = self.all(
            f"SELECT id, pupil_id, name, email, phone FROM parents WHERE {where}", (ids,)
        )
        return pupils, parents

    def insert_events(self, stored: Sequence[StoredEvent]) -> None:
        self.run_many(
            f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.position,
                    e.stream_id,
                    e.stream_version,
                    e.event_type,
                    e.schema_version,
                    self.json_in(e.data),
                    self.json_in(e.metadata),
                    self.time_in(e.recorded_at),
                    e.hash,
                )
                for e in stored
            ],
        )

    def _event(self, row: Sequence[Any]) -> StoredEvent:
        return StoredEvent(
            position=row[0],
            stream_id=row[1],
            stream_version=row[2],
            event_type=row[3],
            schema_version=row[4],
            data=self.json_out(row[5]),
            metadata=self.json_out(row[6]),
            recorded_at=self.time_out(row[7]),
            hash=row[8],
        )

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        rows = self.all(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version",
            (stream_id,),
        )
        return [self._event(r) for r in rows]

    def read_page(self, after: int, limit: int) -> list[StoredEvent]:
        rows = self.all(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return [self._event(r) for r in rows]

    def read_facts(self, after: int, limit: int) -> list[Fact]:
        rows = self.all(
            "SELECT position, stream_id, event_type, schema_version, data FROM events "
            "WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        if self.postgres:
            return [Fact._make(r) for r in rows]
        return [Fact(r[0], r[1], r[2], r[3], parse(r[4])) for r in rows]

    # -- what joins an append -----------------------------------------------------------------

    def upsert_trajectories(self, rows: Sequence[dict[str, Any]]) -> None:
        names = ", ".join(TRAJECTORY_COLUMNS)
        marks = ", ".join("?" for _ in TRAJECTORY_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in TRAJECTORY_COLUMNS[1:])
        self.run_many(
            f"INSERT INTO trajectories ({names}) VALUES ({marks}) "
            f"ON CONFLICT (stream_id) DO UPDATE SET {updates}",
            [
                tuple(self.json_in(r[c]) if c == "late" else r[c] for c in TRAJECTORY_COLUMNS)
                for r in rows
            ],
        )

    def insert_trajectories(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows into an emptied `trajectories` (a rebuild): COPY on PostgreSQL."""
        if not self.postgres:
            names = ", ".join(TRAJECTORY_COLUMNS)
            marks = ", ".join("?" for _ in TRAJECTORY_COLUMNS)
            self.run_many(
                f"INSERT INTO trajectories ({names}) VALUES ({marks})",
                [
                    tuple(self.json_in(r[c]) if c == "late" else r[c] for c in TRAJECTORY_COLUMNS)
                    for r in rows
                ],
            )
            return
        lines = ["\t".join(copy_value(r[c]) for c in TRAJECTORY_COLUMNS) + "\n" for r in rows]
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f"COPY trajectories ({', '.join(TRAJECTORY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for start in range(0, len(lines), 1000):
                copy.write("".join(lines[start : start + 1000]))

    def insert_outbox(self, rows: Sequence[dict[str, Any]]) -> None:
        self.run_many(
            "INSERT INTO outbox (position, stream_id, topic, payload, created_at, available_at, "
            "attempts) VALUES (?, ?, ?, ?, ?, ?, 0)",
            [
                (
                    r["position"],
                    r["stream_id"],
                    r["topic"],
                    self.json_in(r["payload"]),
                    self.time_in(r["created_at"]),
                    self.time_in(r["available_at"]),
                )
                for r in rows
            ],
        )

    def remember(
        self, key: str, stream_id: str, fingerprint: str, response: dict[str, Any], now: datetime
    ) -> None:
        self.run(
            "INSERT INTO idempotency_keys (key, stream_id, fingerprint, response, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (key, stream_id, fingerprint, self.json_in(response), self.time_in(now)),
        )

    def pupil_key(self, pupil_id: str) -> bytes | None:
        row = self.one("SELECT key FROM pupil_keys WHERE pupil_id = ?", (pupil_id,))
        return None if row is None else bytes(row[0])

    def add_pupil_key(self, pupil_id: str, key: bytes, now: datetime) -> None:
        self.run(
            "INSERT INTO pupil_keys (pupil_id, key, created_at) VALUES (?, ?, ?)",
            (pupil_id, key, self.time_in(now)),
        )


def copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def copy_value(value: Any) -> str:
    """A Python value in COPY's text format (NULL, numbers, dates, JSON for lists and dicts)."""
    by_type = _COPY_FORMATS.get(type(value))
    if by_type is None:  # a subclass (an IntEnum, say): the first format its type inherits
        by_type = next((f for t, f in _COPY_FORMATS.items() if isinstance(value, t)), _text)
    return by_type(value)


def _null(_: None) -> str:
    return "\\N"


def _boolean(value: bool) -> str:
    return "t" if value else "f"


def _json(value: Any) -> str:
    return copy_text(canonical(value))


def _text(value: Any) -> str:
    return copy_text(str(value))


# One dict lookup for the exact types a row holds (a rebuild formats millions of values).
# Order matters for subclasses: bool before int, datetime before date.
_COPY_FORMATS: dict[type, Callable[[Any], str]] = {
    type(None): _null,
    str: copy_text,
    bool: _boolean,
    int: str,
    datetime: datetime.isoformat,
    date: date.isoformat,
    list: _json,
    dict: _json,
}


def io_of(target: Connection | SqlIO) -> SqlIO:
    """The writer's own (pipelined) SqlIO when given one, else one for the connection."""
    return target if isinstance(target, SqlIO) else SqlIO(target)
