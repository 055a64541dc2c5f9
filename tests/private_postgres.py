"""A private PostgreSQL cluster that a test may stop, crash and start again.

Never the shared test server: `initdb` into a temporary directory (as the `postgres` user when the
tests run as root), listening on a free loopback port and a socket in that directory, fsync off
(a killed server loses nothing by it; only a machine that dies would).
`crash()` kills every process of the cluster with SIGKILL (the postmaster and its backends), so
the next start runs crash recovery. Skipped where no PostgreSQL binaries
are installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivatePostgres:
    def __init__(self, binaries: Path, directory: Path) -> None:
        self.binaries = binaries
        self.directory = directory
        self.data = directory / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        argv = [str(self.binaries / command[0]), *command[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.directory / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()} {tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            # fsync off only loses data when the machine dies, not when PostgreSQL is killed;
            # synchronous_commit stays on: a killed server must keep every acknowledged commit
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def crash(self) -> None:
        """SIGKILL to the postmaster and every backend, at once."""
        postmaster = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        pids = [postmaster, *self._children(postmaster)]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        # Where nothing reaps the dead postmaster, its zombie keeps the PID alive for kill(pid, 0)
        # and the next start would take the lock file for a running server's.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        (self.directory / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    @contextlib.contextmanager
    def frozen(self, *, backends: bool, thaw_after: float = 15.0) -> Iterator[None]:
        """SIGSTOP the postmaster (and with `backends` every backend, as a hung host would be):
        the port still accepts and nobody answers. Thawed at the end, or after `thaw_after`
        seconds at the latest, so a test that would hang fails instead."""
        postmaster = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        pids = [postmaster, *(self._children(postmaster) if backends else [])]

        def thaw() -> None:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        timer = threading.Timer(thaw_after, thaw)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            thaw()

    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        try:
            return _alive(int(pid_file.read_text().splitlines()[0]))
        except (OSError, ValueError, IndexError):
            return False

    @staticmethod
    def _children(parent: int) -> list[int]:
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                children.append(int(stat.split("/")[2]))
        return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private cluster, stopped and removed afterwards (for a pytest fixture)."""
    binaries = _binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
    directory = Path(tempfile.mkdtemp(prefix="adviestraject-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PrivatePostgres(binaries, directory)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            try:
                cluster.stop()
            except (RuntimeError, subprocess.SubprocessError):
                cluster.crash()
        shutil.rmtree(directory, ignore_errors=True)
