"""The real service in subprocesses, as `make run` starts it: for the browser tests, the
screenshots and the page benchmark.

`serve(directory)` runs `adviestraject migrate` and `seed-demo` on a fresh SQLite file (or the
database URL given), starts `serve` on a free port (on SQLite with its embedded worker, as
`make run`), waits for /health and yields a `Served`. Every path the service writes (mail,
keys, anchors, worker status) is in `directory`, never in the work tree.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from typer.testing import CliRunner

from service.cli import app as cli_app

CLI = str(Path(sys.executable).parent / "adviestraject")


class ServiceError(RuntimeError):
    """The service did not start, or a CLI step failed (the message holds its output)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    """The running service: its address, its environment (for CLI steps) and its mail dir."""

    base_url: str
    env: dict[str, str]
    directory: Path
    logs: list[Path] = field(default_factory=list)

    @property
    def mail_dir(self) -> Path:
        return self.directory / "mail"

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """`adviestraject ARGS` against the served database, run in this process (the same
        command code; saves the CLI's start-up of a few seconds); its standard output."""
        own = {key: value for key, value in self.env.items() if key.startswith("ADVIESTRAJECT_")}
        done = CliRunner().invoke(cli_app, list(args), input=stdin, env=own)
        if done.exit_code != 0:
            raise ServiceError(
                f"adviestraject {' '.join(args)}: exit {done.exit_code}\n{done.output}"
                f"{done.exception!r}"
            )
        return done.stdout

    def mail_to(self, address: str, pattern: str, timeout: float = 15) -> str:
        """What `pattern` matches in the newest e-mail to this address that has it (the worker
        sends the outbox; in development mails are .eml files in the mail dir)."""
        deadline = time.monotonic() + timeout
        while True:
            mails = sorted(self.mail_dir.rglob("*.eml"), key=lambda p: p.stat().st_mtime)
            for eml in reversed(mails):
                message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
                if address not in str(message["To"]):
                    continue
                body = message.get_body(preferencelist=("plain", "html"))
                found = re.search(pattern, body.get_content()) if body is not None else None
                if found:
                    return found.group(0)
            if time.monotonic() > deadline:
                names = sorted(p.name for p in self.mail_dir.rglob("*"))
                raise ServiceError(f"no e-mail to {address} with {pattern!r}: {names}")
            time.sleep(0.2)

    def log_text(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)


def service_env(directory: Path, database_url: str, base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ADVIESTRAJECT_DATABASE_URL": database_url,
        "ADVIESTRAJECT_PUBLIC_URL": base_url,  # the links in the invitation e-mails
        "ADVIESTRAJECT_ENVIRONMENT": "development",
        "ADVIESTRAJECT_MAIL_DIR": str(directory / "mail"),
        "ADVIESTRAJECT_KEY_FILE": str(directory / "keys" / "pupil-keys.kek"),
        "ADVIESTRAJECT_ANCHOR_DIR": str(directory / "anchors"),
        "ADVIESTRAJECT_WORKER_STATUS_DIR": str(directory / "worker"),
        "ADVIESTRAJECT_LOG_LEVEL": "WARNING",
    }


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


@dataclass
class _Processes:
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, served: Served, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = served.directory / f"{name}.log"
        served.logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [CLI, *args], env=served.env, cwd=served.directory, stdout=out, stderr=out
            )
        self.running.append(process)
        return process

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def sqlite_file_url(path: Path) -> str:
    return f"sqlite:///{quote(str(path))}"


@contextmanager
def serve(
    directory: Path, database_url: str | None = None, *, worker: bool = True, seed: bool = True
) -> Iterator[Served]:
    """Migrate, seed the demo school, start `serve`; yield once /health answers.

    With `worker`, results and e-mail are processed as in production: on SQLite by the worker
    `serve` runs beside itself (as `make run`), on PostgreSQL by `adviestraject worker` in its
    own process (as the compose deployment). Without it, no worker runs at all."""
    directory.mkdir(parents=True, exist_ok=True)
    url = database_url or sqlite_file_url(directory / "served.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    served = Served(base, service_env(directory, url, base), directory)
    embedded = worker and url.startswith("sqlite")
    served.env["ADVIESTRAJECT_EMBEDDED_WORKER"] = "on" if embedded else "off"
    for step in ("migrate", "seed-demo") if seed else ("migrate",):
        served.cli(step)
    processes = _Processes()
    try:
        server = processes.start(served, "serve", "serve", "--port", str(port))
        if worker and not embedded:
            processes.start(served, "worker", "worker", "--interval", "0.2")
        deadline = time.monotonic() + 90  # a loaded 2-core machine (the suite runs on both)
        while not healthy(served.base_url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise ServiceError(f"the server did not come up:\n{served.log_text()}")
            time.sleep(0.1)
        yield served
    finally:
        processes.stop()
