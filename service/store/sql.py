"""The event store on SQLite and PostgreSQL (SQLAlchemy Core).

Appends are serialised: BEGIN IMMEDIATE on SQLite, a transaction-level advisory lock on
PostgreSQL. Under that lock the store reads the log's last position and hash and gives the new
events the next positions, so positions are assigned in commit order and without holes: a reader
that pages by `position > P` can never pass an event that commits later with a lower position.
The expected-version check happens under the same lock; the unique (stream_id, stream_version)
index is a second line of defence, and a conflict is always an error, never a silent success.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from service.store.events import ConcurrencyError, NewEvent, StoredEvent
from service.store.hashing import GENESIS_HASH, chain_hash
from service.store.schema import events

# Any constant will do, as long as every writer uses the same one ("adviest" in ASCII).
APPEND_LOCK_KEY = 0x61647669657374


class SqlEventStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events_: Sequence[NewEvent],
        *,
        recorded_at: datetime,
    ) -> list[StoredEvent]:
        try:
            with self._engine.begin() as conn:
                return self.append_in(conn, stream_id, expected_version, events_, recorded_at)
        except IntegrityError as error:
            # Only reachable if something bypassed the lock; report it as the conflict it is.
            current = self.stream_version(stream_id)
            raise ConcurrencyError(stream_id, expected_version or 0, current) from error

    def append_in(
        self,
        conn: Connection,
        stream_id: str,
        expected_version: int | None,
        events_: Sequence[NewEvent],
        recorded_at: datetime,
    ) -> list[StoredEvent]:
        """Append inside the caller's transaction (so projections and outbox rows can join it)."""
        if self._postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
        current = conn.execute(
            select(func.coalesce(func.max(events.c.stream_version), 0)).where(
                events.c.stream_id == stream_id
            )
        ).scalar_one()
        if expected_version is not None and expected_version != current:
            raise ConcurrencyError(stream_id, expected_version, current)
        last = conn.execute(
            select(events.c.position, events.c.hash).order_by(events.c.position.desc()).limit(1)
        ).first()
        position, previous = (last[0], last[1]) if last else (0, GENESIS_HASH)
        stored: list[StoredEvent] = []
        for offset, new in enumerate(events_, start=1):
            digest = chain_hash(
                previous,
                stream_id=stream_id,
                stream_version=current + offset,
                event_type=new.event_type,
                schema_version=new.schema_version,
                data=new.data,
                metadata=new.metadata,
                recorded_at=recorded_at,
            )
            stored.append(
                StoredEvent(
                    position=position + offset,
                    stream_id=stream_id,
                    stream_version=current + offset,
                    event_type=new.event_type,
                    schema_version=new.schema_version,
                    data=new.data,
                    metadata=new.metadata,
                    recorded_at=recorded_at,
                    hash=digest,
                )
            )
            previous = digest
        if stored:
            conn.execute(
                insert(events),
                [
                    {
                        "position": e.position,
                        "stream_id": e.stream_id,
                        "stream_version": e.stream_version,
                        "event_type": e.event_type,
                        "schema_version": e.schema_version,
                        "data": e.data,
                        "metadata": e.metadata,
                        "recorded_at": e.recorded_at,
                        "hash": e.hash,
                    }
                    for e in stored
                ],
            )
        return stored

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(events)
                .where(events.c.stream_id == stream_id)
                .order_by(events.c.stream_version)
            )
            return [_stored(row._mapping) for row in rows]

    def stream_version(self, stream_id: str) -> int:
        with self._engine.connect() as conn:
            version: int = conn.execute(
                select(func.coalesce(func.max(events.c.stream_version), 0)).where(
                    events.c.stream_id == stream_id
                )
            ).scalar_one()
            return version

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(events)
                .where(events.c.position > after)
                .order_by(events.c.position)
                .limit(limit)
            )
            return [_stored(row._mapping) for row in rows]


def _stored(row: object) -> StoredEvent:
    m = dict(row)  # type: ignore[call-overload]
    return StoredEvent(
        position=m["position"],
        stream_id=m["stream_id"],
        stream_version=m["stream_version"],
        event_type=m["event_type"],
        schema_version=m["schema_version"],
        data=m["data"],
        metadata=m["metadata"],
        recorded_at=m["recorded_at"],
        hash=m["hash"],
    )
