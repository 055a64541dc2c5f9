"""Staff availability per round of talks, stored as events on the school's own stream.

A teacher, IB or directie publishes their availability for a round (`workflows.availability`):
one `availability_published` event on `availability-<school_id>`, holding all of that person's
windows for the round, so the last publication replaces the earlier one and the history of who
published what, and when, stays in the log (who: the metadata; when: `recorded_at`). Publications
of different people go after each other on the one stream (a concurrent append is retried).
`of` gives the planner's view of a round: one `planning.Availability` per person and room (a
teacher may publish different rooms on different days; online rounds have no room).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.store.events import ConcurrencyError, NewEvent, StoredEvent
from service.store.port import Append, EventStore, UnitOfWork
from workflows import planning
from workflows.availability import (
    CODEC,
    AvailabilityPublished,
    PublishedWindow,
    latest,
)

Clock = Callable[[], datetime]
ATTEMPTS = 5


class HasStore(Protocol):
    @property
    def store(self) -> EventStore: ...


def stream(school_id: str) -> str:
    return f"availability-{school_id}"


@dataclass(frozen=True)
class Publication:
    """One stored publication with who recorded it and when."""

    event: AvailabilityPublished
    recorded_at: datetime
    recorded_by: str
    recorded_by_name: str


def _store(source: EventStore | HasStore) -> EventStore:
    found = getattr(source, "store", None)
    return found if found is not None else source  # type: ignore[return-value]


def _decode(stored: StoredEvent) -> Publication:
    event = CODEC.decode(stored.event_type, stored.schema_version, stored.data)
    if not isinstance(event, AvailabilityPublished):  # pragma: no cover - one type per codec
        raise TypeError(stored.event_type)
    return Publication(
        event,
        stored.recorded_at,
        str(stored.metadata.get("actor", "")),
        str(stored.metadata.get("actor_name", "")),
    )


def history(source: EventStore | HasStore, school_id: str) -> list[Publication]:
    """Every publication of the school, oldest first."""
    stored = _store(source).read_stream(stream(school_id))
    return [_decode(e) for e in stored if e.event_type == AvailabilityPublished.event_type]


def current(
    source: EventStore | HasStore, school_id: str, round_key: str | None = None
) -> dict[tuple[str, str], Publication]:
    """Per (person, round_key) what is in force: their last publication (only `round_key`'s
    when given). A withdrawn one (no windows) is left out."""
    found: dict[tuple[str, str], Publication] = {}
    for publication in history(source, school_id):
        event = publication.event
        if round_key is None or event.round_key == round_key:
            found[(event.person, event.round_key)] = publication
    return {key: p for key, p in found.items() if p.event.windows}


def of(
    source: EventStore | HasStore, school_id: str, round_key: str
) -> list[planning.Availability]:
    """The round's availability for the planner: per person, one entry per room."""
    events = latest(p.event for p in history(source, school_id))
    result = []
    for (person, key), event in sorted(events.items()):
        if key != round_key:
            continue
        by_room: dict[str | None, list[planning.Window]] = {}
        for window in event.windows:
            by_room.setdefault(window.room, []).append(planning.Window(window.start, window.end))
        for room, windows in by_room.items():
            result.append(planning.Availability(person, tuple(windows), room))
    return result


def publish(
    source: EventStore | HasStore,
    clock: Clock,
    school_id: str,
    person: str,
    round_key: str,
    windows: Sequence[PublishedWindow],
    *,
    actor: str,
    actor_name: str,
    role: str,
    request_id: str | None = None,
) -> bool:
    """Store `person`'s availability for `round_key` (replacing what they published before);
    False when it is what is in force already (nothing stored)."""
    store = _store(source)
    key = stream(school_id)
    event = AvailabilityPublished(
        person=person,
        round_key=round_key,
        windows=tuple(windows),
        room=windows[0].room if windows else None,
    )
    event_type, version, data = CODEC.encode(event)
    metadata: dict[str, Any] = {"actor": actor, "role": role, "actor_name": actor_name}
    if request_id is not None:
        metadata["request_id"] = request_id
    for attempt in range(ATTEMPTS):
        with store.session() as session:
            stored = session.load([key]).stream(key)
            before = latest(
                _decode(e).event for e in stored if e.event_type == AvailabilityPublished.event_type
            ).get((person, round_key))
            if before == event or (before is None and not windows):
                return False
            at = stored[-1].stream_version if stored else 0
            try:
                session.commit(
                    UnitOfWork(
                        clock(), [Append(key, at, [NewEvent(event_type, version, data, metadata)])]
                    )
                )
            except ConcurrencyError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            return True
    return False  # pragma: no cover - the loop returns or raises
