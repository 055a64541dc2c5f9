"""Insert-or-update one read-model row, on SQLite and PostgreSQL alike (never on events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = make(table)
    columns = {c: statement.excluded[c] for c in rows[0] if c != key}
    conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=columns), rows)


def insert_missing(conn: Connection, table: Table, row: dict[str, Any], key: str) -> None:
    """Insert the row unless one with the same key exists (read models only, never events)."""
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(make(table).values(**row).on_conflict_do_nothing(index_elements=[key]))
