"""The event store on SQLite and PostgreSQL (SQLAlchemy engines, fixed SQL on the hot path).

Every write transaction starts by taking the append lock (a transaction-level advisory lock on
PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the database's write lock). Under that lock
the writer reads the `log_head` row (the log's last position and hash), gives new events the next
positions, chains their hashes, and finally moves the head. So appends are serialised, positions
are handed out in commit order without holes, and a reader that pages by `position > P` can never
pass an event that commits later with a lower position (the lock is released after the commit is
visible). The head row also anchors the chain's tail for `verify`. Expected versions are checked
under the same lock; the unique (stream_id, stream_version) index is a second line of defence,
and a conflict is always an error, never a silent success. `LogWriter` is that transaction in
Python (SQLite, bulk imports, `append`); read models, outbox rows and idempotency keys join it.
On PostgreSQL a single command's append is the same steps in one call of `adviestraject_append`
(migration 0005), under the same lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, Engine, select

from service.store.events import ConcurrencyError, Fact, NewEvent, StoredEvent
from service.store.hashing import canonical, chain
from service.store.schema import log_head
from service.store.sqlio import EVENT_COLUMNS, SqlIO, copy_text


class IdempotencyConflictError(Exception):
    """An idempotency key came back with a different request than the one it first carried."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used for a different request")
        self.key = key


class LogWriter:
    """One write transaction on the log: append to streams, then let others join the transaction."""

    def __init__(self, io: SqlIO, recorded_at: datetime, *, lock: bool = True) -> None:
        self.io = io
        self.recorded_at = recorded_at
        self.appended_to: list[tuple[str, int]] = []
        self.position, self.hash, self._start = 0, "", 0
        if lock:
            self._locked(self.io.lock_head())

    def _locked(self, head: tuple[int, str]) -> None:
        self.position, self.hash = head
        self._start = self.position
        self.io.defer()  # everything from here on goes to the database in one round trip

    def lock_and_read(
        self, stream_id: str, idempotency_key: str | None = None, fingerprint: str = ""
    ) -> tuple[list[StoredEvent], dict[str, Any] | None]:
        """Lock the log and read a stream (and a remembered response) under the lock.

        For a writer opened with `lock=False`: the command handler reads what it decides on
        under the same lock it appends with, so no other writer can come in between.
        """
        head, stored, found = self.io.lock_head_and_read(stream_id, idempotency_key)
        self._locked(head)
        if found is not None and idempotency_key is not None:
            if found[0] != fingerprint:
                raise IdempotencyConflictError(idempotency_key)
            return stored, found[1]
        return stored, None

    def stream_version(self, stream_id: str) -> int:
        return self.io.stream_version(stream_id)

    def append(
        self, stream_id: str, expected_version: int | None, new_events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        current = self.stream_version(stream_id)
        if expected_version is not None and expected_version != current:
            raise ConcurrencyError(stream_id, expected_version, current)
        return self._write([(stream_id, current, new_events)])

    def append_after_read(
        self, stream_id: str, read_version: int, new_events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        """Append after the version the caller read from this store moments ago.

        No second look at the stream: if another writer appended in between, the unique
        (stream_id, stream_version) index rejects these rows when the transaction is sent, and
        `SqlEventStore.writing` reports that as the `ConcurrencyError` it is.
        """
        return self._write([(stream_id, read_version, new_events)])

    def append_many(
        self, batches: Sequence[tuple[str, int | None, Sequence[NewEvent]]]
    ) -> list[StoredEvent]:
        """Append to many streams at once (an import), each after its expected version."""
        ids = [stream_id for stream_id, _, _ in batches]
        if len(set(ids)) != len(ids):
            raise ValueError("append_many takes each stream once")
        versions = dict.fromkeys(ids, 0)
        versions.update(self.io.stream_versions(ids))
        for stream_id, expected, _ in batches:
            if expected is not None and expected != versions[stream_id]:
                raise ConcurrencyError(stream_id, expected, versions[stream_id])
        return self._write([(sid, versions[sid], new) for sid, _, new in batches])

    def append_decided(
        self, batches: Sequence[tuple[str, int, Sequence[NewEvent]]]
    ) -> list[StoredEvent]:
        """Append after versions read under this writer's lock (a batch of commands): no second
        look; a stream may come more than once, each time after the version its last part left."""
        return self._write(list(batches)) if batches else []

    def _write(self, batches: list[tuple[str, int, Sequence[NewEvent]]]) -> list[StoredEvent]:
        if self.io.postgres and sum(len(new) for _, _, new in batches) >= COPY_THRESHOLD:
            # The COPY is open while the events are chained: the server stores one chunk while
            # Python chains the next (two cores at work instead of one after the other).
            with _copying_events(self.io) as send:
                return self._chain(batches, send)
        stored = self._chain(batches, None)
        if stored:
            self.io.insert_events(stored)
        return stored

    def _chain(
        self,
        batches: list[tuple[str, int, Sequence[NewEvent]]],
        send: Callable[[list[StoredEvent]], None] | None,
    ) -> list[StoredEvent]:
        stored: list[StoredEvent] = []
        unsent = 0
        texts: dict[int, str] = {}  # `batches` keeps every event alive while it is used
        for stream_id, current, new_events in batches:
            self.appended_to.append((stream_id, current))
            chained = chain(
                self.hash, self.position, stream_id, current, new_events, self.recorded_at, texts
            )
            if chained:
                self.position, self.hash = chained[-1].position, chained[-1].hash
                stored += chained
            if send is not None and len(stored) - unsent >= COPY_CHUNK:
                send(stored[unsent:])
                unsent = len(stored)
        if send is not None and len(stored) > unsent:
            send(stored[unsent:])
        return stored

    def remember(
        self, key: str, stream_id: str, fingerprint: str, response: dict[str, Any]
    ) -> None:
        self.io.remember(key, stream_id, fingerprint, response, self.recorded_at)

    def close(self) -> None:
        if self.position != self._start:
            self.io.move_head(self.position, self.hash)
        self.io.flush()


COPY_THRESHOLD = 500


COPY_CHUNK = 500


@contextmanager
def _copying_events(io: SqlIO) -> Iterator[Callable[[list[StoredEvent]], None]]:
    """Bulk path on PostgreSQL: COPY in its text format, the lines built here.

    COPY is several times faster than multi-row INSERT, and writing prepared lines instead of
    `write_row` tuples halves the client's share (jsonb is parsed from the canonical JSON text).
    A failure inside the block aborts the COPY, and with it the transaction.
    """
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
        io.raw.cursor() as cursor,
        cursor.copy(
            f"COPY events ({EVENT_COLUMNS}) FROM STDIN", writer=QueuedLibpqWriter(cursor)
        ) as copy,
    ):
        yield lambda events: copy.write("".join([line(e) for e in events]))


class SqlEventStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def appends_on_server(self) -> bool:
        """PostgreSQL appends a command in one call of `adviestraject_append`."""
        return self._engine.dialect.name == "postgresql"

    @contextmanager
    def writing(self, recorded_at: datetime, *, lock: bool = True) -> Iterator[LogWriter]:
        """A write transaction with the log locked; commits when the block ends without error.

        A unique-index violation here would mean something bypassed the head lock: it is left to
        surface as the bug it is, never turned into a conflict or a silent success.
        """
        writer: LogWriter | None = None
        try:
            with self._transaction() as io:
                writer = LogWriter(io, recorded_at, lock=lock)
                yield writer
                writer.close()
        except Exception as error:
            if writer is None or not _is_stream_version_conflict(error):
                raise
            stream_id, expected = writer.appended_to[-1]
            raise ConcurrencyError(stream_id, expected, self.stream_version(stream_id)) from error

    @contextmanager
    def _transaction(self) -> Iterator[SqlIO]:
        if self.appends_on_server:
            with self._engine.begin() as conn:
                yield SqlIO(conn)
            return
        # SQLite: the transaction straight on the pooled driver connection. SQLAlchemy's
        # transaction bookkeeping cost about 0.1 ms a command, a tenth of a durable command.
        pooled = self._engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield SqlIO.on_driver(driver, postgres=False)
            except BaseException:
                if driver.in_transaction:  # SQLite may have rolled back already
                    driver.execute("ROLLBACK")
                raise
            driver.execute("COMMIT")
        finally:
            pooled.close()

    def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events_: Sequence[NewEvent],
        *,
        recorded_at: datetime,
    ) -> list[StoredEvent]:
        with self.writing(recorded_at) as writer:
            return writer.append(stream_id, expected_version, events_)

    @contextmanager
    def reading(self) -> Iterator[SqlIO]:
        """A pooled driver connection for single statements: autocommit on PostgreSQL, so no
        BEGIN/ROLLBACK round trips (the append function commits itself)."""
        pooled = self._engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            postgres = self.appends_on_server
            if postgres:
                driver.autocommit = True
            try:
                yield SqlIO.on_driver(driver, postgres=postgres)
            finally:
                if postgres:
                    driver.autocommit = False
        finally:
            pooled.close()

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        with self.reading() as io:
            return io.read_stream(stream_id)

    def stream_version(self, stream_id: str) -> int:
        with self.reading() as io:
            return io.stream_version(stream_id)

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._engine.connect() as conn:
            return read_page(conn, after, limit)

    def head(self) -> tuple[int, str]:
        with self._engine.connect() as conn:
            row = conn.execute(select(log_head.c.position, log_head.c.hash)).one()
            return row.position, row.hash


def _is_stream_version_conflict(error: BaseException) -> bool:
    """The unique (stream_id, stream_version) index said no, on either database."""
    constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
    if constraint == "uq_events_stream_version":
        return True
    text = str(error)
    return "UNIQUE constraint failed: events.stream_id, events.stream_version" in text


def read_page(conn: Connection, after: int, limit: int) -> list[StoredEvent]:
    return SqlIO(conn).read_page(after, limit)


def read_facts(conn: Connection, after: int, limit: int) -> list[Fact]:
    """A page of the log for projections: the events after `after`, without metadata."""
    return SqlIO(conn).read_facts(after, limit)
