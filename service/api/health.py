"""Liveness with the database, and what the worker's loops last did.

200 when a query and the schema revision can be read and nothing says writes fail; 503 with
Retry-After when the database is unreachable or cannot store anything (a write failed on a full
or broken disk in the last `WRITE_FAILURE_MEMORY` seconds, or an SQLite file's disk has less than
`SQLITE_MIN_FREE` bytes left). The body also shows the backlog (counted from the tables) and each
worker process's loops: last success, last error, failures in a row (from the status files the
workers write, see `service.worker_status`); a worker's trouble does not make the API unhealthy.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import ContainerDep
from service.api.problems import PROBLEM_JSON, problem, storage_failed_within
from service.dbfaults import outage
from service.store.migrate import current_revision
from service.worker_status import Backlog, backlog, read_reports

router = APIRouter(tags=["health"])
log = logging.getLogger("adviestraject.health")

WRITE_FAILURE_MEMORY = 30.0  # seconds a failed write on a full disk keeps /health at 503
SQLITE_MIN_FREE = 1024 * 1024  # bytes


class LoopHealth(BaseModel):
    last_success_at: str | None
    last_error_at: str | None
    last_error: str | None
    failures_in_a_row: int
    backlog: int | None


class WorkerHealth(BaseModel):
    worker: str
    started_at: str
    updated_at: str
    stale: bool
    loops: dict[str, LoopHealth]


class BacklogHealth(BaseModel):
    deliveries_pending: int
    events_behind: int
    outbox_pending: int
    outbox_failed: int


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    backlog: BacklogHealth | None
    workers: list[WorkerHealth]


@router.get(
    "/health",
    response_model=Health,
    responses={
        503: {
            "description": "The database is unreachable or cannot store anything",
            "content": {PROBLEM_JSON: {}},
        }
    },
)
def health(request: Request, container: ContainerDep) -> Health | JSONResponse:
    engine = container.engine
    try:
        revision = current_revision(engine)
        waiting = backlog(engine) if revision is not None else None
    except SQLAlchemyError as error:
        down = outage(error)
        log.warning("health check: database unreachable: %s", down.reason if down else error)
        response = problem(request, 503, "database_unavailable", "De database is niet bereikbaar")
        response.headers["Retry-After"] = "5"
        return response
    full = _sqlite_disk_full(engine)
    if full or storage_failed_within(request, WRITE_FAILURE_MEMORY):
        response = problem(
            request,
            503,
            "database_not_writable",
            "De database kan nu niets opslaan",
            full or "een schrijfactie mislukte net op een volle of defecte schijf",
        )
        response.headers["Retry-After"] = "60"
        return response
    return Health(
        status="ok",
        database=engine.dialect.name,
        schema_revision=revision,
        backlog=BacklogHealth(**vars(waiting)) if waiting else None,
        workers=_workers(container.settings.worker_status_dir, waiting),
    )


def _workers(directory: Path, waiting: Backlog | None) -> list[WorkerHealth]:
    return [
        WorkerHealth(
            worker=report.worker,
            started_at=report.started_at,
            updated_at=report.updated_at,
            stale=report.stale,
            loops={
                name: LoopHealth(**vars(loop), backlog=waiting.of_loop(name) if waiting else None)
                for name, loop in report.loops.items()
            },
        )
        for report in read_reports(directory)
    ]


def _sqlite_disk_full(engine: Engine) -> str | None:
    """Why an SQLite file cannot grow (its disk is all but full), or None; one statvfs call."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    try:
        disk = os.statvfs(Path(engine.url.database).resolve().parent)
    except OSError:
        return None
    free = disk.f_bavail * disk.f_frsize
    if free < SQLITE_MIN_FREE:
        return f"de schijf van de database heeft nog {free // 1024} KiB vrij"
    return None
