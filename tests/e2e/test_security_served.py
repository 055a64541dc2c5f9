"""Security of `adviestraject serve` in real processes (two API workers), on both databases: a
parallel login burst gets exactly the limit of password checks, the client address comes from
the reverse proxy's X-Forwarded-For, and a body trickled byte by byte is cut off with 408."""

from __future__ import annotations

import http.client
import os
import select as sockets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from service import cli
from service.accounts.roles import Role, Scope
from service.bootstrap import bootstrap
from service.schools.register import School
from service.settings import Settings
from service.store.schema import login_attempts
from tests.conftest import BACKENDS, postgres_server_url, sqlite_url
from tests.e2e.web import csrf

CLI = str(Path(sys.executable).parent / "adviestraject")
EMAIL, PASSWORD, WRONG = "juf@school.nl", "een-lang-wachtwoord", "fout-fout-fout"
BODY_TIMEOUT = 1.0


@dataclass(frozen=True)
class Served:
    port: int
    database_url: str

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def attempts(self) -> list[tuple[str, str, bool]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(login_attempts.c.account, login_attempts.c.address).add_columns(
                        login_attempts.c.succeeded
                    )
                ).all()
        finally:
            engine.dispose()
        return [(r.account, r.address, r.succeeded) for r in rows]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("served") / "served.db")
        return
    server = postgres_server_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {
        **os.environ,
        "ADVIESTRAJECT_DATABASE_URL": database_url,
        "ADVIESTRAJECT_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "ADVIESTRAJECT_FORWARDED_ALLOW_IPS": "127.0.0.1",  # the test plays the proxy
    }
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    container = bootstrap(Settings(database_url=database_url))
    try:
        school = School(id="school-1", brin="01AA", name="De Eerste School")
        container.register.add_school(school)
        container.accounts.add_user(
            EMAIL, "Juf Anna", Role.LEERKRACHT, [Scope(school.id, "8A")], PASSWORD
        )
    finally:
        container.close()
    port = free_port()
    log = tmp_path_factory.mktemp("log") / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not come up:\n{log.read_text()}")
            time.sleep(0.2)
        yield Served(port, database_url)
    finally:
        process.terminate()
        process.wait(timeout=20)


def login_token(served: Served) -> str:
    conn = served.connection()
    conn.request("GET", "/login")
    html = conn.getresponse().read().decode()
    conn.close()
    return csrf(html)


def log_in(
    served: Served, email: str, password: str, forwarded_for: str, token: str | None = None
) -> int:
    token = token or login_token(served)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"adviestraject_login_csrf={token}",
        "X-Forwarded-For": forwarded_for,
    }
    conn = served.connection()
    body = f"email={email}&password={password}&csrf_token={token}"
    conn.request("POST", "/login", body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_parallel_login_burst_against_two_workers_gets_exactly_five_password_checks(
    served: Served,
) -> None:
    start = threading.Barrier(20)
    statuses: list[int] = []
    token = login_token(served)

    def attempt() -> None:
        start.wait()
        statuses.append(log_in(served, EMAIL, WRONG, "198.51.100.20", token))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 15
    checked = [a for a in served.attempts() if a[0] == EMAIL]
    assert checked == [(EMAIL, "198.51.100.20", False)] * 5  # one row per password checked
    assert log_in(served, EMAIL, PASSWORD, "198.51.100.20") == 429


def test_the_client_address_is_the_one_the_proxy_forwarded(served: Served) -> None:
    assert log_in(served, "niemand@school.nl", WRONG, "203.0.113.50") == 401
    assert ("niemand@school.nl", "203.0.113.50", False) in served.attempts()


def test_a_body_trickled_byte_by_byte_is_cut_off_with_408(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/oauth/token HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
        )
        started = time.monotonic()
        answer = b""
        closed = False
        # a byte every 0.25 s (far slower than the body may take), reading whatever comes back
        # before sending the next one; at most 10 s
        while not closed and time.monotonic() - started < 10:
            readable, _, _ = sockets.select([sock], [], [], 0.25)
            if not readable:
                sock.sendall(b"g")
                continue
            chunk = sock.recv(65536)
            answer += chunk
            closed = not chunk
        elapsed = time.monotonic() - started
    assert closed, answer
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 408 Request Timeout", answer
    assert b'"code":"body_timeout"' in answer
    assert b"connection: close" in answer.lower()
    assert BODY_TIMEOUT <= elapsed < BODY_TIMEOUT + 3


def test_serve_believes_forwarded_headers_from_the_configured_proxy_only(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", served.database_url)
    monkeypatch.setenv("ADVIESTRAJECT_FORWARDED_ALLOW_IPS", "172.28.5.2")
    assert CliRunner().invoke(cli.app, ["serve", "--port", "1"]).exit_code == 0
    assert (started["proxy_headers"], started["forwarded_allow_ips"]) == (True, "172.28.5.2")
