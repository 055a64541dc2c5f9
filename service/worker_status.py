"""What the worker's loops report, for `/health` and `adviestraject worker status`.

The worker runs in other processes than the API (another container, even), so each worker
process writes its loops' last success and last error to a small JSON file of its own in
`settings.worker_status_dir` (written whole and renamed into place: a reader never sees half a
file), and removes it when it stops. A file not refreshed for `STALE_AFTER` seconds belongs to a
worker that died or hangs. The backlog is counted from the tables themselves, so it is right
whichever worker (or none) is running.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from service.store.schema import events, outbox, projection_checkpoints, result_deliveries

STALE_AFTER = 120.0  # seconds without a refresh before a worker's file is called stale
WRITE_EVERY = 5.0  # seconds between refreshes while nothing changes


@dataclass
class LoopStatus:
    last_success_at: str | None = None
    last_error_at: str | None = None
    last_error: str | None = None
    failures_in_a_row: int = 0


@dataclass
class WorkerReport:
    worker: str
    started_at: str
    updated_at: str
    stale: bool
    loops: dict[str, LoopStatus] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StatusBoard:
    """This worker process's loops, written to its status file; safe to call from each loop."""

    def __init__(self, directory: Path) -> None:
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._path = directory / f"{socket.gethostname()}-{os.getpid()}.json"
        self._started_at = _now()
        self._loops: dict[str, LoopStatus] = {}
        self._lock = threading.Lock()
        self._written_at = 0.0
        directory.mkdir(parents=True, exist_ok=True)
        self._write()

    def loops(self) -> dict[str, LoopStatus]:
        with self._lock:
            return {name: LoopStatus(**asdict(s)) for name, s in self._loops.items()}

    def succeeded(self, name: str) -> None:
        with self._lock:
            status = self._loops.setdefault(name, LoopStatus())
            recovered = status.failures_in_a_row > 0
            status.last_success_at = _now()
            status.failures_in_a_row = 0
            if recovered or time.monotonic() - self._written_at >= WRITE_EVERY:
                self._write()

    def failed(self, name: str, error: BaseException) -> None:
        """A round of loop `name` failed as a whole."""
        with self._lock:
            status = self._loops.setdefault(name, LoopStatus())
            status.last_error_at = _now()
            status.last_error = f"{type(error).__name__}: {error}".strip()[:500]
            status.failures_in_a_row += 1
            self._write()

    def item_failed(self, name: str, item: str, error: BaseException) -> None:
        """One item of loop `name` failed on its own; the loop itself went on."""
        with self._lock:
            status = self._loops.setdefault(name, LoopStatus())
            status.last_error_at = _now()
            status.last_error = f"{item}: {type(error).__name__}: {error}".strip()[:500]
            self._write()

    def close(self) -> None:
        with self._lock:
            self._path.unlink(missing_ok=True)

    def _write(self) -> None:
        report = {
            "worker": self.worker,
            "started_at": self._started_at,
            "updated_at": _now(),
            "loops": {name: asdict(status) for name, status in self._loops.items()},
        }
        temporary = self._path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(report, indent=1), encoding="utf-8")
            temporary.replace(self._path)
        except OSError:
            return  # a full disk must not stop the worker; the file is only a report
        self._written_at = time.monotonic()


def read_reports(directory: Path) -> list[WorkerReport]:
    """Every worker's last report in `directory`, oldest start first."""
    reports = []
    stale_before = datetime.now(UTC) - timedelta(seconds=STALE_AFTER)
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            loops = {name: LoopStatus(**value) for name, value in raw["loops"].items()}
            updated = datetime.fromisoformat(raw["updated_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # removed while we read it, or not one of ours
        reports.append(
            WorkerReport(
                worker=raw["worker"],
                started_at=raw["started_at"],
                updated_at=raw["updated_at"],
                stale=updated < stale_before,
                loops=loops,
            )
        )
    return sorted(reports, key=lambda r: r.started_at)


@dataclass(frozen=True)
class Backlog:
    deliveries_pending: int
    events_behind: int  # positions the catch-up read models are behind the log (an upper bound)
    outbox_pending: int
    outbox_failed: int

    def of_loop(self, name: str) -> int | None:
        if name == "intake":
            return self.deliveries_pending + self.events_behind
        if name == "outbox":
            return self.outbox_pending
        return None


def backlog(engine: Engine) -> Backlog:
    """What waits for the worker, counted in one round trip."""
    head = select(func.coalesce(func.max(events.c.position), 0)).scalar_subquery()
    slowest = (
        select(func.coalesce(func.min(projection_checkpoints.c.position), 0))
    ).scalar_subquery()
    query = select(
        select(func.count())
        .select_from(result_deliveries)
        .where(result_deliveries.c.state == "pending")
        .scalar_subquery(),
        head - slowest,
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.done_at.is_(None), outbox.c.failed_at.is_(None))
        .scalar_subquery(),
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.done_at.is_(None), outbox.c.failed_at.is_not(None))  # the index's order
        .scalar_subquery(),
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    return Backlog(int(row[0]), max(0, int(row[1])), int(row[2]), int(row[3]))
