"""Dropping and rebuilding read models from the log (`adviestraject rebuild [NAME]`).

The inline `trajectories` model is rebuilt in one transaction: its rows are deleted and every
stream folded again from the log in global order, so readers keep seeing the old rows until the
new ones commit. Catch-up models are reset and caught up again.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from service.gcpause import paused_gc
from service.projections import talks as talk_rows
from service.projections import trajectories as trajectory_rows
from service.projections.compliance import ComplianceProjection
from service.projections.report_facts import ReportFactsProjection
from service.projections.runner import CatchUpProjection, catch_up, reset
from service.store.personal import decode
from service.store.sql import read_facts
from workflows.trajectory import Folds

CATCH_UP: dict[str, CatchUpProjection] = {
    "compliance": ComplianceProjection(),
    "report_facts": ReportFactsProjection(),
}
NAMES = ("trajectories", "talks", *CATCH_UP)


def rebuild_trajectories(
    engine: Engine, *, page: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    folds, positions = Folds(), {}
    with paused_gc(), engine.begin() as conn:
        trajectory_rows.clear(conn)
        after = 0
        while batch := read_facts(conn, after, page):
            for fact in batch:
                if fact.stream_id.startswith("trajectory-"):
                    folds.add(fact.stream_id, decode(fact))
                    positions[fact.stream_id] = fact.position
            after = batch[-1].position
            if progress:
                progress(len(batch))
        rows = [trajectory_rows.row(sid, state, positions[sid]) for sid, state in folds.states()]
        trajectory_rows.insert_fresh(conn, rows)
    return len(rows)


def rebuild(engine: Engine, name: str, progress: Callable[[int], None] | None = None) -> int:
    if name == "trajectories":
        return rebuild_trajectories(engine, progress=progress)
    if name == "talks":  # inline, like trajectories: the talks' rows from their streams
        return talk_rows.rebuild(engine, progress=progress)
    projection = CATCH_UP[name]
    reset(engine, projection)
    return catch_up(engine, projection, progress=progress)
