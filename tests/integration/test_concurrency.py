"""Concurrent writers: a follower of the log never skips an event; SQLite never says "locked"."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from service.audit.verify import verify
from service.store.sql import SqlStore, make_store

ROOT = Path(__file__).parents[2]


def writers(mode: str, url: str, count: int, n: int) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.concurrent_writer",
                mode,
                url,
                str(w),
                str(n),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(count)
    ]


def finish(processes: list[subprocess.Popen[str]]) -> list[dict[str, int]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    return results


def follow_while_writing(store: SqlStore, url: str, mode: str, n: int) -> None:
    """Four writer processes and a follower: the follower sees every position exactly once,
    in order, while they write; the chain verifies afterwards."""
    seen: list[int] = []
    polls_while_writing = 0
    done = threading.Event()

    def follow() -> None:
        nonlocal polls_while_writing
        after = 0
        while True:
            finished = done.is_set()
            page = store.read_all(after=after, limit=50)
            if page:
                seen.extend(e.position for e in page)
                after = page[-1].position
                polls_while_writing += not finished
            elif finished:
                return

    follower = threading.Thread(target=follow)
    follower.start()
    processes = writers(mode, url, 4, n)
    results = finish(processes)
    done.set()
    follower.join(timeout=120)
    total = sum(r["events"] for r in results)
    assert total > 0
    assert seen == list(range(1, total + 1)), "in order, none skipped, none twice"
    assert polls_while_writing > 10, "the follower read while the writers were writing"
    assert store.head()[0] == total
    assert verify(store).ok


@pytest.mark.postgres
def test_a_follower_sees_every_event_exactly_once_under_four_concurrent_writers(
    postgres_engine: Engine, postgres_schema_url: str
) -> None:
    follow_while_writing(make_store(postgres_engine), postgres_schema_url, "store", 150)


def test_a_follower_sees_every_event_once_while_four_writers_use_every_write_path(
    database_url: str, engine: Engine
) -> None:
    """Handler commands (the server function on PostgreSQL), locked batches and COPY batches
    from four processes at once: nothing lost, nothing doubled, no gap for the follower."""
    follow_while_writing(make_store(engine), database_url, "mixed", 12)


def test_two_processes_writing_commands_at_once_never_hit_a_locked_database(
    database_url: str, engine: Engine
) -> None:
    start = time.perf_counter()
    results = finish(writers("commands", database_url, 2, 60))
    assert all(r["events"] == 120 for r in results)
    store = make_store(engine)
    assert len(store.read_all(limit=1000)) == 240
    assert time.perf_counter() - start < 120
