"""The SQL of the tables the store owns: `events`, `log_head`, `idempotency_keys`, `pupil_keys`.

Statements are fixed strings run on a `Driver`. Appends are serialised by the append lock (a
transaction-level advisory lock on PostgreSQL, released at commit after the transaction is
visible; SQLite's `BEGIN IMMEDIATE` holds the database's write lock), so positions are handed out
in commit order without holes and a follower paging by `position > P` never skips an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.store.driver import Driver
from service.store.events import Fact, StoredEvent
from service.store.hashing import parse

EVENT_COLUMNS = (
    "position, stream_id, stream_version, event_type, schema_version, data, "
    "metadata, recorded_at, hash"
)
# Any constant works if all writers agree; migration 0005's function uses the same number.
APPEND_LOCK_KEY = 0x61647669657374  # "adviest"
LOCK_SQL = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"
HEAD_SQL = "SELECT position, hash FROM log_head WHERE id = 1"
_READ_STREAM = f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version"


def lock_head(driver: Driver) -> tuple[int, str]:
    """Take the append lock (PostgreSQL) and read the head: position and hash of the last event."""
    if driver.postgres:
        driver.one(LOCK_SQL)
    row = driver.one(HEAD_SQL)
    return int(row[0]), str(row[1])


def head(driver: Driver) -> tuple[int, str]:
    row = driver.one(HEAD_SQL)
    return int(row[0]), str(row[1])


def move_head(driver: Driver, position: int, digest: str) -> None:
    driver.run("UPDATE log_head SET position = ?, hash = ? WHERE id = 1", (position, digest))


def event(driver: Driver, row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        position=row[0],
        stream_id=row[1],
        stream_version=row[2],
        event_type=row[3],
        schema_version=row[4],
        data=driver.json_out(row[5]),
        metadata=driver.json_out(row[6]),
        recorded_at=driver.time_out(row[7]),
        hash=row[8],
    )


def read_stream(driver: Driver, stream_id: str) -> list[StoredEvent]:
    return [event(driver, r) for r in driver.all(_READ_STREAM, (stream_id,))]


def read_streams(driver: Driver, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
    """Several streams in one statement."""
    if len(stream_ids) == 1:
        stored = read_stream(driver, stream_ids[0])
        return {stream_ids[0]: stored} if stored else {}
    where, ids = driver.any_of("stream_id", stream_ids)
    rows = driver.all(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY stream_id, stream_version",
        (ids,),
    )
    found: dict[str, list[StoredEvent]] = {}
    for row in rows:
        found.setdefault(row[1], []).append(event(driver, row))
    return found


def read_for_command(
    driver: Driver, stream_id: str, idempotency_key: str | None, pupil_id: str | None
) -> tuple[list[StoredEvent], tuple[str, dict[str, Any]] | None, bytes | None]:
    """Stream, remembered answer and pupil key in one statement (one round trip, one snapshot).

    The key lookups ride along as columns of every stream row (or of one empty row when the
    stream is new).
    """
    columns = ", ".join(f"e.{c.strip()}" for c in EVENT_COLUMNS.split(","))
    rows = driver.all(
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
    remembered = None if first[1] is None else (first[1], driver.json_out(first[2]))
    stored = [event(driver, r[3:]) for r in rows if r[3] is not None]
    return stored, remembered, key


def stream_version(driver: Driver, stream_id: str) -> int:
    row = driver.one(
        "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (stream_id,)
    )
    return int(row[0])


def stream_versions(driver: Driver, stream_ids: Sequence[str]) -> dict[str, int]:
    if len(stream_ids) == 1:
        return {stream_ids[0]: stream_version(driver, stream_ids[0])}
    where, ids = driver.any_of("stream_id", stream_ids)
    rows = driver.all(
        f"SELECT stream_id, MAX(stream_version) FROM events WHERE {where} GROUP BY stream_id",
        (ids,),
    )
    return {row[0]: int(row[1]) for row in rows}


def insert_events(driver: Driver, stored: Sequence[StoredEvent]) -> None:
    driver.run_many(
        f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                e.position,
                e.stream_id,
                e.stream_version,
                e.event_type,
                e.schema_version,
                driver.json_in(e.data),
                driver.json_in(e.metadata),
                driver.time_in(e.recorded_at),
                e.hash,
            )
            for e in stored
        ],
    )


def read_page(driver: Driver, after: int, limit: int) -> list[StoredEvent]:
    rows = driver.all(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
        (after, limit),
    )
    return [event(driver, r) for r in rows]


def read_facts(driver: Driver, after: int, limit: int) -> list[Fact]:
    rows = driver.all(
        "SELECT position, stream_id, event_type, schema_version, data FROM events "
        "WHERE position > ? ORDER BY position LIMIT ?",
        (after, limit),
    )
    if driver.postgres:
        return [Fact._make(r) for r in rows]
    return [Fact(r[0], r[1], r[2], r[3], parse(r[4])) for r in rows]


# -- idempotency keys -----------------------------------------------------------------------------


def remembered(driver: Driver, keys: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    if not keys:
        return {}
    where, ids = driver.any_of("key", keys)
    rows = driver.all(
        f"SELECT key, fingerprint, response FROM idempotency_keys WHERE {where}", (ids,)
    )
    return {row[0]: (row[1], driver.json_out(row[2])) for row in rows}


def remember(
    driver: Driver, rows: Sequence[tuple[str, str, str, dict[str, Any]]], now: datetime
) -> None:
    """(key, stream, fingerprint, response) rows. No ON CONFLICT: a key answered by a concurrent
    writer is that writer's; the unique key makes this transaction fail (`KeyTakenError`)."""
    driver.run_many(
        "INSERT INTO idempotency_keys (key, stream_id, fingerprint, response, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [(k, s, f, driver.json_in(r), driver.time_in(now)) for k, s, f, r in rows],
    )


# -- pupil keys (stored wrapped; see service.store.keys) --------------------------------------


def pupil_keys(driver: Driver, pupil_ids: Sequence[str]) -> dict[str, bytes]:
    if not pupil_ids:
        return {}
    where, ids = driver.any_of("pupil_id", pupil_ids)
    rows = driver.all(f"SELECT pupil_id, key FROM pupil_keys WHERE {where}", (ids,))
    return {str(r[0]): bytes(r[1]) for r in rows}


def add_pupil_key(driver: Driver, pupil_id: str, stored_key: bytes, now: datetime) -> bytes:
    """Insert the key unless the pupil has one (a concurrent first writer may have won), then
    return the one that is stored: both writers seal with the same key."""
    driver.run(
        "INSERT INTO pupil_keys (pupil_id, key, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (pupil_id) DO NOTHING",
        (pupil_id, stored_key, driver.time_in(now)),
    )
    row = driver.one("SELECT key FROM pupil_keys WHERE pupil_id = ?", (pupil_id,))
    return bytes(row[0])


def erase_pupil_key(driver: Driver, pupil_id: str) -> bool:
    cursor = driver.raw.cursor()
    try:
        cursor.execute(driver.sql("DELETE FROM pupil_keys WHERE pupil_id = ?"), (pupil_id,))
        return bool(cursor.rowcount > 0)
    finally:
        cursor.close()
