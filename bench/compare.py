"""Ratios of adviestraject's store benchmark to the anchors' figures from the same run.

Run: .venv/bin/python -m bench.compare bench/results/<run>   (bench/compare.sh does it all)
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

# (what, ours (backend, bench, key), anchor (lib, backend, bench, key), target ratio)
TARGETS: list[tuple[str, tuple[str, str, str], tuple[str, str, str, str], float]] = [
    (
        "PG writes vs eventsourcing",
        ("postgres", "a_write", "events_per_s"),
        ("eventsourcing", "postgres", "a_write", "events_per_s"),
        1.5,
    ),
    (
        "PG writes vs raw psycopg",
        ("postgres", "a_write", "events_per_s"),
        ("raw-psycopg", "postgres", "w1_tx_per_stream_executemany", "events_per_s"),
        0.7,
    ),
    (
        "PG commands vs eventsourcing",
        ("postgres", "c_command", "ops_per_s"),
        ("eventsourcing", "postgres", "c_command", "ops_per_s"),
        1.5,
    ),
    (
        "PG commands vs raw psycopg",
        ("postgres", "c_command", "ops_per_s"),
        ("raw-psycopg", "postgres", "r_command", "ops_per_s"),
        0.7,
    ),
    (
        "SQLite writes vs eventsourcing",
        ("sqlite-file", "a_write", "events_per_s"),
        ("eventsourcing", "sqlite-file", "a_write", "events_per_s"),
        1.5,
    ),
    (
        "SQLite commands vs eventsourcing",
        ("sqlite-file", "c_command", "ops_per_s"),
        ("eventsourcing", "sqlite-file", "c_command", "ops_per_s"),
        1.5,
    ),
    (
        "PG projection vs raw paged scan",
        ("postgres", "d_projection", "events_per_s"),
        ("raw-psycopg", "postgres", "r_projection", "events_per_s"),
        0.6,
    ),
    (
        "PG rebuild vs raw paged scan",
        ("postgres", "d_rebuild", "events_per_s"),
        ("raw-psycopg", "postgres", "r_projection", "events_per_s"),
        0.6,
    ),
    (
        "PG reads vs eventsourcing",
        ("postgres", "b_read", "aggregates_per_s"),
        ("eventsourcing", "postgres", "b_read", "aggregates_per_s"),
        1.0,
    ),
    (
        "PG 2 writers vs eventsourcing",
        ("postgres", "e_concurrency", "commits_per_s"),
        ("eventsourcing", "postgres", "e_concurrency", "commits_per_s"),
        1.0,
    ),
]
BULK_TARGET = 50_000.0


def load(directory: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for f in sorted(directory.glob("*.jsonl"))
        for line in f.read_text().splitlines()
        if line.startswith("{")
    ]


def main() -> None:
    rows = load(Path(sys.argv[1]))

    def find(lib: str, backend: str, bench: str, key: str) -> float | None:
        """The median over runs (one value per run of that script)."""
        values = [
            float(row[key])
            for row in rows
            if key in row
            and (row.get("lib"), row.get("backend"), row.get("bench")) == (lib, backend, bench)
        ]
        return statistics.median(values) if values else None

    runs = len({row.get("run") for row in rows})
    print(f"medians over {runs} run(s)")

    print(f"{'comparison':36s} {'ours':>11s} {'anchor':>11s} {'ratio':>7s} {'target':>7s}")
    for what, (backend, bench, key), anchor, target in TARGETS:
        ours, theirs = find("adviestraject", backend, bench, key), find(*anchor)
        if ours is None or theirs is None:
            print(f"{what:36s} missing")
            continue
        ratio = ours / theirs
        verdict = "met" if ratio >= target else "MISSED"
        print(f"{what:36s} {ours:11,.0f} {theirs:11,.0f} {ratio:7.2f} {target:7.2f}  {verdict}")
    bulk = find("adviestraject", "postgres", "f_bulk", "events_per_s")
    if bulk is not None:
        verdict = "met" if bulk >= BULK_TARGET else "MISSED"
        print(
            f"{'PG bulk append, events/s':36s} {bulk:11,.0f} {'':>11s} {'':>7s} "
            f"{BULK_TARGET:7,.0f}  {verdict}"
        )
    for backend in ("postgres", "sqlite-file"):
        median = find("adviestraject", backend, "c_command", "median_ms")
        p99 = find("adviestraject", backend, "c_command", "p99_ms")
        if median is not None:
            print(f"commands on {backend}: median {median} ms, p99 {p99} ms (medians over runs)")


if __name__ == "__main__":
    main()
