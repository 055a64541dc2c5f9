"""`adviestraject serve` in a real process: what `make run` starts answers /health and the slice."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.schools.demo import demo_pupil_id
from tests.conftest import sqlite_url

CLI = str(Path(sys.executable).parent / "adviestraject")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def call(
    method: str, url: str, body: object = None, token: str | None = None
) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (a loopback URL built by this test)
        url, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The base URL and the demo teacher's API token, as `make run` prints it."""
    env = {**os.environ, "ADVIESTRAJECT_DATABASE_URL": sqlite_url(tmp_path / "served.db")}
    output = ""
    for step in ("migrate", "seed-demo"):
        done = subprocess.run(
            [CLI, step], env=env, check=True, capture_output=True, timeout=60, text=True
        )
        output += done.stdout
    token = output.rsplit("API token for", 1)[1].split(": ", 1)[1].split()[0]
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if call("GET", f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not come up:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_served_demo_school_answers_health_and_records_an_advice(
    server: tuple[str, str],
) -> None:
    base, token = server
    status, health = call("GET", f"{base}/health")
    assert (status, health["status"]) == (200, "ok")

    pupil = demo_pupil_id("Luuk", "Bakker")
    status, refused = call("GET", f"{base}/api/v1/pupils/{pupil}/trajectory")
    assert (status, refused["code"]) == (401, "unauthenticated")
    status, trajectory = call("GET", f"{base}/api/v1/pupils/{pupil}/trajectory", token=token)
    assert (status, trajectory["status"]) == (200, "awaiting_provisional_advice")

    today = time.strftime("%Y-%m-%d", time.gmtime())
    status, accepted = call(
        "POST",
        f"{base}/api/v1/pupils/{pupil}/provisional-advice",
        {"advice": "vmbo-gt/havo", "given_on": today},
        token=token,
    )
    assert status == 201, accepted
    status, trajectory = call("GET", f"{base}/api/v1/pupils/{pupil}/trajectory", token=token)
    assert trajectory["provisional_advice"]["advice"]["code"] == "VMBO_GL/TL_TM_HAVO"  # type: ignore[index]

    # Without login no pupil data in any environment: the start page is the login, which in
    # development lists the demo accounts to try.
    with urllib.request.urlopen(f"{base}/", timeout=10) as response:  # noqa: S310
        page = response.read().decode()
        assert response.url.endswith("/login")
    assert "Luuk" not in page
    assert "Bakker" not in page
