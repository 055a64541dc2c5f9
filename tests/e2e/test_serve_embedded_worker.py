"""`make run` alone processes results: `adviestraject serve` on SQLite runs the worker beside
itself. A real server process on a free port, a toets result delivered over HTTP through the
chain standard, and the trajectory shows the heroverweging; the class teacher's notice is
written as an e-mail file; Ctrl-C (SIGINT) stops server and worker together."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.bootstrap import bootstrap
from service.cli import app as cli_app
from service.intake.standard import example
from service.schools.demo import (
    DEMO_EDU_TO,
    DEMO_IB,
    DEMO_OIN,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    demo_pupil_id,
)
from service.settings import Settings
from tests.conftest import sqlite_url
from tests.e2e.test_serve import CLI, free_port

NOOR = demo_pupil_id("Noor", "de Vries")  # voorlopig advies havo in the demo
CHAIN = f"/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to={DEMO_EDU_TO}&edu-from={DEMO_OIN}"


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


@dataclass
class Running:
    base: str
    teacher_token: str
    provider_token: str
    process: subprocess.Popen[bytes]
    log: Path
    mail_dir: Path


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """`make run`'s three steps on a fresh SQLite file (only its paths point at tmp_path), plus
    the demo school's test provider as a machine client."""
    env = {
        **os.environ,
        "ADVIESTRAJECT_DATABASE_URL": sqlite_url(tmp_path / "served.db"),
        "ADVIESTRAJECT_MAIL_DIR": str(tmp_path / "mail"),
        "ADVIESTRAJECT_KEY_FILE": str(tmp_path / "keys.kek"),
        "ADVIESTRAJECT_WORKER_STATUS_DIR": str(tmp_path / "worker"),
        "ADVIESTRAJECT_ANCHOR_DIR": str(tmp_path / "anchors"),
    }
    for name in list(env):
        if name.startswith("ADVIESTRAJECT_") and name not in {
            "ADVIESTRAJECT_DATABASE_URL",
            "ADVIESTRAJECT_MAIL_DIR",
            "ADVIESTRAJECT_KEY_FILE",
            "ADVIESTRAJECT_WORKER_STATUS_DIR",
            "ADVIESTRAJECT_ANCHOR_DIR",
            "ADVIESTRAJECT_TEST_POSTGRES_URL",
        }:
            del env[name]  # the default everything else: the embedded worker is "auto"
    output = ""
    for step in ("migrate", "seed-demo"):  # in this process: the server is the real one
        done = CliRunner().invoke(cli_app, [step], env=env)
        assert done.exit_code == 0, done.output
        output += done.output
    teacher_token = output.rsplit("API token for", 1)[1].split(": ", 1)[1].split()[0]
    settings = Settings(
        database_url=env["ADVIESTRAJECT_DATABASE_URL"], key_file=tmp_path / "keys.kek"
    )
    container = bootstrap(settings)
    try:
        client = container.clients.add("koppeling@iep.nl", "IEP-koppeling", [DEMO_SCHOOL.id])
        token = container.clients.exchange(client.client_id, client.client_secret)
        assert token is not None
    finally:
        container.close()
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if call("GET", f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        yield Running(base, teacher_token, token.token, process, log, tmp_path / "mail")
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def delivery(toetsadvies: str) -> dict[str, object]:
    message = example("/leerlingresultaat", "Leerlingresultaat")
    scores = message["resultatenscores"]
    scores["id"] = "rs-served-1"
    scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": str(NOOR)}]
    for result in scores["resultaten"]["resultaten"]:
        if result["label"] == "Toetsadvies":
            result["waarde"] = toetsadvies
    return message


def test_serve_alone_turns_a_delivered_result_into_a_heroverweging_and_a_notice(
    running: Running,
) -> None:
    assert "worker:     draait mee" in running.log.read_text()
    status, body = call("POST", running.base + CHAIN, delivery("vwo"), running.provider_token)
    assert status == 202, body
    trajectory = f"{running.base}/api/v1/pupils/{NOOR}/trajectory"
    deadline = time.monotonic() + 15
    while True:
        status, state = call("GET", trajectory, token=running.teacher_token)
        assert status == 200, state
        if state["status"] == "reconsideration_required":
            break
        assert time.monotonic() < deadline, f"not processed: {state}\n{running.log.read_text()}"
        time.sleep(0.2)
    assert state["status_label"] == "heroverweging nodig"

    # the outbox loop ran too: the notices to the class teacher and the school's IB (.eml, the
    # development default), beside the invitations of the talk the planner proposed to Noor's
    # two parents
    deadline = time.monotonic() + 10
    while len(mails := sorted(running.mail_dir.glob("*.eml"))) < 4:
        assert time.monotonic() < deadline, f"{mails}\n{running.log.read_text()}"
        time.sleep(0.2)
    read = [
        (m, email.message_from_bytes(m.read_bytes(), policy=email.policy.default)) for m in mails
    ]
    [(mail, message)] = [(m, msg) for m, msg in read if msg["To"] == DEMO_TEACHER]
    [(_, to_ib)] = [(m, msg) for m, msg in read if msg["To"] == DEMO_IB]
    assert to_ib["Subject"] == "Heroverweging nodig: een leerling van groep 8A"
    invited = sorted(str(msg["To"]) for _, msg in read if msg["To"] not in (DEMO_TEACHER, DEMO_IB))
    assert invited == [
        "ouder1.noor.devries@demo.adviestraject.nl",
        "ouder2.noor.devries@demo.adviestraject.nl",
    ]
    assert message["Subject"] == "Heroverweging nodig: een leerling van groep 8A"
    assert f"/leerlingen/{NOOR}" in mail.read_text(encoding="utf-8")

    # /health shows the embedded worker (one, not stale)
    status, health = call("GET", f"{running.base}/health")
    assert status == 200
    workers = health["workers"]
    assert isinstance(workers, list)
    assert [w["stale"] for w in workers] == [False]

    # Ctrl-C stops the server and the worker beside it
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=20) is not None
    assert "Traceback" not in running.log.read_text()
