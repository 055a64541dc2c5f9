"""What each store guarantee costs per command transaction, measured with plain psycopg.

The same five-event append as `bench/store.py`, built up one guarantee at a time:
  base       BEGIN; read head; read stream; insert 5 events; COMMIT
  +lock      + pg_advisory_xact_lock (gap-free order)
  +head      + UPDATE of the head row (tail anchor for verify)
  +readmodel + the pupil's read-model upsert (read-your-writes)
Each variant runs in rounds; the median (min-max) ms per transaction is printed as JSON.
Run: .venv/bin/python -m bench.guarantee_cost [--n 400 --rounds 3]   (PostgreSQL from PG* env)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import psycopg
from psycopg.types.json import Jsonb

DDL = """
DROP TABLE IF EXISTS gc_events, gc_head, gc_read;
CREATE TABLE gc_events (position bigint PRIMARY KEY, stream_id text NOT NULL, version int NOT NULL,
                        data jsonb NOT NULL, UNIQUE (stream_id, version));
CREATE TABLE gc_head (id int PRIMARY KEY, position bigint NOT NULL);
INSERT INTO gc_head VALUES (1, 0);
CREATE TABLE gc_read (stream_id text PRIMARY KEY, status text, advice text, late jsonb,
                      version int);
"""
VARIANTS = {"base": (0, 0, 0), "+lock": (1, 0, 0), "+head": (1, 1, 0), "+readmodel": (1, 1, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    conn = psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        user=os.environ.get("PGUSER", "postgres"),
        dbname=os.environ.get("PGDATABASE", "bench"),
    )
    conn.execute(DDL)
    conn.commit()
    position = 0

    def transaction(lock: int, head: int, readmodel: int) -> None:
        nonlocal position
        stream = str(uuid.uuid4())
        with conn.cursor() as cur:
            if lock:
                cur.execute("SELECT pg_advisory_xact_lock(42)")
            cur.execute("SELECT position FROM gc_head WHERE id = 1")
            cur.execute("SELECT * FROM gc_events WHERE stream_id = %s", (stream,))
            cur.fetchall()
            rows = []
            for version in range(1, 6):
                position += 1
                rows.append((position, stream, version, Jsonb({"v": version, "x": "advies"})))
            cur.executemany("INSERT INTO gc_events VALUES (%s, %s, %s, %s)", rows)
            if head:
                cur.execute("UPDATE gc_head SET position = %s WHERE id = 1", (position,))
            if readmodel:
                cur.execute(
                    "INSERT INTO gc_read VALUES (%s, 'x', 'HAVO', %s, 5) ON CONFLICT "
                    "(stream_id) DO UPDATE SET status = excluded.status, advice = "
                    "excluded.advice, late = excluded.late, version = excluded.version",
                    (stream, Jsonb([])),
                )
        conn.commit()

    results: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, flags in VARIANTS.items():  # interleaved, so drift hits all variants alike
            start = time.perf_counter()
            for _ in range(args.n):
                transaction(*flags)
            results[name].append((time.perf_counter() - start) / args.n * 1e3)
    for name, values in results.items():
        print(
            json.dumps(
                {
                    "lib": "raw-psycopg",
                    "bench": "guarantee_cost",
                    "variant": name,
                    "median_ms": round(statistics.median(values), 3),
                    "min_ms": round(min(values), 3),
                    "max_ms": round(max(values), 3),
                }
            )
        )
    conn.execute("DROP TABLE gc_events, gc_head, gc_read")
    conn.commit()


if __name__ == "__main__":
    main()
