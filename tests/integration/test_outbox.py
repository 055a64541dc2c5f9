"""The outbox delivers every message at least once; idempotent handlers make it once in effect."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from service.cli import app
from service.outbox.outbox import Message, OutboxWorker
from service.store.schema import outbox
from tests.conftest import Clock

ROOT = Path(__file__).parents[2]


def put(engine: Engine, n: int, topic: str = "t") -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    with engine.begin() as conn:
        conn.execute(
            insert(outbox),
            [
                {
                    "position": i,
                    "stream_id": f"s-{i}",
                    "topic": topic,
                    "payload": {"i": i},
                    "created_at": now,
                    "available_at": now,
                }
                for i in range(1, n + 1)
            ],
        )


def test_a_handled_message_is_done_and_not_handled_again(engine: Engine) -> None:
    put(engine, 3)
    seen: list[int] = []
    worker = OutboxWorker(engine, {"t": lambda m: seen.append(m.id)}, lambda: datetime.now(UTC))
    assert worker.run_once() == 3
    assert worker.run_once() == 0
    assert sorted(seen) == [1, 2, 3]
    assert worker.status().done == 3


def test_a_failing_handler_is_retried_with_backoff_then_marked_failed(engine: Engine) -> None:
    put(engine, 1)
    clock = Clock(datetime.now(UTC))
    calls: list[datetime] = []

    def broken(message: Message) -> None:
        calls.append(clock.now)
        raise RuntimeError("mail server down")

    worker = OutboxWorker(
        engine, {"t": broken}, clock, max_attempts=3, backoff=timedelta(seconds=10)
    )
    assert worker.run_once() == 1
    assert worker.run_once() == 0, "not before the backoff has passed"
    clock.now += timedelta(seconds=10)
    assert worker.run_once() == 1
    clock.now += timedelta(seconds=19)
    assert worker.run_once() == 0, "the second wait is twice as long"
    clock.now += timedelta(seconds=1)
    assert worker.run_once() == 1
    clock.now += timedelta(days=1)
    assert worker.run_once() == 0, "failed for good after three attempts"
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert row.attempts == 3
    assert row.failed_at is not None
    assert "mail server down" in row.last_error
    assert worker.status().failed == 1


def test_a_message_without_a_handler_is_kept_and_reported(engine: Engine) -> None:
    put(engine, 1, topic="unknown")
    worker = OutboxWorker(engine, {}, lambda: datetime.now(UTC), max_attempts=1)
    worker.run_once()
    with engine.connect() as conn:
        assert "no handler" in conn.execute(select(outbox.c.last_error)).scalar_one()


def test_a_worker_that_dies_mid_batch_loses_nothing_and_repeats_nothing_in_effect(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    put(engine, 25)
    log = tmp_path / "calls.log"
    env = {**os.environ, "LEASE": "1"}
    crash = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.outbox_crash_worker",
            database_url,
            str(log),
            "7",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        timeout=60,
    )
    assert crash.returncode == 17
    time.sleep(1.2)  # the dead worker's lease runs out
    rest = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.outbox_crash_worker",
            database_url,
            str(log),
            "0",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        timeout=60,
    )
    assert rest.returncode == 0
    calls = Counter(int(line) for line in log.read_text().split())
    assert set(calls) == set(range(1, 26)), "every message handled"
    assert calls[7] == 2, "the message in flight when the worker died ran again"
    effects = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("effect-*"))
    assert effects == list(range(1, 26)), "one effect per message"
    worker = OutboxWorker(engine, {}, lambda: datetime.now(UTC))
    assert (worker.status().pending, worker.status().done) == (0, 25)


@pytest.mark.postgres
def test_several_workers_share_the_queue_without_taking_the_same_message(
    postgres_engine: Engine,
) -> None:
    put(postgres_engine, 200)
    handled: list[int] = []
    lock = threading.Lock()

    def handle(message: Message) -> None:
        time.sleep(0.002)
        with lock:
            handled.append(message.id)

    def run() -> None:
        worker = OutboxWorker(postgres_engine, {"t": handle}, lambda: datetime.now(UTC))
        while worker.run_once(limit=5):
            pass

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(handled) == list(range(1, 201))


def test_failed_messages_are_listed_and_can_be_retried_from_the_command_line(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(engine, 1, topic="unknown")
    OutboxWorker(engine, {}, lambda: datetime.now(UTC), max_attempts=1).run_once()
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    shown = CliRunner().invoke(app, ["outbox"])
    assert shown.exit_code == 0, shown.output
    assert "1 failed" in shown.output
    assert "failed #1 unknown after 1 attempts: LookupError" in shown.output
    retried = CliRunner().invoke(app, ["outbox", "--retry-failed"])
    assert "1 failed messages will be tried again" in retried.output
    assert "1 pending, 0 done, 0 failed" in retried.output
