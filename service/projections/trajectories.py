"""The `trajectories` read model: one row per pupil, written in the same transaction as its events.

Read-your-writes: a teacher who records an advice sees it in every list at once. The row is the
folded `Trajectory`, flattened; `position` is the last event folded in, so a rebuild can be
compared row for row with the live table.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, delete

from service.store.schema import trajectories
from service.store.sqlio import SqlIO, io_of
from workflows.trajectory import Trajectory


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


def apply(target: Connection | SqlIO, rows: list[dict[str, Any]]) -> None:
    if rows:
        io_of(target).upsert_trajectories(rows)


def insert_fresh(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows into the emptied table (a rebuild)."""
    if rows:
        SqlIO(conn).insert_trajectories(rows)


def clear(conn: Connection) -> None:
    conn.execute(delete(trajectories))


def json_row(stream_id: str, state: Trajectory) -> dict[str, Any]:
    """The row as JSON for `adviestraject_append` (which fills in `position` itself)."""
    values = row(stream_id, state, 0)
    del values["position"]
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
