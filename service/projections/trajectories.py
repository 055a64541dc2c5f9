"""The `trajectories` read model: one row per pupil, written in the same transaction as its events.

Read-your-writes: a teacher who records an advice sees it in every list at once. The row is the
folded `Trajectory`, flattened; `position` is the last event folded in, so a rebuild can be
compared row for row with the live table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete

from service.store.driver import Driver, Table
from service.store.schema import trajectories
from service.store.sql import driver_of
from workflows.trajectory import Trajectory

# The read model's one definition: the upsert, the rebuild's COPY and the PostgreSQL append
# function's column list (tests/integration/test_read_model_definition.py) all follow it.
TRAJECTORIES = Table(
    "trajectories",
    (
        "stream_id",
        "school_id",
        "school_year",
        "groep",
        "status",
        "conversation",
        "provisional_advice",
        "provisional_given_on",
        "provisional_timeliness",
        "test_advice",
        "final_advice",
        "final_basis",
        "final_given_on",
        "reconsideration_deadline",
        "late",
        "version",
        "position",
    ),
    key="stream_id",
    json_columns=frozenset({"late"}),
)


def row(stream_id: str, state: Trajectory, position: int) -> dict[str, Any]:
    provisional, final = state.provisional_advice, state.final_advice
    return {
        "stream_id": stream_id,
        "school_id": state.school_id,
        "school_year": str(state.school_year) if state.school_year else None,
        "groep": state.groep,
        "status": state.status.value,
        "conversation": state.conversation.value,
        "provisional_advice": provisional.advice.value if provisional else None,
        "provisional_given_on": provisional.given_on if provisional else None,
        "provisional_timeliness": provisional.timeliness.value if provisional else None,
        "test_advice": state.test_advice.value if state.test_advice else None,
        "final_advice": final.advice.value if final else None,
        "final_basis": final.basis.value if final and final.basis else None,
        "final_given_on": final.given_on if final else None,
        "reconsideration_deadline": state.reconsideration_deadline,
        "late": list(state.late),
        "version": state.version,
        "position": position,
    }


def apply(driver: Driver, rows: list[dict[str, Any]]) -> None:
    if rows:
        TRAJECTORIES.upsert(driver, rows)


def insert_fresh(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows into the emptied table (a rebuild): COPY on PostgreSQL."""
    if rows:
        TRAJECTORIES.insert(driver_of(conn), rows)


def clear(conn: Connection) -> None:
    conn.execute(delete(trajectories))
