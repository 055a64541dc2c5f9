"""The PostgreSQL adapter: the only module that knows psycopg.

On top of the shared commit path (`service.store.sql`) it keeps three internals, each measured:
- a single stream's commit from a plain session is one call of `adviestraject_append` (migration
  0005, the same steps under the same lock inside the server: one round trip, committed);
- 500 or more events go by COPY in its text format, lines built here while the server stores the
  previous chunk;
- the statements of a commit are sent as one pipeline.
Driver errors become the store's own (`ConcurrencyError` with the current version,
`KeyTakenError`) here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from service.store import log
from service.store.copyformat import copy_text
from service.store.driver import Driver
from service.store.events import StoredEvent
from service.store.hashing import canonical, content_hash
from service.store.keys import KeyRing
from service.store.port import ConcurrencyError, KeyTakenError, UnitOfWork
from service.store.sql import SqlSession, SqlStore

COPY_THRESHOLD = 500
COPY_CHUNK = 500
FUNCTION_READ_MODEL = "trajectories"  # the read model `adviestraject_append` writes itself


class PgDriver(Driver):
    postgres = True

    def _send_all(self, pending: list[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        # One cursor for the whole pipeline, closed after it: closing a cursor inside the
        # pipeline would wait for its results and defeat the single round trip. The first error
        # is the one raised; the pipeline's own "aborted" follow-up is only its consequence.
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

    def copy_rows(self, table: str, columns: Sequence[str], lines: Sequence[str]) -> bool:
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for start in range(0, len(lines), 1000):
                copy.write("".join(lines[start : start + 1000]))
        return True

    def json_in(self, value: Any) -> Any:
        return Jsonb(value)

    def json_out(self, value: Any) -> Any:
        return value

    def time_in(self, moment: datetime) -> Any:
        return moment

    def time_out(self, value: Any) -> datetime:
        moment: datetime = value.astimezone(UTC)
        return moment

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        # `= ANY(array)` is answered from the index even in a generic (prepared) plan; a subquery
        # over a JSON array made it hash all of `events` once the table was large.
        return f"{column} = ANY(?)", list(values)


class PostgresStore(SqlStore):
    def __init__(self, engine: Engine, keyring: KeyRing | None = None) -> None:
        super().__init__(engine, keyring)

    def driver_for(self, raw: Any) -> Driver:
        return PgDriver(raw)

    @contextmanager
    def reading(self) -> Iterator[Driver]:
        """Autocommit: no BEGIN/ROLLBACK round trips around single statements."""
        pooled = self.engine.raw_connection()
        raw: Any = pooled.driver_connection
        try:
            raw.autocommit = True
            yield PgDriver(raw)
        finally:
            # A connection the server dropped (a restart, a crash) is closed and never given
            # back to the pool, and the error that ended the block is the one that surfaces
            # (setting autocommit on a lost connection would raise and hide it).
            if raw.closed or raw.broken:
                pooled.invalidate()
            else:
                try:
                    raw.autocommit = False
                except psycopg.Error:
                    pooled.invalidate()
            pooled.close()

    @contextmanager
    def session(self, *, exclusive: bool = False) -> Iterator[SqlSession]:
        """Exclusive: one transaction holding the append lock from the first read to the end.
        Plain: autocommit reads of one snapshot each; the commit is its own transaction."""
        with self.reading() as driver:
            try:
                if exclusive:
                    with driver.raw.transaction():
                        yield SqlSession(self, driver, locked=True)
                else:
                    yield SqlSession(self, driver, locked=False)
            except psycopg.Error as error:
                translated = self.translate(error)
                if translated is error:
                    raise
                raise translated from error

    def commit_unlocked(self, session: SqlSession, unit: UnitOfWork) -> list[StoredEvent]:
        if self._fits_function(unit):
            return self._call_function(session.driver, unit)
        raw = session.driver.raw
        try:
            with raw.transaction():
                session.locked = True
                return session.commit_locked(unit)
        finally:
            # The lock ended with the transaction: what it knew is a snapshot now.
            session.locked = False
            session.forget()

    @staticmethod
    def _fits_function(unit: UnitOfWork) -> bool:
        """One stream, its events sharing one metadata (one command's), no rows of its own."""
        if len(unit.appends) != 1 or unit.joined:
            return False
        events = unit.appends[0].events
        if len(events) >= COPY_THRESHOLD:
            return False
        if unit.read_model is not None and unit.read_model.name != FUNCTION_READ_MODEL:
            return False
        first = events[0].metadata if events else None
        return all(e.metadata is first or e.metadata == first for e in events)

    def _call_function(self, driver: Driver, unit: UnitOfWork) -> list[StoredEvent]:
        """`adviestraject_append`: one statement, one round trip, committed. The JSON goes as
        text (orjson, cast by the server), not through psycopg's adapters."""
        part = unit.appends[0]
        now = unit.recorded_at
        metadata = part.events[0].metadata if part.events else {}
        routes = unit.outbox.routes if unit.outbox is not None else {}
        batch = []
        for number, e in enumerate(part.events, start=1):
            content = content_hash(
                stream_id=part.stream_id,
                stream_version=part.expected_version + number,
                event_type=e.event_type,
                schema_version=e.schema_version,
                data=e.data,
                metadata=e.metadata,
                recorded_at=now,
            )
            topic = routes.get(e.event_type)
            batch.append([e.event_type, e.schema_version, e.data, content, topic])
        read_model = None
        if part.read_model_row is not None and part.events:
            read_model = {k: v for k, v in part.read_model_row.items() if k != "position"}
        key, fingerprint = part.idempotency or (None, None)
        try:
            rows = driver.all(
                "SELECT * FROM adviestraject_append(?::text, ?::integer, ?::jsonb, ?::jsonb, "
                "?::timestamptz, ?::jsonb, ?::text, ?::text)",
                (
                    part.stream_id,
                    part.expected_version,
                    canonical(batch),
                    canonical(metadata),
                    now,
                    None if read_model is None else canonical(read_model),
                    key,
                    fingerprint,
                ),
            )
        except psycopg.Error as error:
            if error.sqlstate == "AT001":  # another writer came first; the message is its version
                current = int(str(error.diag.message_primary))
                raise ConcurrencyError(part.stream_id, part.expected_version, current) from None
            if error.sqlstate == "AT002":
                raise KeyTakenError(str(key)) from None
            raise
        return [
            StoredEvent(
                int(position),
                part.stream_id,
                part.expected_version + number,
                e.event_type,
                e.schema_version,
                e.data,
                e.metadata,
                now,
                str(digest),
            )
            for number, (e, (position, digest)) in enumerate(
                zip(part.events, rows, strict=True), start=1
            )
        ]

    def write_events(
        self,
        session: SqlSession,
        planned: Sequence[tuple[Any, int]],
        recorded_at: datetime,
    ) -> tuple[list[StoredEvent], list[list[StoredEvent]]]:
        if sum(len(part.events) for part, _ in planned) < COPY_THRESHOLD:
            return super().write_events(session, planned, recorded_at)
        # The COPY is open while the events are chained: the server stores one chunk while
        # Python chains the next (two cores at work instead of one after the other).
        driver = session.driver
        driver.flush()
        with _copying_events(driver) as send:
            stored: list[StoredEvent] = []
            per_append: list[list[StoredEvent]] = []
            texts: dict[int, str] = {}  # metadata and times shared by many events: dumped once
            unsent = 0
            for part_and_version in planned:
                more, mine = session.chain_planned([part_and_version], recorded_at, texts)
                stored += more
                per_append += mine
                if len(stored) - unsent >= COPY_CHUNK:
                    send(stored[unsent:])
                    unsent = len(stored)
            if len(stored) > unsent:
                send(stored[unsent:])
        return stored, per_append

    def translate(self, error: Exception) -> Exception:
        diag = getattr(error, "diag", None)
        if getattr(diag, "constraint_name", None) == "idempotency_keys_pkey":
            return KeyTakenError(str(getattr(diag, "message_detail", "") or error))
        return error


@contextmanager
def _copying_events(driver: Driver) -> Iterator[Callable[[list[StoredEvent]], None]]:
    """COPY in its text format, the lines built here; a failure aborts the COPY and the
    transaction with it."""
    recorded: dict[int, str] = {}
    escaped: dict[str, str] = {}  # streams, types and metadata recur: escaped once each

    def shared(text: str) -> str:
        found = escaped.get(text)
        if found is None:
            found = escaped[text] = copy_text(text)
        return found

    def line(e: StoredEvent) -> str:
        moment = recorded.get(id(e.recorded_at))
        if moment is None:
            moment = recorded[id(e.recorded_at)] = e.recorded_at.isoformat()
        data = e.data_json if e.data_json is not None else canonical(e.data)
        metadata = e.metadata_json if e.metadata_json is not None else canonical(e.metadata)
        return (
            f"{e.position}\t{shared(e.stream_id)}\t{e.stream_version}\t{shared(e.event_type)}\t"
            f"{e.schema_version}\t{copy_text(data)}\t{shared(metadata)}\t{moment}\t{e.hash}\n"
        )

    with (
        driver.raw.cursor() as cursor,
        cursor.copy(
            f"COPY events ({log.EVENT_COLUMNS}) FROM STDIN", writer=QueuedLibpqWriter(cursor)
        ) as copy,
    ):
        yield lambda events: copy.write("".join([line(e) for e in events]))
