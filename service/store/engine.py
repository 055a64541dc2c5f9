"""Engines for the two supported databases, configured so that appends are serialised.

SQLite runs as a real embedded database: WAL journal, a busy timeout instead of instant
"database is locked" errors, foreign keys on, and every transaction opened with BEGIN IMMEDIATE so
that the write lock is taken up front (a reader upgrading to writer half-way is what deadlocks).
PostgreSQL goes through psycopg 3; appends are serialised there by an advisory lock (see
`service.store.sql`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from service.store.hashing import canonical, parse

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    # Every JSON value goes in and out through orjson, in the canonical form the hashes use.
    kwargs.setdefault("json_serializer", canonical)
    kwargs.setdefault("json_deserializer", parse)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, **kwargs)
    if url.get_backend_name() == "postgresql":
        # No pre-ping: it costs a round trip per checkout; SQLAlchemy still invalidates the pool
        # when a query meets a dropped connection, and the client's retry gets a fresh one.
        return create_engine(database_url, pool_size=10, max_overflow=20, **kwargs)
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")


@lru_cache(maxsize=32)
def single_statements(engine: Engine) -> Engine:
    """The engine for work that is one statement: autocommit on PostgreSQL.

    A plain `connect()` costs a BEGIN and a ROLLBACK round trip around the one statement that
    matters (psycopg opens a transaction on the first statement); per API request that was
    most of the time spent waiting on the server. A single statement is atomic on its own, so
    nothing is lost. SQLite keeps the engine as it is (no round trips there, and its
    transactions are opened by the `begin` hook below).
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def _sqlite_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        database_url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        # synchronous=FULL: a commit is on disk before the command is acknowledged.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver directly: SQLAlchemy's statement machinery cost as much as the BEGIN.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")

    return engine
