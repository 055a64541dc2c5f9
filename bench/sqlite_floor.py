"""The floor under SQLite writes: durable commits of a write set, with no domain and no ORM.

Issue 4 asks for SQLite writes and commands at 1.5x the `eventsourcing` library. Both sides
commit durably (WAL, synchronous=FULL: one fsync of the WAL per commit), so the commit itself
bounds what any Python on top can reach. This script measures, on a fresh database file, plain
sqlite3 transactions of three shapes, each BEGIN IMMEDIATE ... COMMIT:
- `es_like`: the rows `eventsourcing` writes for a command (1 event, unique (stream, version));
- `store`: what adviestraject writes for a command (1 event with its hash, the log head, the
  pupil's read-model row with its two indexes);
- `store_write`: the same for a new pupil's 5 events (the a_write workload).
One JSON line per shape: median and p10 milliseconds per transaction over `--n` transactions.
Run: .venv/bin/python -m bench.sqlite_floor [--n 3000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

SCHEMA = """
CREATE TABLE es (stream TEXT, version INTEGER, topic TEXT, state BLOB,
                 PRIMARY KEY (stream, version));
CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT, stream_version INTEGER,
                     event_type TEXT, schema_version INTEGER, data TEXT, metadata TEXT,
                     recorded_at TEXT, hash TEXT, UNIQUE (stream_id, stream_version));
CREATE TABLE log_head (id INTEGER PRIMARY KEY, position INTEGER, hash TEXT);
INSERT INTO log_head VALUES (1, 0, '');
CREATE TABLE trajectories (stream_id TEXT PRIMARY KEY, school_id TEXT, school_year TEXT,
                           status TEXT, advice TEXT, version INTEGER, position INTEGER);
CREATE INDEX ix_school ON trajectories (school_id, school_year);
CREATE INDEX ix_status ON trajectories (status);
"""
DATA = '{"advice":"HAVO","given_on":"2026-01-20","timeliness":"on_time"}'
META = '{"actor":"bench","request_id":null,"role":"leerkracht"}'


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SCHEMA)
    return conn


def es_like(conn: sqlite3.Connection, stream: str, version: int) -> None:
    conn.execute("INSERT INTO es VALUES (?, ?, 'AdviceGiven', ?)", (stream, version, DATA))


def store(conn: sqlite3.Connection, stream: str, version: int, events: int = 1) -> None:
    position = conn.execute("SELECT position FROM log_head WHERE id = 1").fetchone()[0]
    conn.execute("SELECT * FROM events WHERE stream_id = ?", (stream,)).fetchall()
    conn.executemany(
        "INSERT INTO events VALUES (?, ?, ?, 'provisional_advice_given', 2, ?, ?, "
        "'2026-03-12 12:00:00.000000', ?)",
        [
            (position + k, stream, version + k - 1, DATA, META, "0" * 64)
            for k in range(1, 1 + events)
        ],
    )
    conn.execute(
        "INSERT INTO trajectories VALUES (?, 'school-001', '2025-2026', ?, 'HAVO', ?, ?) "
        "ON CONFLICT (stream_id) DO UPDATE SET status = excluded.status, "
        "version = excluded.version, position = excluded.position",
        (stream, f"status-{version % 5}", version, position + events),
    )
    conn.execute(
        "UPDATE log_head SET position = ?, hash = ? WHERE id = 1", (position + events, "1" * 64)
    )


def measure(
    n: int, write: Callable[[sqlite3.Connection, str, int], None], new: bool
) -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        conn = connect(Path(directory) / "floor.db")
        streams = [str(uuid.uuid4()) for _ in range(1000)]
        versions = dict.fromkeys(streams, 0)
        for stream in streams:  # every stream exists, as for the command workload
            conn.execute("BEGIN IMMEDIATE")
            versions[stream] += 1
            write(conn, stream, versions[stream])
            conn.execute("COMMIT")
        latencies = []
        for k in range(n):
            stream = str(uuid.uuid4()) if new else streams[k % len(streams)]
            versions[stream] = versions.get(stream, 0) + 1
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            write(conn, stream, versions[stream])
            conn.execute("COMMIT")
            latencies.append(time.perf_counter() - started)
        conn.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    shapes: list[tuple[str, Callable[[sqlite3.Connection, str, int], None], bool]] = [
        ("es_like", es_like, False),
        ("store", store, False),
        ("store_write", lambda c, s, v: store(c, s, v, events=5), True),
    ]
    for name, write, new in shapes:
        latencies = sorted(measure(args.n, write, new))
        print(
            json.dumps(
                {
                    "lib": "sqlite3",
                    "backend": "sqlite-file",
                    "bench": f"floor_{name}",
                    "transactions": args.n,
                    "median_ms": round(statistics.median(latencies) * 1e3, 3),
                    "p10_ms": round(latencies[len(latencies) // 10] * 1e3, 3),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
