"""Catch-up projections: read models built after the fact, from a checkpoint, in pages.

Each page is handled and the checkpoint moved in one transaction, so a crash repeats at most the
page in flight and the handlers can stay simple; the checkpoint row is locked while a page is
handled, so two runners never build the same page twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, select, update

from service.projections.upsert import insert_missing
from service.store.events import StoredEvent
from service.store.schema import projection_checkpoints
from service.store.sql import read_page


class CatchUpProjection(Protocol):
    name: str

    def handle(self, conn: Connection, events: Sequence[StoredEvent]) -> None: ...

    def clear(self, conn: Connection) -> None: ...


def checkpoint(conn: Connection, name: str) -> int:
    insert_missing(
        conn,
        projection_checkpoints,
        {"name": name, "position": 0, "updated_at": datetime.now(UTC)},
        "name",
    )
    query = select(projection_checkpoints.c.position).where(projection_checkpoints.c.name == name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    position: int = conn.execute(query).scalar_one()
    return position


def catch_up(
    engine: Engine,
    projection: CatchUpProjection,
    *,
    page: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Handle every event after the checkpoint; the number handled."""
    handled = 0
    while True:
        with engine.begin() as conn:
            after = checkpoint(conn, projection.name)
            batch = read_page(conn, after, page)
            if not batch:
                return handled
            projection.handle(conn, batch)
            conn.execute(
                update(projection_checkpoints)
                .where(projection_checkpoints.c.name == projection.name)
                .values(position=batch[-1].position, updated_at=datetime.now(UTC))
            )
        handled += len(batch)
        if progress:
            progress(len(batch))


def reset(engine: Engine, projection: CatchUpProjection) -> None:
    with engine.begin() as conn:
        projection.clear(conn)
        conn.execute(
            delete(projection_checkpoints).where(projection_checkpoints.c.name == projection.name)
        )
