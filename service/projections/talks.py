"""The `talks` read model: one row per talk, written in the same unit of work as its events
(the talks themselves: `service.scheduling`).

The row is the folded `Talk`, flattened (times in UTC, staff as a JSON list); `talk_staff` holds
one row per person of the school attending a planned talk, so a person's week is an indexed
read. `position` is the last event folded in, so a rebuild (`rebuild`, `adviestraject rebuild
talks`) can be compared row for row with the live table. Everything here runs on the store's
`Driver` inside the use case's transaction, or on a rebuild's connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete

from service.store.driver import Driver
from service.store.events import StoredEvent
from service.store.personal import ERASED
from service.store.schema import talk_staff, talks
from service.store.sql import driver_of, read_facts
from workflows.codec import Event
from workflows.conversations import TALK_CODEC, Talk, TalkStatus, evolve

STREAM_PREFIX = "conversation-"
COLUMNS = (
    "talk_id",
    "school_id",
    "school_year",
    "pupil_id",
    "kind",
    "round_key",
    "status",
    "starts_at",
    "ends_at",
    "room",
    "staff",
    "requested_staff",
    "family",
    "parents",
    "minutes",
    "with_pupil",
    "online",
    "deadline",
    "latest_end",
    "requested_on",
    "proposed_on",
    "answered_on",
    "sequence",
    "reminded",
    "at_risk_reason",
    "escalations",
    "version",
    "position",
)
_TIMES = frozenset(
    {"starts_at", "ends_at", "deadline", "latest_end", "requested_on", "proposed_on", "answered_on"}
)
_JSON = frozenset({"staff", "requested_staff", "parents", "escalations"})
_SHOWS_TIME = frozenset({TalkStatus.PROPOSED, TalkStatus.ACCEPTED, TalkStatus.OTHER_TIME_ASKED})


def talk_id_of(stream_id: str) -> str:
    return stream_id.removeprefix(STREAM_PREFIX)


def row(talk_id: str, talk: Talk, position: int) -> dict[str, Any]:
    request = talk.requested
    kept = talk.status in _SHOWS_TIME or talk.status is TalkStatus.HELD
    return {
        "talk_id": talk_id,
        "school_id": request.school_id,
        "school_year": request.school_year,
        "pupil_id": request.pupil_id,
        "kind": request.kind.value,
        "round_key": request.round_key,
        "status": talk.status.value,
        "starts_at": talk.start if kept else None,
        "ends_at": talk.end if kept else None,
        "room": talk.room if kept else None,
        "staff": list(talk.staff) if kept else [],
        "requested_staff": {
            "all": list(request.staff),
            "any": [list(g) for g in request.staff_any],
        },
        "family": request.family,
        "parents": list(request.parents),
        "minutes": request.minutes,
        "with_pupil": request.with_pupil,
        "online": request.online,
        "deadline": request.deadline,
        "latest_end": request.latest_end,
        "requested_on": request.requested_on,
        "proposed_on": talk.proposed_on,
        "answered_on": talk.answered_on,
        "sequence": talk.sequence,
        "reminded": talk.sequence in talk.reminded,
        "at_risk_reason": talk.risk,
        "escalations": sorted(talk.escalations),
        "version": talk.version,
        "position": position,
    }


_UPSERT = (
    f"INSERT INTO talks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "  # noqa: S608 - constant names
    "ON CONFLICT (talk_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "talk_id")
)


def _value(driver: Driver, column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _TIMES:
        return driver.time_in(value)
    if column in _JSON:
        return driver.json_in(value)
    return value


def write(driver: Driver, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or update the rows and their `talk_staff` rows (on the use case's transaction)."""
    if not rows:
        return
    driver.run_many(
        _UPSERT,
        [tuple(_value(driver, c, r[c]) for c in COLUMNS) for r in rows],
    )
    driver.run_many("DELETE FROM talk_staff WHERE talk_id = ?", [(r["talk_id"],) for r in rows])
    driver.run_many(
        "INSERT INTO talk_staff (talk_id, user_id, school_id, starts_at, ends_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (
                r["talk_id"],
                person,
                r["school_id"],
                driver.time_in(r["starts_at"]),
                driver.time_in(r["ends_at"]),
            )
            for r in rows
            if r["starts_at"] is not None
            for person in dict.fromkeys(r["staff"])
        ],
    )


def joined(states: dict[str, Talk]) -> Callable[[Driver, list[StoredEvent]], None]:
    """A unit of work's writer of the rows of these talks (by talk id), after their events:
    each row's position is the last stored event of its stream."""

    def write_rows(driver: Driver, stored: list[StoredEvent]) -> None:
        last = {e.stream_id: e.position for e in stored}
        rows = [
            row(talk_id, talk, last[STREAM_PREFIX + talk_id])
            for talk_id, talk in states.items()
            if STREAM_PREFIX + talk_id in last
        ]
        write(driver, rows)

    return write_rows


def _decode(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """A talk event with its sealed free text left closed (the rows never show it)."""
    closed = {k: ERASED if isinstance(v, dict) and "sealed" in v else v for k, v in data.items()}
    return TALK_CODEC.decode(event_type, schema_version, closed)


def clear(conn: Connection) -> None:
    conn.execute(delete(talk_staff))
    conn.execute(delete(talks))


def rebuild(
    engine: Engine, *, page: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Drop the rows and fold every talk stream again from the log, in one transaction (readers
    see the old rows until it commits); the number of talks."""
    states: dict[str, Talk] = {}
    positions: dict[str, int] = {}
    with engine.begin() as conn:
        clear(conn)
        after = 0
        while batch := read_facts(conn, after, page):
            for fact in batch:
                if fact.stream_id.startswith(STREAM_PREFIX):
                    event = _decode(fact.event_type, fact.schema_version, fact.data)
                    talk_id = talk_id_of(fact.stream_id)
                    states[talk_id] = evolve(states.get(talk_id, Talk()), event)
                    positions[talk_id] = fact.position
            after = batch[-1].position
            if progress:
                progress(len(batch))
        write(driver_of(conn), [row(t, s, positions[t]) for t, s in states.items()])
    return len(states)


_STAFF_BOOKED = (
    "SELECT t.talk_id, t.starts_at, t.ends_at, t.staff, t.family, t.room FROM talks t "
    "JOIN talk_staff s ON s.talk_id = t.talk_id"
)
_STAFF_BLOCKS = "t.status IN ('proposed', 'accepted') AND t.ends_at > ?"


def booked_on(
    driver: Driver, school_id: str, staff: Sequence[str], after: datetime
) -> list[dict[str, Any]]:
    """Talks with a time that blocks people, rooms and families, ending after `after`: the
    school's proposed and accepted talks and those of `staff` at other schools; read in the
    deciding session's transaction (under the log's lock), so two plans never pass each other."""
    found = driver.all(
        "SELECT talk_id, starts_at, ends_at, staff, family, room FROM talks "
        "WHERE school_id = ? AND status IN ('proposed', 'accepted') AND ends_at > ?",
        (school_id, driver.time_in(after)),
    )
    if staff:
        condition, values = driver.any_of("s.user_id", list(staff))
        statement = f"{_STAFF_BOOKED} WHERE {condition} AND {_STAFF_BLOCKS}"
        found += driver.all(statement, (values, driver.time_in(after)))
    rows: dict[str, dict[str, Any]] = {}
    for talk_id, start, end, people, family, room in found:
        rows[talk_id] = {
            "talk_id": talk_id,
            "start": driver.time_out(start),
            "end": driver.time_out(end),
            "staff": tuple(driver.json_out(people)),
            "family": family,
            "room": room,
        }
    return list(rows.values())
