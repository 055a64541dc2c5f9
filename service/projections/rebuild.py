"""Dropping and rebuilding read models from the log (`adviestraject rebuild [NAME]`).

The inline `trajectories` model is rebuilt in one transaction: its rows are deleted and every
stream folded again from the log in global order, so readers keep seeing the old rows until the
new ones commit. Catch-up models are reset and caught up again.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from service.advice.trajectories import decode
from service.projections import trajectories as trajectory_rows
from service.projections.compliance import ComplianceProjection
from service.projections.runner import CatchUpProjection, catch_up, reset
from service.store.sql import read_page
from workflows.trajectory import Trajectory, evolve

CATCH_UP: dict[str, CatchUpProjection] = {"compliance": ComplianceProjection()}
NAMES = ("trajectories", *CATCH_UP)


def rebuild_trajectories(
    engine: Engine, *, page: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    states: dict[str, tuple[Trajectory, int]] = {}
    with engine.begin() as conn:
        trajectory_rows.clear(conn)
        after = 0
        while batch := read_page(conn, after, page):
            for stored in batch:
                if not stored.stream_id.startswith("trajectory-"):
                    continue
                state = states.get(stored.stream_id, (Trajectory(), 0))[0]
                states[stored.stream_id] = (evolve(state, decode(stored)), stored.position)
            after = batch[-1].position
            if progress:
                progress(len(batch))
        rows = [trajectory_rows.row(sid, state, pos) for sid, (state, pos) in states.items()]
        for chunk in range(0, len(rows), 1000):
            trajectory_rows.apply(conn, rows[chunk : chunk + 1000])
    return len(states)


def rebuild(engine: Engine, name: str, progress: Callable[[int], None] | None = None) -> int:
    if name == "trajectories":
        return rebuild_trajectories(engine, progress=progress)
    projection = CATCH_UP[name]
    reset(engine, projection)
    return catch_up(engine, projection, progress=progress)
