"""Engines for the two supported databases, configured so that appends are serialised.

SQLite runs as a real embedded database: WAL journal, a busy timeout instead of instant
"database is locked" errors, foreign keys on, and every transaction opened with BEGIN IMMEDIATE so
that the write lock is taken up front (a reader upgrading to writer half-way is what deadlocks).
PostgreSQL goes through psycopg 3; appends are serialised there by an advisory lock (see
`service.store.sql`).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError

from service.store.hashing import canonical, parse
from service.store.watchdog import Watchdog

SQLITE_BUSY_TIMEOUT_MS = 30_000
PING_AFTER_IDLE = 2.0  # seconds a pooled PostgreSQL connection rests before it is pinged
SUSPECT_AFTER = 2.0  # seconds in use before the watchdog asks whether the server still answers


def make_engine(
    database_url: str,
    *,
    connect_timeout: float = 5.0,
    statement_timeout: float = 0.0,
    **kwargs: Any,
) -> Engine:
    """An engine for `database_url`; on PostgreSQL a new connection gives up after
    `connect_timeout` seconds and a statement after `statement_timeout` (0: no limit)."""
    # Every JSON value goes in and out through orjson, in the canonical form the hashes use.
    kwargs.setdefault("json_serializer", canonical)
    kwargs.setdefault("json_deserializer", parse)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, **kwargs)
    if url.get_backend_name() == "postgresql":
        return _postgres_engine(url, connect_timeout, statement_timeout, **kwargs)
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


def _postgres_engine(
    url: URL, connect_timeout: float, statement_timeout: float, **kwargs: Any
) -> Engine:
    connect_args = dict(kwargs.pop("connect_args", {}))
    if "connect_timeout" not in url.query:  # one written in the URL wins
        # libpq counts whole seconds and reads anything below 2 as 2
        connect_args.setdefault("connect_timeout", max(2, math.ceil(connect_timeout)))
    if statement_timeout > 0:
        given = url.query.get("options")  # e.g. a search_path; connect_args would replace it
        limit = f"-c statement_timeout={int(statement_timeout * 1000)}"
        connect_args["options"] = f"{given} {limit}" if isinstance(given, str) else limit
    engine = create_engine(url, pool_size=10, max_overflow=20, connect_args=connect_args, **kwargs)
    # Before the ping's listener: a ping to a frozen server is watched like any other statement.
    # A connection in use longer than SUSPECT_AFTER seconds makes the watchdog ask the server.
    given = url.query.get("connect_timeout", connect_args.get("connect_timeout", 2))
    wait = max(2, math.ceil(float(given if isinstance(given, (int, float, str)) else 2)))
    Watchdog(engine, connect_args, suspect_after=SUSPECT_AFTER, probe_timeout=wait + 1.0)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it rested PING_AFTER_IDLE seconds or more.

    After a PostgreSQL restart every pooled connection is dead, and without a ping the first
    requests to take one fail. `pool_pre_ping` pings on every checkout, one round trip per
    request; under load a connection rests milliseconds between requests and a restart shows on
    the first query anyway (SQLAlchemy then invalidates the whole pool), so only rested
    connections are pinged. A failed ping makes the pool connect afresh.
    """

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"pooled connection is dead: {error}") from error


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
