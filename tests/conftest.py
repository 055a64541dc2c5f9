"""Fixtures shared by the suite: a migrated database on SQLite and on a real PostgreSQL server.

PostgreSQL-backed tests use ADVIESTRAJECT_TEST_POSTGRES_URL. Without it they are skipped with the
reason shown in the summary, except under CI=true, where a missing PostgreSQL fails the test: CI
can never silently stop testing the production database. Each test gets its own schema (PostgreSQL)
or file (SQLite), created by the real Alembic migrations and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container, bootstrap
from service.settings import Settings
from service.store.engine import make_engine
from service.store.migrate import upgrade
from workflows.commands import EnrolPupil

POSTGRES_ENV = "ADVIESTRAJECT_TEST_POSTGRES_URL"


def postgres_server_url() -> str:
    """The test server's URL, or skip (fail under CI) when none is configured."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test PostgreSQL: {reason}")
        pytest.skip(reason)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections work in a fresh, empty schema of the test database."""
    server = postgres_server_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{quote(str(path))}"


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def empty_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return sqlite_url(tmp_path / "test.db")
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@contextmanager
def migrated_engine(url: str) -> Iterator[Engine]:
    eng = make_engine(url)
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (not yet migrated), once on SQLite and once on PostgreSQL."""
    return empty_database(request.param, request, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A database migrated to head by the real Alembic migrations."""
    with migrated_engine(database_url) as eng:
        yield eng


@pytest.fixture
def postgres_engine(postgres_schema_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database, for what only PostgreSQL has."""
    with migrated_engine(postgres_schema_url) as eng:
        yield eng


class Clock:
    """A clock the test moves by hand (the service takes its time from here)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 20, 10, 0, tzinfo=UTC))


@pytest.fixture
def container(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        database_url=database_url,
        mail_dir=tmp_path / "mail",
        key_file=tmp_path / "keys.kek",
        anchor_dir=tmp_path / "anchors",
        worker_status_dir=tmp_path / "worker",
    )
    c = bootstrap(settings, clock=clock)
    upgrade(c.engine)
    yield c
    c.close()


def enrolled_pupil(container: Container, groep: int = 8) -> uuid.UUID:
    pupil_id = uuid.uuid4()
    enrol = EnrolPupil(
        school_id="school-1", school_year="2025-2026", groep=groep, enrolled_on=date(2025, 8, 25)
    )
    container.trajectories.execute(pupil_id, enrol, CommandContext(actor=Actor("t", "beheer")))
    return pupil_id
