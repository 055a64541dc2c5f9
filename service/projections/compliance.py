"""Directie's compliance view: every action recorded after its legal deadline, per school.

A catch-up projection: it follows the log behind the commands, so a slow report never slows a
teacher down. It keeps its own map from stream to school (from `pupil_enrolled`) and one row per
late event, keyed by the event's position.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select

from service.projections.upsert import insert_missing, upsert
from service.store.events import StoredEvent
from service.store.schema import compliance_streams, late_actions


class ComplianceProjection:
    name = "compliance"

    def handle(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        schools: dict[str, tuple[str, str]] = {}
        for event in events:
            if event.event_type == "pupil_enrolled":
                schools[event.stream_id] = (event.data["school_id"], event.data["school_year"])
                upsert(
                    conn,
                    compliance_streams,
                    [
                        {
                            "stream_id": event.stream_id,
                            "school_id": event.data["school_id"],
                            "school_year": event.data["school_year"],
                        }
                    ],
                    "stream_id",
                )
            elif event.event_type == "pupil_entered_groep_8":
                school = self._school(conn, schools, event.stream_id)
                schools[event.stream_id] = (school[0], event.data["school_year"])
                upsert(
                    conn,
                    compliance_streams,
                    [
                        {
                            "stream_id": event.stream_id,
                            "school_id": school[0],
                            "school_year": event.data["school_year"],
                        }
                    ],
                    "stream_id",
                )
            if event.data.get("timeliness") == "late":
                school_id, school_year = self._school(conn, schools, event.stream_id)
                insert_missing(
                    conn,
                    late_actions,
                    {
                        "position": event.position,
                        "stream_id": event.stream_id,
                        "school_id": school_id,
                        "school_year": school_year,
                        "event_type": event.event_type,
                        "recorded_at": event.recorded_at,
                    },
                    "position",
                )

    @staticmethod
    def _school(
        conn: Connection, cache: dict[str, tuple[str, str]], stream_id: str
    ) -> tuple[str, str]:
        found = cache.get(stream_id)
        if found is None:
            row = conn.execute(
                select(compliance_streams.c.school_id, compliance_streams.c.school_year).where(
                    compliance_streams.c.stream_id == stream_id
                )
            ).one()
            found = cache[stream_id] = (row.school_id, row.school_year)
        return found

    def clear(self, conn: Connection) -> None:
        conn.execute(delete(late_actions))
        conn.execute(delete(compliance_streams))
