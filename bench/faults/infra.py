"""What the fault probes start and break: a private PostgreSQL cluster, a small filesystem, the
service's own processes (`serve`, `worker`, the CLI). Everything is registered with a `Cleanup`
that ends it, even when a probe fails half-way; only loopback addresses are used.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from service.cli import app

CLI = str(Path(sys.executable).parent / "adviestraject")
LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT = 2.0  # seconds, given to the service's processes
STATEMENT_TIMEOUT = 4.0


class ProbeError(RuntimeError):
    """The probe itself could not do what it set out to (setup failed, a process did not start)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def port_answers(port: int, timeout: float = 1.0) -> bool:
    """Something accepts TCP connections on the port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


class Cleanup:
    """A stack of undo steps, run last-in first-out; each step runs even if another fails."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, name: str, step: Callable[[], object]) -> None:
        self._steps.append((name, step))

    def discard(self, step: Callable[[], object]) -> None:
        self._steps = [(n, s) for n, s in self._steps if s is not step]

    def run(self) -> None:
        while self._steps:
            name, step = self._steps.pop()
            try:
                step()
            except Exception as error:
                print(f"cleanup: {name}: {error}", file=sys.stderr)


def _kill_group(process: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


# --- a private PostgreSQL --------------------------------------------------------------------


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise ProbeError("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
    return Path(found[-1])


def _as_postgres(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary as the `postgres` user (initdb refuses root)."""
    command = " ".join(_quote(a) for a in args)
    return subprocess.run(
        ["su", "postgres", "-s", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _children(pid: int) -> list[int]:
    """Direct children of a process, from /proc (the postmaster's backends and helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces or parentheses, so split at the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class PrivatePostgres:
    """A throw-away cluster of our own (initdb into a temp dir, own port, trust on loopback),
    which the probes may crash, stop and freeze. Never the shared server on 5432."""

    def __init__(self, root: Path, cleanup: Cleanup) -> None:
        self.bin = _postgres_bin()
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@{LOOPBACK}:{self.port}/faults"
        root.mkdir(parents=True, exist_ok=True)
        shutil.chown(root, "postgres", "postgres")
        done = _as_postgres(
            [
                *(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"),
                *("-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"),
            ]
        )
        if done.returncode != 0:
            raise ProbeError(f"initdb failed: {done.stderr.strip()[-300:]}")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '{LOOPBACK}'\n"
                f"unix_socket_directories = '{root}'\nshared_buffers = 64MB\n"
                "max_connections = 150\nlog_min_messages = warning\n"
            )
        cleanup.push("private PostgreSQL", self.destroy)
        self.start()
        created = _as_postgres(
            [str(self.bin / "createdb"), "-h", LOOPBACK, "-p", str(self.port), "faults"]
        )
        if created.returncode != 0:
            raise ProbeError(f"createdb failed: {created.stderr.strip()}")

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return _as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args],
            timeout=timeout,
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def processes(self) -> list[int]:
        pid = self.postmaster_pid()
        if pid is None or not _alive(pid):
            return []
        return [pid, *_children(pid)]

    def start(self) -> float:
        """Start (after a crash: with recovery); seconds until it accepts connections."""
        started = time.monotonic()
        done = self._pg_ctl("-w", "-t", "60", "start")
        if done.returncode != 0:
            raise ProbeError(f"pg_ctl start failed: {done.stderr.strip()[-300:]}")
        return time.monotonic() - started

    def stop(self, mode: str = "fast") -> None:
        done = self._pg_ctl("-w", "-t", "60", "-m", mode, "stop")
        if done.returncode != 0:
            raise ProbeError(f"pg_ctl stop failed: {done.stderr.strip()[-300:]}")

    def restart(self, mode: str = "fast") -> float:
        started = time.monotonic()
        done = self._pg_ctl("-w", "-t", "60", "-m", mode, "restart")
        if done.returncode != 0:
            raise ProbeError(f"pg_ctl restart failed: {done.stderr.strip()[-300:]}")
        return time.monotonic() - started

    def crash(self) -> None:
        """kill -9 the postmaster; its orphaned backends notice and end (killed if they linger,
        so that the cluster can start again)."""
        pid = self.postmaster_pid()
        if pid is None:
            raise ProbeError("no postmaster to crash")
        backends = _children(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(b) for b in backends) and time.monotonic() < deadline:
            time.sleep(0.1)
        for backend in backends:
            with contextlib.suppress(ProcessLookupError):
                os.kill(backend, signal.SIGKILL)

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster and every backend; returns what to thaw."""
        frozen = self.processes()
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[int]) -> None:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        for pid in self.processes():  # a frozen cluster cannot stop
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        if self.postmaster_pid() is not None:
            done = self._pg_ctl("-w", "-t", "20", "-m", "immediate", "stop", timeout=30)
            if done.returncode != 0:
                for pid in self.processes():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


# --- a small filesystem ---------------------------------------------------------------------


class SmallDisk:
    """A tmpfs of a few MiB (needs root), unmounted at cleanup."""

    def __init__(self, mountpoint: Path, size_mb: int, cleanup: Cleanup) -> None:
        self.path = mountpoint
        mountpoint.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(mountpoint)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ProbeError(f"cannot mount a tmpfs (root needed): {done.stderr.strip()}")
        cleanup.push(f"unmount {mountpoint}", self.unmount)
        self.filler = mountpoint / "filler.bin"

    def fill(self) -> int:
        """Write until the filesystem is full; bytes written."""
        written = 0
        with self.filler.open("ab", buffering=0) as out:
            for chunk in (1 << 20, 1 << 16, 1 << 12, 512):
                block = b"\0" * chunk
                while True:
                    try:
                        written += out.write(block) or 0
                    except OSError:
                        break
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True, check=False)


# --- the service's processes ------------------------------------------------------------------


class Service:
    """The service against one database: CLI commands, `serve` and `worker` processes."""

    def __init__(self, database_url: str, workdir: Path, cleanup: Cleanup) -> None:
        self.url = database_url
        self.workdir = workdir
        self.cleanup = cleanup
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "ADVIESTRAJECT_DATABASE_URL": database_url,
            "ADVIESTRAJECT_MAIL_DIR": str(workdir / "mail"),
            "PYTHONUNBUFFERED": "1",
            # short database timeouts, so that "no hang beyond the configured timeouts" is
            # measurable within a probe (the defaults are 5 s and 30 s)
            "ADVIESTRAJECT_DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "ADVIESTRAJECT_DATABASE_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT),
        }
        self.port = free_port()
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.server_log = workdir / "serve.log"
        self.worker_log = workdir / "worker.log"
        self._engine: Engine | None = None
        self.in_process = False  # run CLI commands in this process (setup in the test suite)

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def cli(
        self, *args: str, stdin: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        if self.in_process:
            return self._cli_in_process(list(args), stdin)
        return subprocess.run(
            [CLI, *args],
            env=self.env,
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _cli_in_process(
        self, args: list[str], stdin: str | None
    ) -> subprocess.CompletedProcess[str]:
        """The same command in this process (no interpreter start-up): for the suite's setup."""
        ours = {k: v for k, v in self.env.items() if k.startswith("ADVIESTRAJECT_")}
        result = CliRunner().invoke(app, args, input=stdin, env=ours)
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)

    def must(self, *args: str, stdin: str | None = None) -> str:
        done = self.cli(*args, stdin=stdin)
        if done.returncode != 0:
            raise ProbeError(f"adviestraject {' '.join(args)}: {done.stderr.strip()[-400:]}")
        return done.stdout

    def popen(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [CLI, *args],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: serve's workers die with it
            )

    # serve

    def start_server(self, workers: int = 2, wait: float = 60) -> float:
        """`serve --workers N` on this service's port; seconds until it answers HTTP."""
        if self.server is not None:
            raise ProbeError("a server is running already")
        deadline = time.monotonic() + 15
        while port_answers(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)  # the old one's sockets are going
        started = time.monotonic()
        server = self.popen(
            ["serve", "--host", LOOPBACK, "--port", str(self.port), "--workers", str(workers)],
            self.server_log,
        )
        self.server = server
        self.cleanup.push("serve", self._server_cleanup)
        while True:
            if self._answers_http():
                return time.monotonic() - started
            if server.poll() is not None:
                self.server = None
                raise ProbeError(f"serve exited with {server.returncode}: {self.log_tail()}")
            if time.monotonic() - started > wait:
                raise ProbeError(f"serve did not answer within {wait:.0f} s")
            time.sleep(0.1)

    def _answers_http(self) -> bool:
        try:
            probe = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
            probe.request("GET", "/health")
            probe.getresponse().read()
            probe.close()
            return True
        except OSError:
            return False

    def _server_cleanup(self) -> None:
        if self.server is not None:
            _kill_group(self.server, signal.SIGTERM)
            _kill_group(self.server, signal.SIGKILL)
            self.server = None

    def kill_server(self, master_only: bool = False) -> None:
        """kill -9 the server: its whole process group, or only the master process."""
        if self.server is None:
            raise ProbeError("no server to kill")
        if master_only:
            self.server.send_signal(signal.SIGKILL)
            self.server.wait(timeout=10)
        else:
            _kill_group(self.server)
            self.server = None

    def kill_leftovers(self) -> None:
        """After killing only the master: end what is left of its process group."""
        if self.server is not None:
            _kill_group(self.server)
            self.server = None

    def stop_server(self) -> None:
        if self.server is not None:
            _kill_group(self.server, signal.SIGTERM)
            if self.server.poll() is None:
                _kill_group(self.server)
            self.server = None

    def log_tail(self, lines: int = 5) -> str:
        try:
            text_ = self.server_log.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text_.strip().splitlines()[-lines:])

    # worker

    def start_worker(self, interval: float = 0.2) -> subprocess.Popen[bytes]:
        if self.worker is not None and self.worker.poll() is None:
            raise ProbeError("a worker is running already")
        self.worker = self.popen(["worker", "--interval", str(interval)], self.worker_log)
        self.cleanup.push("worker", self._worker_cleanup)
        return self.worker

    def kill_worker(self) -> None:
        if self.worker is not None:
            _kill_group(self.worker)

    def _worker_cleanup(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            _kill_group(self.worker, signal.SIGTERM)
            if self.worker.poll() is None:
                _kill_group(self.worker)

    # the database, read directly for reconciliation

    def engine(self) -> Engine:
        if self._engine is None:
            url = self.url.replace("postgresql://", "postgresql+psycopg://", 1)
            args: dict[str, Any] = {"pool_pre_ping": True}
            if url.startswith("postgresql"):
                args["connect_args"] = {"connect_timeout": 5}
            self._engine = create_engine(url, **args)
            self.cleanup.push("reconciliation engine", self._engine.dispose)
        return self._engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine().connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine().connect() as conn:
            return list(conn.execute(text(sql), params))


_EXCEPTION_LINE = re.compile(r"^((?:[a-z_]\w*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception))(:.*)?$")


def exceptions_in(log: Path, since: int = 0) -> tuple[Counter[str], int]:
    """The exceptions a log's tracebacks ended with (type and the first words of the message),
    counted, from byte `since`; and the log's size now (to read on from)."""
    found: Counter[str] = Counter()
    try:
        with log.open("rb") as handle:
            handle.seek(since)
            data = handle.read().decode(errors="replace")
    except OSError:
        return found, since
    lines = data.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            for follow in lines[index + 1 :]:
                match = _EXCEPTION_LINE.match(follow)
                if match and not follow.startswith(" "):
                    found[f"{match.group(1)}{(match.group(2) or '')[:70]}"] += 1
                    break
    return found, since + len(data.encode())


def where_raised(log: Path, exception: str, since: int = 0) -> str:
    """The last three frames inside the service's own code of the first traceback that ended in
    `exception`: where in our code the failure surfaced."""
    try:
        with log.open("rb") as handle:
            handle.seek(since)
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    frames: list[str] = []
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            frames = []
        stripped = line.strip()
        if stripped.startswith('File "') and "/service/" in stripped:
            path = stripped.split('"')[1]
            number = stripped.split("line ", 1)[1].split(",", 1)[0]
            function = stripped.rsplit(" in ", 1)[-1]
            frames.append(f"{path.split('/service/', 1)[1]}:{number} {function}")
        if not line.startswith(" ") and line.startswith(exception.split(":", 1)[0]) and frames:
            return " -> ".join(f"service/{f}" for f in frames[-3:])
    return ""


@contextlib.contextmanager
def temporary_root(keep: bool) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="adviestraject-faults."))
    os.chmod(root, 0o755)  # noqa: S103 - the private cluster's `postgres` user must reach its dir
    try:
        yield root
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
