"""Appending raw events through the store's port, as production does (a session and a commit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from service.store.events import NewEvent, StoredEvent
from service.store.port import Append, EventStore, UnitOfWork


def append(
    store: EventStore,
    stream_id: str,
    expected_version: int | None,
    events: Sequence[NewEvent],
    *,
    recorded_at: datetime,
) -> list[StoredEvent]:
    """Events for one stream after `expected_version` (None: after whatever it holds now)."""
    with store.session() as session:
        if expected_version is None:
            expected_version = session.load([stream_id]).version(stream_id)
        return session.commit(
            UnitOfWork(recorded_at, [Append(stream_id, expected_version, events)])
        )
