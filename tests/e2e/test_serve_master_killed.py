"""`serve --workers 2` whose master is killed with SIGKILL: its workers go too, so the port is
free for a new `serve` (before, the orphaned workers kept serving and held the port)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from service.store.engine import make_engine
from service.store.migrate import upgrade
from tests.conftest import sqlite_url
from tests.e2e.test_serve import free_port

CLI = str(Path(sys.executable).parent / "adviestraject")


def health(port: int) -> int | None:
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        probe.request("GET", "/health")
        return probe.getresponse().status
    except OSError:
        return None
    finally:
        probe.close()


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_the_workers_exit_with_a_killed_master_and_free_the_port(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ADVIESTRAJECT_DATABASE_URL": sqlite_url(tmp_path / "served.db"),
        "ADVIESTRAJECT_WORKER_STATUS_DIR": str(tmp_path / "worker"),
    }
    engine = make_engine(env["ADVIESTRAJECT_DATABASE_URL"])
    upgrade(engine)
    engine.dispose()
    port = free_port()
    log = tmp_path / "serve.log"
    first = serve(port, env, log)
    workers: list[int] = []
    try:
        assert wait_for(lambda: health(port) == 200, 60), log.read_text()
        assert wait_for(lambda: len(children(first.pid)) >= 2, 30)
        workers = children(first.pid)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert wait_for(lambda: not any(alive(pid) for pid in workers), 20), "workers outlived it"
        assert wait_for(lambda: health(port) is None, 10), "nothing answers on the port"
        with socket.socket() as sock:  # what a new `serve` does first: bind the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind(("127.0.0.1", port))
            sock.listen()
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
