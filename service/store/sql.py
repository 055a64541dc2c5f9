"""The store on a SQL database: sessions, the one commit path, and the SQLite adapter.

Every commit that writes takes the append lock, reads the head (the log's last position and
hash), checks each stream's expected version (`port.check_versions`, the one check), chains the
new events' hashes after the head, inserts them, writes the unit's read-model rows, outbox rows,
remembered answers and the use case's own rows, and moves the head — one transaction. Positions
are handed out under the lock in commit order without holes, so a follower paging by
`position > P` never passes an event that commits later. The PostgreSQL adapter
(`service.store.postgres`) adds its own internals on this path: a single command as one call of
the `adviestraject_append` function, COPY for large batches, pipelined statements.

SQLite: a session is a `BEGIN IMMEDIATE` transaction from its first statement, so every decision
is taken under the database's write lock and the commit's version check never fails there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from service.store import log
from service.store.driver import Driver
from service.store.events import Fact, StoredEvent
from service.store.hashing import chain
from service.store.keys import KeyRing
from service.store.port import (
    KeyTakenError,
    Loaded,
    UnitOfWork,
    answer,
    check_versions,
    outbox_rows,
)


class SqlSession:
    """One session on one connection; `locked` once the append lock is held in its transaction."""

    def __init__(self, store: SqlStore, driver: Driver, *, locked: bool) -> None:
        self.store = store
        self._driver = driver
        self.locked = locked
        self._head: tuple[int, str] | None = None
        self._known: dict[str, int] = {}  # versions read or written under this session's lock

    @property
    def driver(self) -> Driver:
        return self._driver

    def load(
        self,
        stream_ids: Sequence[str],
        idempotency_keys: Sequence[str] = (),
        pupil_ids: Sequence[str] = (),
    ) -> Loaded:
        self._lock()
        if len(stream_ids) == 1 and len(idempotency_keys) <= 1 and len(pupil_ids) <= 1:
            key = idempotency_keys[0] if idempotency_keys else None
            pupil = pupil_ids[0] if pupil_ids else None
            stored, found, wrapped = log.read_for_command(self._driver, stream_ids[0], key, pupil)
            loaded = Loaded(
                {stream_ids[0]: stored} if stored else {},
                {key: found} if key is not None and found is not None else {},
                {} if wrapped is None or pupil is None else {pupil: self._unwrap(pupil, wrapped)},
            )
        else:
            loaded = Loaded(
                log.read_streams(self._driver, stream_ids),
                log.remembered(self._driver, idempotency_keys),
                {p: self._unwrap(p, k) for p, k in log.pupil_keys(self._driver, pupil_ids).items()},
            )
        if self.locked:
            for stream_id in stream_ids:
                self._known[stream_id] = loaded.version(stream_id)
        return loaded

    def _unwrap(self, pupil_id: str, stored: bytes) -> bytes:
        return self.store.keyring.unwrap(pupil_id, stored)

    def pupil_key(self, pupil_id: str) -> bytes:
        ring = self.store.keyring
        found = log.pupil_keys(self._driver, [pupil_id]).get(pupil_id)
        if found is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

            new = ring.wrap(pupil_id, AESGCM.generate_key(bit_length=256))
            found = log.add_pupil_key(self._driver, pupil_id, new, self.store.clock_now())
        return ring.unwrap(pupil_id, found)

    def _lock(self) -> None:
        """Exclusive sessions take the append lock with their first read (SQLite holds it)."""
        if self.locked and self._head is None:
            self._head = log.lock_head(self._driver)

    def commit(self, unit: UnitOfWork) -> list[StoredEvent]:
        if not unit.appends and not unit.joined:
            return []
        if not self.locked:
            return self.store.commit_unlocked(self, unit)
        return self.commit_locked(unit)

    def commit_locked(self, unit: UnitOfWork) -> list[StoredEvent]:
        """The commit path: in this session's transaction, under the append lock."""
        driver = self._driver
        if self._head is None:
            self._head = log.lock_head(driver)
        streams = list(dict.fromkeys(a.stream_id for a in unit.appends))
        unknown = [s for s in streams if s not in self._known]
        if unknown:
            found = log.stream_versions(driver, unknown)
            self._known.update({s: found.get(s, 0) for s in unknown})
        planned = list(check_versions(unit.appends, self._known))
        keys = [a.idempotency[0] for a in unit.appends if a.idempotency is not None]
        if keys:  # under the lock: a key another writer answered meanwhile is that writer's
            taken = log.remembered(driver, keys)
            if taken:
                raise KeyTakenError(next(iter(taken)))
        driver.defer()
        stored, per_append = self.store.write_events(self, planned, unit.recorded_at)
        rows: dict[Any, dict[str, Any]] = {}
        remembered = []
        for (part, version), mine in zip(planned, per_append, strict=True):
            self._known[part.stream_id] = version + len(mine)
            if part.read_model_row is not None and mine and unit.read_model is not None:
                row = dict(part.read_model_row)
                row["position"] = mine[-1].position
                rows[row[unit.read_model.key]] = row
            if part.idempotency is not None:
                key, fingerprint = part.idempotency
                remembered.append((key, part.stream_id, fingerprint, answer(version, mine)))
        if rows and unit.read_model is not None:
            unit.read_model.upsert(driver, list(rows.values()))
        if unit.outbox is not None and stored:
            unit.outbox.insert(driver, outbox_rows(unit.outbox.routes, stored, unit.recorded_at))
        if remembered:
            log.remember(driver, remembered, unit.recorded_at)
        for joined in unit.joined:
            joined(driver, stored)
        if stored:
            log.move_head(driver, stored[-1].position, stored[-1].hash)
        driver.flush()
        return stored

    def forget(self) -> None:
        """The lock is gone (its transaction ended): what it knew may be stale from now on."""
        self._head = None
        self._known.clear()

    def chain_planned(
        self,
        planned: Sequence[tuple[Any, int]],
        recorded_at: datetime,
        texts: dict[int, str] | None = None,
    ) -> tuple[list[StoredEvent], list[list[StoredEvent]]]:
        """Hash-chain planned appends after the head and move it: the one place where events
        get their positions and hashes. `texts` keeps the JSON of shared metadata and times
        across calls (by object id: the caller keeps `planned` alive meanwhile)."""
        if self._head is None:
            raise RuntimeError("events are chained under the append lock only")
        position, digest = self._head
        stored: list[StoredEvent] = []
        per_append: list[list[StoredEvent]] = []
        texts = {} if texts is None else texts
        for part, version in planned:
            mine = chain(digest, position, part.stream_id, version, part.events, recorded_at, texts)
            if mine:
                position, digest = mine[-1].position, mine[-1].hash
            stored += mine
            per_append.append(mine)
        self._head = (position, digest)
        return stored, per_append


class SqlStore:
    """Sessions, reads and the commit path shared by the SQLite and PostgreSQL adapters."""

    def __init__(self, engine: Engine, keyring: KeyRing | None = None) -> None:
        self._engine = engine
        self.keyring = keyring if keyring is not None else KeyRing.generate()
        self.clock_now = _utc_now

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def session(self, *, exclusive: bool = False) -> Iterator[SqlSession]:
        """SQLite: one `BEGIN IMMEDIATE` transaction, committed when the block ends without error
        (decisions are always taken under the write lock there)."""
        pooled = self._engine.raw_connection()
        try:
            raw: Any = pooled.driver_connection
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield SqlSession(self, Driver(raw), locked=True)
            except BaseException:
                if raw.in_transaction:  # SQLite may have rolled back already
                    raw.execute("ROLLBACK")
                raise
            try:
                raw.execute("COMMIT")
            except Exception as error:
                translated = self.translate(error)
                if translated is error:
                    raise
                raise translated from error
        finally:
            pooled.close()

    def commit_unlocked(self, session: SqlSession, unit: UnitOfWork) -> list[StoredEvent]:
        return session.commit_locked(unit)

    def write_events(
        self,
        session: SqlSession,
        planned: Sequence[tuple[Any, int]],
        recorded_at: datetime,
    ) -> tuple[list[StoredEvent], list[list[StoredEvent]]]:
        stored, per_append = session.chain_planned(planned, recorded_at)
        if stored:
            log.insert_events(session.driver, stored)
        return stored, per_append

    def translate(self, error: Exception) -> Exception:
        """A driver error as the store's own. The unique (stream, version) index is the second
        line of defence behind the lock: its violation means something bypassed the lock, and
        surfaces as the bug it is (never a conflict, never a silent success)."""
        text = str(error)
        if "UNIQUE constraint failed: idempotency_keys.key" in text:
            return KeyTakenError(text)
        return error

    # -- reads ----------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Driver]:
        """A pooled connection for single statements (autocommit on PostgreSQL)."""
        pooled = self._engine.raw_connection()
        try:
            yield self.driver_for(pooled.driver_connection)
        finally:
            pooled.close()

    def driver_for(self, raw: Any) -> Driver:
        return Driver(raw)

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        with self.reading() as driver:
            return log.read_stream(driver, stream_id)

    def stream_version(self, stream_id: str) -> int:
        with self.reading() as driver:
            return log.stream_version(driver, stream_id)

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self.reading() as driver:
            return log.read_page(driver, after, limit)

    def read_facts(self, after: int = 0, limit: int = 1000) -> list[Fact]:
        with self.reading() as driver:
            return log.read_facts(driver, after, limit)

    def head(self) -> tuple[int, str]:
        with self.reading() as driver:
            return log.head(driver)

    def pupil_keys(self, pupil_ids: Sequence[str]) -> dict[str, bytes]:
        with self.reading() as driver:
            found = log.pupil_keys(driver, pupil_ids)
        return {p: self.keyring.unwrap(p, k) for p, k in found.items()}

    def erase_pupil_key(self, pupil_id: str) -> bool:
        with self.session(exclusive=True) as session:
            return log.erase_pupil_key(session.driver, pupil_id)

    def rewrap_keys(self) -> int:
        """Wrap every pupil key with the current key-encryption key; how many changed."""
        changed = 0
        with self.session(exclusive=True) as session:
            driver = session.driver
            for pupil_id, found in driver.all("SELECT pupil_id, key FROM pupil_keys"):
                stored = bytes(found)
                if self.keyring.is_current(stored):
                    continue
                raw = self.keyring.unwrap(str(pupil_id), stored)
                driver.run(
                    "UPDATE pupil_keys SET key = ? WHERE pupil_id = ?",
                    (self.keyring.wrap(str(pupil_id), raw), pupil_id),
                )
                changed += 1
        return changed


def _utc_now() -> datetime:
    from datetime import UTC  # noqa: PLC0415

    return datetime.now(UTC)


def make_store(engine: Engine, keyring: KeyRing | None = None) -> SqlStore:
    """The adapter for the engine's database."""
    if engine.dialect.name == "postgresql":
        from service.store.postgres import PostgresStore  # noqa: PLC0415 - the driver, only here

        return PostgresStore(engine, keyring)
    return SqlStore(engine, keyring)


def driver_of(conn: Connection) -> Driver:
    """The driver layer on a SQLAlchemy connection's open transaction (rebuilds, tools)."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        from service.store.postgres import PgDriver  # noqa: PLC0415 - the driver, only there

        return PgDriver(raw)
    return Driver(raw)


def read_page(conn: Connection, after: int, limit: int) -> list[StoredEvent]:
    """A page of the log on a connection the caller holds (followers, verify)."""
    return log.read_page(driver_of(conn), after, limit)


def read_facts(conn: Connection, after: int, limit: int) -> list[Fact]:
    """A page of the log for projections: the events after `after`, without metadata."""
    return log.read_facts(driver_of(conn), after, limit)
