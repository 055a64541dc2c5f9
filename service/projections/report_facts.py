"""The reports' catch-up read model `report_facts`: per pupil's trajectory, what the reports
count and the `trajectories` row folds away (the exemption ground, the heroverweging's outcome,
reason, lateness and conversation, the advices registered with DUO), folded by
`service.reports.facts.apply`.

It follows the log behind the commands (the worker's intake round, `adviestraject rebuild
report_facts`); a report reads the rows with the checkpoint and folds the events after it, so it
never waits for the worker.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select

from service.projections.upsert import upsert
from service.reports.facts import EMPTY, FACT_EVENTS, FIELDS, PROJECTION, FactState, apply
from service.store.events import StoredEvent
from service.store.schema import report_facts

_WANTED = frozenset(FACT_EVENTS)
_STATE = FactState._fields


class ReportFactsProjection:
    name = PROJECTION

    def handle(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        mine = [
            e for e in events if e.event_type in _WANTED and e.stream_id.startswith("trajectory-")
        ]
        if not mine:
            return
        streams = sorted({e.stream_id for e in mine})
        states: dict[str, FactState] = {}
        for start in range(0, len(streams), 500):
            chunk = streams[start : start + 500]
            query = select(report_facts).where(report_facts.c.stream_id.in_(chunk))
            for row in conn.execute(query):
                states[row.stream_id] = FactState(**{c: getattr(row, c) for c in _STATE})
        positions: dict[str, int] = {}
        for event in mine:
            data = {k: event.data.get(k) for k in FIELDS}
            states[event.stream_id] = apply(
                states.get(event.stream_id, EMPTY), event.event_type, data
            )
            positions[event.stream_id] = event.position
        upsert(
            conn,
            report_facts,
            [{"stream_id": s, **states[s]._asdict(), "position": positions[s]} for s in streams],
            "stream_id",
        )

    def clear(self, conn: Connection) -> None:
        conn.execute(delete(report_facts))
