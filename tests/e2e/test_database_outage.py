"""The service under a database that goes away: stopped, restarted, crashed, slow, or out of disk.

A private PostgreSQL cluster (never the shared test server) is stopped under the running API: it
answers 503 with Retry-After, and 2xx again once the database is back, without a restart. The
worker keeps going through a crash (SIGKILL to every PostgreSQL process) and catches up. An SQLite
file on a full (small, real) filesystem gives a 503 that says storing is impossible, /health says
so too, and the CLI exits 2 with one line.
"""

from __future__ import annotations

import gc
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container, bootstrap
from service.cli import app as cli_app
from service.clitools import require_schema
from service.schools.register import Pupil
from service.settings import Settings
from service.store import engine as engine_module
from service.store.migrate import upgrade
from service.worker import wait_for_database, work
from service.worker_status import read_reports
from tests.conftest import Clock, enrolled_pupil, sqlite_url
from tests.e2e.intake import SCHOOL, pupil_with_advice
from tests.e2e.test_result_intake import delivery
from tests.private_postgres import PrivatePostgres, private_postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    for running in private_postgres():
        yield running
        close_left_over_connections(running)


def close_left_over_connections(cluster: PrivatePostgres) -> None:
    """Close what a pool still holds to this cluster once its tests are done.

    Known open end (issue 12's note): after these outage tests a pool record still holds one
    open connection to the private cluster, collected much later in an unrelated test as an
    unclosed-connection warning. Which pool keeps it is not found yet; it is closed here so the
    warning cannot land elsewhere, and it is a test-harness cleanup only.
    """
    gc.collect()
    port = make_url(cluster.url).port
    for found in gc.get_objects():
        if isinstance(found, psycopg.Connection) and not found.closed and found.info.port == port:
            found.close()


@pytest.fixture
def database(cluster: PrivatePostgres) -> Iterator[str]:
    """A fresh, migrated database in the private cluster (started again if a test left it down)."""
    if not cluster.running():
        cluster.start()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(cluster.url).set(database=name).render_as_string(hide_password=False)
    yield url
    if not cluster.running():
        cluster.start()
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def opened(url: str, tmp_path: Path, clock: Clock, **settings: object) -> Container:
    chosen = Settings(
        database_url=url,
        mail_dir=tmp_path / "mail",
        worker_status_dir=tmp_path / "worker",
        **settings,  # type: ignore[arg-type]
    )
    container = bootstrap(chosen, clock=clock)
    upgrade(container.engine)
    return container


@pytest.fixture
def served(
    database: str, tmp_path: Path, clock: Clock
) -> Iterator[tuple[TestClient, Container, dict[str, str], str]]:
    """The API on the private cluster, a directie token and one pupil's trajectory URL."""
    container = opened(database, tmp_path, clock, database_statement_timeout=1.0)
    container.register.add_school(SCHOOL)
    pupil = pupil_with_advice(container, clock)
    container.accounts.add_user("directie@school.nl", "D", Role.DIRECTIE, [Scope(SCHOOL.id, "")])
    token = container.accounts.issue_token("directie@school.nl", "test", days=7).token
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client, container, auth, f"/api/v1/pupils/{pupil}/trajectory"
    container.close()


def is_503_to_retry(response: object, code: str = "database_unavailable") -> bool:
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", {})
    if status != 503 or not headers.get("Retry-After", "").isdigit():
        return False
    if headers.get("content-type") == "application/problem+json":
        return bool(response.json()["code"] == code)  # type: ignore[attr-defined]
    return True


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_a_stopped_database_is_a_503_with_retry_after_and_the_api_recovers_by_itself(
    served: tuple[TestClient, Container, dict[str, str], str], cluster: PrivatePostgres
) -> None:
    client, _, auth, trajectory = served
    assert client.get("/health").status_code == 200
    assert client.get(trajectory, headers=auth).status_code == 200

    cluster.stop()
    down = [client.get("/health"), client.get(trajectory, headers=auth)]
    down.append(client.post(f"{trajectory[:-11]}/provisional-advice", json={}, headers=auth))
    for answer in down:
        assert is_503_to_retry(answer), (answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "request_id" in answer.json()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    assert "De database is even niet bereikbaar" in page.text

    cluster.start()
    assert client.get(trajectory, headers=auth).status_code == 200
    assert client.get("/health").status_code == 200


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_after_a_restart_while_idle_the_first_requests_do_not_fail(
    served: tuple[TestClient, Container, dict[str, str], str],
    cluster: PrivatePostgres,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _, auth, trajectory = served
    for _ in range(3):  # a few pooled connections, all of them killed by the restart
        assert client.get(trajectory, headers=auth).status_code == 200
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)  # "idle" without waiting for it
    cluster.stop()
    cluster.start()
    answers = [client.get(trajectory, headers=auth).status_code for _ in range(5)]
    assert answers == [200] * 5


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_a_statement_held_up_by_a_lock_ends_at_the_statement_timeout_as_a_503(
    served: tuple[TestClient, Container, dict[str, str], str],
) -> None:
    client, container, auth, trajectory = served
    blocker = create_engine(container.engine.url)
    with blocker.begin() as conn:
        conn.execute(text("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        answer = client.get(trajectory, headers=auth)
        waited = time.monotonic() - started
    blocker.dispose()
    assert is_503_to_retry(answer), (answer.status_code, answer.text)
    assert waited < 10, "cancelled by the 1 s statement timeout, not left hanging"
    assert client.get(trajectory, headers=auth).status_code == 200


def timed(request: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    answer = request()
    return answer, time.monotonic() - started


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_a_frozen_server_cannot_hang_a_new_connection_beyond_the_connect_timeout(
    served: tuple[TestClient, Container, dict[str, str], str], cluster: PrivatePostgres
) -> None:
    client, container, auth, trajectory = served
    container.engine.dispose()  # no pooled connection: the next request must connect
    with cluster.frozen(backends=False):
        answer, waited = timed(lambda: client.get(trajectory, headers=auth))
    assert is_503_to_retry(answer), answer
    assert waited < 10, "given up after the connect timeout (libpq's minimum, 2 s)"
    assert client.get(trajectory, headers=auth).status_code == 200


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_a_frozen_server_cannot_hang_a_request_on_a_pooled_connection(
    served: tuple[TestClient, Container, dict[str, str], str], cluster: PrivatePostgres
) -> None:
    """The server's statement timeout cannot fire in a frozen server: the watchdog's can."""
    client, _, auth, trajectory = served
    assert client.get(trajectory, headers=auth).status_code == 200  # a pooled connection
    with cluster.frozen(backends=True):  # thawed after 15 s: without a watchdog, that long
        answer, waited = timed(lambda: client.get(trajectory, headers=auth))
    assert is_503_to_retry(answer), answer
    # suspected after 2 s, then a probe that gets no answer within the connect timeout + 1 s
    assert waited < 8, f"broken off by the watchdog, not held for the freeze ({waited:.1f} s)"
    assert client.get(trajectory, headers=auth).status_code == 200


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_a_worker_started_while_the_database_is_down_waits_for_it(
    database: str, tmp_path: Path, clock: Clock, cluster: PrivatePostgres
) -> None:
    """As `adviestraject worker` starts: the schema check waits for the database, with backoff,
    instead of exiting (bench/faults pg-crash: a worker started as the server crashed exited 2)."""
    container = opened(database, tmp_path, clock)
    stopping = threading.Event()
    outcome: list[bool] = []
    cluster.stop()
    try:
        waiting = threading.Thread(
            target=lambda: outcome.append(
                wait_for_database(
                    lambda: require_schema(container), stopping, backoff_start=0.1, backoff_cap=0.5
                )
            )
        )
        waiting.start()
        time.sleep(1.0)
        assert waiting.is_alive(), "still waiting while the database is down"
        assert not outcome
        cluster.start()
        waiting.join(timeout=20)
        assert outcome == [True]
    finally:
        stopping.set()
        container.close()


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_a_slow_statement_on_a_live_server_is_left_to_the_statement_timeout(
    database: str, tmp_path: Path, clock: Clock
) -> None:
    """The watchdog only breaks off when the server gives no answer: a live server that is busy
    for longer than the watchdog's suspicion keeps its connection and finishes the work."""
    container = opened(database, tmp_path, clock, database_statement_timeout=0)
    try:
        with container.engine.connect() as conn:
            slept = conn.execute(text("SELECT pg_sleep(3.5), 7")).one()[1]
        assert slept == 7
    finally:
        container.close()


def eventually(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.postgres  # a private cluster, not the shared test server
def test_the_worker_survives_a_postgresql_crash_and_catches_up(
    database: str, cluster: PrivatePostgres, tmp_path: Path, clock: Clock
) -> None:
    container = opened(database, tmp_path, clock)
    container.register.add_school(SCHOOL)
    pupils = [pupil_with_advice(container, clock) for _ in range(30)]
    clock.now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    for pupil in pupils:
        container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))

    stopping = threading.Event()
    worker = threading.Thread(
        target=work,
        args=(container, stopping),
        kwargs={"interval": 0.05, "backoff_start": 0.05, "backoff_cap": 0.5},
    )
    cluster.crash()  # before the worker's first round: every delivery is still pending
    worker.start()
    try:
        status_dir = tmp_path / "worker"

        def intake_failing() -> bool:
            reports = read_reports(status_dir)
            return (
                bool(reports)
                and reports[0].loops.get("intake") is not None
                and (reports[0].loops["intake"].failures_in_a_row >= 2)
            )

        assert eventually(intake_failing), "the worker tries again and says it fails"
        assert worker.is_alive()
        cluster.start()

        def caught_up() -> bool:
            return all(d.state == "processed" for d in container.inbox.of_school(SCHOOL.id))

        assert eventually(caught_up), "every delivery is processed once the database is back"
        [report] = read_reports(status_dir)
        intake = report.loops["intake"]
        assert intake.last_error is not None
        assert worker.is_alive()
    finally:
        stopping.set()
        worker.join(timeout=30)
        container.close()
    assert not worker.is_alive()
    for pupil in pupils:
        stream = container.store.read_stream(f"trajectory-{pupil}")
        assert [e.event_type for e in stream][-2:] == [
            "test_result_received",
            "reconsideration_required",
        ]
    with container.engine.connect() as conn:
        received = conn.execute(
            text("SELECT count(*) FROM events WHERE event_type = 'test_result_received'")
        ).scalar_one()
    assert received == len(pupils), "nothing doubled"


# -- SQLite on a full disk ---------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem (tmpfs), so the disk can really fill up; skipped without root."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_under_sqlite_is_a_503_and_health_says_nothing_can_be_stored(
    small_disk: Path, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = opened(sqlite_url(small_disk / "db.sqlite"), tmp_path, clock)
    container.register.add_school(SCHOOL)
    pupils = [enrolled_pupil(container) for _ in range(2)]
    for pupil in pupils:
        container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
    container.accounts.add_user("directie@school.nl", "D", Role.DIRECTIE, [Scope(SCHOOL.id, "")])
    token = container.accounts.issue_token("directie@school.nl", "test", days=7).token
    auth = {"Authorization": f"Bearer {token}"}
    advice = {"advice": "havo", "given_on": "2026-01-15"}
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        filler = fill(small_disk)
        assert _write_until_full(container) is not None, "the database's last free pages are used"
        answer = client.post(
            f"/api/v1/pupils/{pupils[0]}/provisional-advice", json=advice, headers=auth
        )
        assert is_503_to_retry(answer, "database_not_writable"), answer.text
        stream = container.store.read_stream(f"trajectory-{pupils[0]}")
        assert [e.event_type for e in stream] == ["pupil_enrolled"], "nothing stored"
        health = client.get("/health")
        assert is_503_to_retry(health, "database_not_writable"), health.text

        filler.unlink()
        answer = client.post(
            f"/api/v1/pupils/{pupils[1]}/provisional-advice", json=advice, headers=auth
        )
        assert answer.status_code == 201, answer.text
        # the write that worked is the proof: /health says so at once, not after its memory
        assert client.get("/health").status_code == 200
    container.close()


def _write_until_full(container: Container) -> Exception | None:
    for _ in range(10_000):
        try:
            container.register.add_pupil(Pupil(str(uuid.uuid4()), SCHOOL.id, "N", "x" * 4000, "8A"))
        except Exception as error:  # the driver's "database or disk is full"
            return error
    return None


def test_importing_pupils_on_a_full_disk_exits_2_with_one_line(
    small_disk: Path, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_url(small_disk / "db.sqlite")
    container = opened(url, tmp_path, clock)
    container.register.add_school(SCHOOL)
    container.accounts.add_user(IB, "Ilse IB", Role.IB, [Scope(SCHOOL.id)])
    container.close()
    rows = "".join(f"{1000 + n};Kind{n};;{'Groot' * 40};8;8A;;\n" for n in range(3000))
    csv = tmp_path / "pupils.csv"
    csv.write_text("Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas;;\n" + rows)
    fill(small_disk)
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", url)
    result = CliRunner().invoke(
        cli_app,
        ["import", "pupils", str(csv), "--school", SCHOOL.brin, *SCHOOL_YEAR, "--as", IB],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("adviestraject: database error (cannot store anything")
    assert result.stderr.strip().count("\n") == 0


SCHOOL_YEAR = ("--school-year", "2025-2026")
IB = "ib@school.nl"  # the account the import is credited to
