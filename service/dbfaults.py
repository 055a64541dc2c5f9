"""Which database errors mean "the database is not available now", as opposed to a bug.

The API answers those with 503 and Retry-After, the worker backs off and tries again without
counting them against the item it was handling, and the CLI prints one line. Recognised by what
the drivers put on their exceptions (psycopg's SQLSTATE, sqlite3's error name) and SQLAlchemy's
wrappers, so no driver is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

UNAVAILABLE = "database_unavailable"
NOT_WRITABLE = "database_not_writable"

# SQLSTATE classes and codes (PostgreSQL appendix A) that a retry later can cure.
_PG_CLASSES = ("08", "53", "58")  # connection exception, insufficient resources, system error
_PG_CODES = {"57014", "57P01", "57P02", "57P03", "57P05", "55P03"}  # canceled, shut down, ...
_PG_NOT_WRITABLE = {"53100", "58030"}  # disk_full, io_error
_SQLITE_NOT_WRITABLE = {"SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN"}
_SQLITE_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}


@dataclass(frozen=True)
class Outage:
    code: str  # UNAVAILABLE or NOT_WRITABLE
    reason: str  # the driver's first line, for logs and the problem's detail

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait: a restart takes seconds, a full disk needs a person."""
        return 60 if self.code == NOT_WRITABLE else 5


def outage(error: BaseException) -> Outage | None:
    """The outage `error` shows, or None when it is not an availability problem."""
    if isinstance(error, PoolTimeoutError):
        return Outage(UNAVAILABLE, "no database connection free in time")
    driver: BaseException = error
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return Outage(UNAVAILABLE, _first_line(error.orig or error))
        driver = error.orig or error
    elif isinstance(error, SQLAlchemyError):
        return None
    reason = _first_line(driver)
    sqlstate = getattr(driver, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate in _PG_NOT_WRITABLE:
            return Outage(NOT_WRITABLE, reason)
        if sqlstate[:2] in _PG_CLASSES or sqlstate in _PG_CODES:
            return Outage(UNAVAILABLE, reason)
        return None
    name = getattr(driver, "sqlite_errorname", None)
    if isinstance(name, str):
        base = name.split("_")[0] + "_" + name.split("_")[1] if name.count("_") > 1 else name
        if base in _SQLITE_NOT_WRITABLE:
            return Outage(NOT_WRITABLE, reason)
        if base in _SQLITE_BUSY:
            return Outage(UNAVAILABLE, reason)
        return None
    # a driver error without a code: psycopg's connection failures (refused, closed, timeout)
    kinds = {k.__name__ for k in type(driver).__mro__}
    if type(driver).__module__.split(".")[0] == "psycopg" and kinds & {
        "OperationalError",
        "InterfaceError",
    }:
        return Outage(UNAVAILABLE, reason)
    return None


def is_driver_error(error: BaseException) -> bool:
    """A DB-API error that escaped SQLAlchemy's wrapping (raised in an engine hook, say)."""
    return any(
        k.__name__ == "Error" and k.__module__.split(".")[0] in ("sqlite3", "psycopg")
        for k in type(error).__mro__
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
