"""An event store in memory, keeping the same contract as the SQL one (for fast tests and tools)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from datetime import datetime

from service.store.events import ConcurrencyError, NewEvent, StoredEvent
from service.store.hashing import GENESIS_HASH, chain


class InMemoryEventStore:
    def __init__(self) -> None:
        self._log: list[StoredEvent] = []
        self._streams: dict[str, list[StoredEvent]] = {}
        self._lock = threading.Lock()

    def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        *,
        recorded_at: datetime,
    ) -> list[StoredEvent]:
        with self._lock:
            stream = self._streams.get(stream_id, [])
            current = len(stream)
            if expected_version is not None and expected_version != current:
                raise ConcurrencyError(stream_id, expected_version, current)
            previous = self._log[-1].hash if self._log else GENESIS_HASH
            copies = [
                NewEvent(
                    e.event_type, e.schema_version, copy.deepcopy(e.data), copy.deepcopy(e.metadata)
                )
                for e in events
            ]
            stored = chain(previous, len(self._log), stream_id, current, copies, recorded_at)
            self._log.extend(stored)
            self._streams[stream_id] = [*stream, *stored]
            return list(stored)

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        with self._lock:
            return list(self._streams.get(stream_id, []))

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return len(self._streams.get(stream_id, []))

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._lock:
            # Positions are 1, 2, 3, ... here, so the log's index is the position minus one.
            start = max(after, 0)
            return self._log[start : start + limit]
