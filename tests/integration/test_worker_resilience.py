"""The worker's loops survive failures and say so.

Each loop (intake, outbox, housekeeping) is given a real fault: a delivery whose processing
raises, an outbox message whose handler raises, a round that raises as a whole. The loop goes on
with the other items, the poison item ends failed with its reason after a few attempts, and the
status the worker writes for `/health` and `adviestraject worker status` shows the error.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from typer.testing import CliRunner

from service import logs
from service.api.app import create_app
from service.bootstrap import Container
from service.cli import app as cli_app
from service.intake import processing
from service.intake.processing import MAX_ATTEMPTS
from service.outbox.outbox import Message, OutboxWorker
from service.store.schema import outbox
from service.worker import Loop, backoff, loops, work
from service.worker_status import StatusBoard, WorkerReport, backlog, read_reports
from tests.conftest import Clock
from tests.e2e.intake import SCHOOL, pupil_with_advice
from tests.e2e.test_result_intake import delivery
from workflows.scale import SchoolAdvice

FAST = {"interval": 0.01, "backoff_start": 0.01, "backoff_cap": 0.05}


@pytest.fixture
def status_dir(container: Container, tmp_path: Path) -> Path:
    directory = tmp_path / "worker"
    container.settings = container.settings.model_copy(update={"worker_status_dir": directory})
    return directory


@contextmanager
def running(container: Container, **kwargs: Any) -> Iterator[threading.Event]:
    """The worker on a thread, as `adviestraject worker` runs it, until the block ends."""
    stopping = threading.Event()
    thread = threading.Thread(target=work, args=(container, stopping), kwargs={**FAST, **kwargs})
    thread.start()
    try:
        yield stopping
    finally:
        stopping.set()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the worker stops when asked"


def eventually(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def the_report(directory: Path) -> WorkerReport:
    [report] = read_reports(directory)
    return report


def failures(directory: Path, loop: str) -> int:
    reports = read_reports(directory)
    status = reports[0].loops.get(loop) if reports else None
    return status.failures_in_a_row if status else 0


def states(container: Container) -> dict[str, tuple[str, str | None]]:
    return {d.pupil_ref: (d.state, d.outcome) for d in container.inbox.of_school(SCHOOL.id)}


def test_a_poison_delivery_is_refused_with_its_reason_and_the_others_are_processed(
    container: Container, clock: Clock, status_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.register.add_school(SCHOOL)
    pupils = [pupil_with_advice(container, clock, SchoolAdvice.HAVO) for _ in range(3)]
    poison = str(pupils[1])
    for pupil in pupils:
        container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))
    real_plan = processing._plan

    def plan(found: Any, schools: dict[str, str]) -> Any:
        if found.pupil_ref == poison:
            raise KeyError("resultatenscores")  # a delivery our code cannot read
        return real_plan(found, schools)

    monkeypatch.setattr(processing, "_plan", plan)

    with running(container):
        assert eventually(lambda: all(s != "pending" for s, _ in states(container).values()))
        assert eventually(lambda: the_report(status_dir).loops["intake"].last_error is not None)
        report = the_report(status_dir)

    settled = states(container)
    assert [settled[str(p)][0] for p in pupils] == ["processed", "refused", "processed"]
    outcome = settled[poison][1] or ""
    assert f"technische fout ({MAX_ATTEMPTS} pogingen)" in outcome
    assert "KeyError" in outcome
    for pupil in (pupils[0], pupils[2]):
        assert container.trajectories.load(pupil).status.value == "reconsideration_required"
    intake = report.loops["intake"]
    assert intake.last_error is not None
    assert "KeyError" in intake.last_error
    assert intake.last_error.startswith("delivery ")
    assert intake.last_success_at is not None, "the loop itself went on"


def test_an_intake_round_that_raises_is_retried_and_the_deliveries_still_arrive(
    container: Container, clock: Clock, status_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.register.add_school(SCHOOL)
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))
    failures = iter([RuntimeError("inbox unreadable"), RuntimeError("inbox unreadable")])
    real_pending = container.inbox.pending

    def pending(limit: int = 500) -> Any:
        for error in failures:
            raise error
        return real_pending(limit)

    monkeypatch.setattr(container.inbox, "pending", pending)
    with running(container):
        assert eventually(lambda: states(container)[str(pupil)][0] == "processed")
        # the round that processed it reports its success as it ends
        assert eventually(lambda: the_report(status_dir).loops["intake"].failures_in_a_row == 0)
        report = the_report(status_dir)
    intake = report.loops["intake"]
    assert intake.last_error == "RuntimeError: inbox unreadable"
    assert intake.failures_in_a_row == 0, "it works again"
    assert intake.last_success_at is not None
    assert intake.last_error_at is not None
    assert intake.last_success_at >= intake.last_error_at


def test_a_poison_outbox_message_fails_for_good_and_the_others_are_sent(
    container: Container, clock: Clock, status_dir: Path
) -> None:
    now = clock()
    with container.engine.begin() as conn:
        for n in range(4):
            conn.execute(
                insert(outbox).values(
                    position=n + 1,
                    stream_id=f"trajectory-{uuid.uuid4()}",
                    topic="greeting",
                    payload={"n": n},
                    created_at=now,
                    available_at=now,
                )
            )
    sent: list[int] = []

    def greet(message: Message) -> None:
        if message.payload["n"] == 1:
            raise ValueError("the receiver cannot read message 1")
        sent.append(message.payload["n"])

    worker = OutboxWorker(
        container.engine, {"greeting": greet}, clock, max_attempts=3, backoff=timedelta(0)
    )

    def only(board: StatusBoard) -> list[Loop]:
        worker.report_failures_to(
            lambda message, error: board.item_failed("outbox", f"message {message.id}", error)
        )
        return [Loop("outbox", worker.run_once, 0.01)]

    with running(container, only=only):
        assert eventually(lambda: worker.status().pending == 0)
        report = the_report(status_dir)
    assert sorted(sent) == [0, 2, 3]
    [(message_id, topic, attempts, error)] = worker.failed()
    assert (topic, attempts) == ("greeting", 3)
    assert error == "ValueError: the receiver cannot read message 1"
    last_error = report.loops["outbox"].last_error or ""
    assert last_error == f"message {message_id}: ValueError: the receiver cannot read message 1"


def test_an_outbox_round_that_raises_is_retried(
    container: Container, clock: Clock, status_dir: Path
) -> None:
    real = container.outbox_worker()
    calls = 0

    def flaky_round() -> int:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ConnectionError("mail server gone")
        return real.run_once()

    with running(container, only=lambda board: [Loop("outbox", flaky_round, 0.01)]):
        assert eventually(lambda: calls > 3)
        report = the_report(status_dir)
    loop = report.loops["outbox"]
    assert loop.last_error == "ConnectionError: mail server gone"
    assert loop.failures_in_a_row == 0
    assert loop.last_success_at is not None


def test_housekeeping_that_raises_is_retried_and_reported(
    container: Container, status_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pruned = threading.Event()
    failures = iter([OSError("no space left on device")])

    def prune() -> int:
        for error in failures:
            raise error
        pruned.set()
        return 0

    monkeypatch.setattr(container.throttle, "prune", prune)

    def only(board: StatusBoard) -> list[Loop]:
        return [loop for loop in loops(container, 0.01, board) if loop.name == "housekeeping"]

    with running(container, only=only):
        assert pruned.wait(timeout=20), "housekeeping ran again after the failure"
        assert eventually(
            lambda: the_report(status_dir).loops["housekeeping"].last_success_at is not None
        )
        report = the_report(status_dir)
    loop = report.loops["housekeeping"]
    assert loop.last_error == "OSError: no space left on device"
    assert loop.failures_in_a_row == 0


def test_a_loop_that_keeps_failing_stays_alive_and_counts_its_failures(
    container: Container, status_dir: Path
) -> None:
    tries = 0

    def broken() -> int:
        nonlocal tries
        tries += 1
        raise RuntimeError(f"broken #{tries}")

    with running(container, only=lambda board: [Loop("broken", broken, 0.01)]):
        assert eventually(lambda: tries >= 5)
        report = the_report(status_dir)
    loop = report.loops["broken"]
    assert loop.failures_in_a_row >= 4
    assert loop.last_success_at is None
    assert loop.last_error is not None
    assert loop.last_error.startswith("RuntimeError: broken #")
    assert not list(status_dir.glob("*.json")), "a stopped worker removes its report"


def test_the_wait_after_failures_doubles_up_to_the_cap() -> None:
    assert [backoff(n, 0.5, 60) for n in range(1, 10)] == [
        0.5,
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]
    assert backoff(10_000, 0.5, 60) == 60


def test_the_failures_are_logged_with_the_item_and_a_traceback(
    container: Container,
    clock: Clock,
    status_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    container.register.add_school(SCHOOL)
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    delivery_id = container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))

    def plan(found: Any, schools: dict[str, str]) -> Any:
        raise KeyError("resultatenscores")

    monkeypatch.setattr(processing, "_plan", plan)
    with running(container):
        assert eventually(lambda: states(container)[str(pupil)][0] == "refused")
    failed = [r for r in caplog.records if getattr(r, "delivery_id", None) == delivery_id]
    assert len(failed) == MAX_ATTEMPTS
    assert all(r.exc_info and r.exc_info[0] is KeyError for r in failed)
    assert f"delivery {delivery_id} failed (attempt 1 of {MAX_ATTEMPTS})" in caplog.text


def test_the_status_shows_the_backlog_from_the_tables(
    container: Container, clock: Clock, status_dir: Path
) -> None:
    container.register.add_school(SCHOOL)
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))
    waiting = backlog(container.engine)
    assert waiting.deliveries_pending == 1
    assert waiting.events_behind > 0  # the catch-up read models have not run yet
    assert waiting.outbox_pending >= 1  # the voorlopig advies goes to the provider
    stopping = threading.Event()
    work(container, stopping, once=True, interval=0.01, backoff_start=0.01)
    after = backlog(container.engine)
    assert (after.deliveries_pending, after.events_behind) == (0, 0)


def test_health_and_worker_status_show_each_loops_last_success_last_error_and_backlog(
    container: Container,
    clock: Clock,
    status_dir: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container.register.add_school(SCHOOL)
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))

    def broken() -> int:
        raise RuntimeError("mail server gone")

    def only(board: StatusBoard) -> list[Loop]:
        return [Loop("outbox", broken, 0.01), Loop("housekeeping", lambda: 0, 3600)]

    with running(container, only=only):
        assert eventually(lambda: failures(status_dir, "outbox") > 1)
        with TestClient(create_app(container)) as client:
            body = client.get("/health").json()
        monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
        monkeypatch.setenv("ADVIESTRAJECT_WORKER_STATUS_DIR", str(status_dir))
        shown = CliRunner().invoke(cli_app, ["worker", "status"])

    assert body["status"] == "ok"
    assert body["backlog"]["deliveries_pending"] == 1
    [worker] = body["workers"]
    assert worker["stale"] is False
    outbox_loop = worker["loops"]["outbox"]
    assert outbox_loop["last_error"] == "RuntimeError: mail server gone"
    assert outbox_loop["failures_in_a_row"] > 1
    assert outbox_loop["backlog"] == body["backlog"]["outbox_pending"]
    assert worker["loops"]["housekeeping"]["last_success_at"] is not None

    assert shown.exit_code == 0, shown.output
    assert "backlog: 1 deliveries pending" in shown.stdout
    assert "housekeeping: last success 20" in shown.stdout
    assert "outbox: last success never" in shown.stdout
    assert "RuntimeError: mail server gone" in shown.stdout


def test_json_log_lines_carry_the_request_id_of_the_request_that_logged_them(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(container)

    @app.get("/probe-log")
    def probe() -> dict[str, str]:
        logging.getLogger("adviestraject.probe").warning("handling %s", "probe")
        return {}

    root = logging.getLogger()
    level = root.level
    logs.configure("json")
    try:
        with TestClient(app) as client:
            answer = client.get("/probe-log", headers={"X-Request-ID": "req-42"})
        logging.getLogger("adviestraject.probe").warning("outside a request")
    finally:
        for handler in [h for h in root.handlers if isinstance(h, logs._Handler)]:
            root.removeHandler(handler)
        root.setLevel(level)
    assert answer.headers["X-Request-ID"] == "req-42"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    inside = [line for line in lines if line["message"] == "handling probe"]
    assert [line["request_id"] for line in inside] == ["req-42"]
    assert inside[0]["level"] == "WARNING"
    assert inside[0]["logger"] == "adviestraject.probe"
    [outside] = [line for line in lines if line["message"] == "outside a request"]
    assert "request_id" not in outside
