"""The store in memory, keeping the same port and contract as the SQL adapters.

For fast tests of command handlers and for tools: one lock serialises sessions (every session is
exclusive, as on SQLite), and a commit applies to copies that become the store's state only when
the whole unit went through, so nothing of a failed commit is visible. Read-model rows, outbox
messages and remembered answers are kept in plain dicts and lists that tests can inspect; a
unit's own SQL writes (`joined`) need a database and are refused here.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.store.driver import Driver
from service.store.events import Fact, NewEvent, StoredEvent
from service.store.hashing import GENESIS_HASH, chain
from service.store.port import (
    KeyTakenError,
    Loaded,
    UnitOfWork,
    answer,
    check_versions,
    outbox_rows,
)


@dataclass
class _State:
    log: list[StoredEvent] = field(default_factory=list)
    streams: dict[str, list[StoredEvent]] = field(default_factory=dict)
    remembered: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)
    read_models: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)


class MemorySession:
    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store

    @property
    def driver(self) -> Driver | None:
        return None

    def load(
        self,
        stream_ids: Sequence[str],
        idempotency_keys: Sequence[str] = (),
        pupil_ids: Sequence[str] = (),
    ) -> Loaded:
        state = self._store.state
        return Loaded(
            {s: list(state.streams[s]) for s in stream_ids if s in state.streams},
            {k: state.remembered[k] for k in idempotency_keys if k in state.remembered},
            {p: state.keys[p] for p in pupil_ids if p in state.keys},
        )

    def pupil_key(self, pupil_id: str) -> bytes:
        return self._store.state.keys.setdefault(pupil_id, AESGCM.generate_key(bit_length=256))

    def commit(self, unit: UnitOfWork) -> list[StoredEvent]:
        if unit.joined:
            raise NotImplementedError("a unit with its own SQL rows needs a SQL store")
        old = self._store.state
        new = _State(
            list(old.log),
            {k: list(v) for k, v in old.streams.items()},
            dict(old.remembered),
            dict(old.keys),
            {k: dict(v) for k, v in old.read_models.items()},
            list(old.outbox),
        )
        versions = {s: len(v) for s, v in new.streams.items()}
        stored: list[StoredEvent] = []
        for part, version in list(check_versions(unit.appends, versions)):
            previous = new.log[-1].hash if new.log else GENESIS_HASH
            copies = [
                NewEvent(
                    e.event_type, e.schema_version, copy.deepcopy(e.data), copy.deepcopy(e.metadata)
                )
                for e in part.events
            ]
            mine = chain(previous, len(new.log), part.stream_id, version, copies, unit.recorded_at)
            new.log += mine
            new.streams.setdefault(part.stream_id, []).extend(mine)
            stored += mine
            if part.read_model_row is not None and mine and unit.read_model is not None:
                row = dict(part.read_model_row, position=mine[-1].position)
                table = new.read_models.setdefault(unit.read_model.name, {})
                table[row[unit.read_model.key]] = row
            if part.idempotency is not None:
                key, fingerprint = part.idempotency
                if key in new.remembered:
                    raise KeyTakenError(key)
                new.remembered[key] = (fingerprint, answer(version, mine))
        if unit.outbox is not None:
            new.outbox += outbox_rows(unit.outbox.routes, stored, unit.recorded_at)
        self._store.state = new
        return stored


class InMemoryEventStore:
    def __init__(self) -> None:
        self.state = _State()
        self._lock = threading.RLock()

    @contextmanager
    def session(self, *, exclusive: bool = False) -> Iterator[MemorySession]:
        with self._lock:
            before = self.state
            try:
                yield MemorySession(self)
            except BaseException:
                self.state = before  # nothing of a failed session stays
                raise

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        with self._lock:
            return list(self.state.streams.get(stream_id, []))

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return len(self.state.streams.get(stream_id, []))

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._lock:
            # Positions are 1, 2, 3, ... here, so the log's index is the position minus one.
            start = max(after, 0)
            return self.state.log[start : start + limit]

    def read_facts(self, after: int = 0, limit: int = 1000) -> list[Fact]:
        return [
            Fact(e.position, e.stream_id, e.event_type, e.schema_version, e.data)
            for e in self.read_all(after, limit)
        ]

    def head(self) -> tuple[int, str]:
        with self._lock:
            last = self.state.log[-1] if self.state.log else None
            return (last.position, last.hash) if last else (0, GENESIS_HASH)

    def pupil_keys(self, pupil_ids: Sequence[str]) -> dict[str, bytes]:
        with self._lock:
            return {p: self.state.keys[p] for p in pupil_ids if p in self.state.keys}

    def erase_pupil_key(self, pupil_id: str) -> bool:
        with self._lock:
            return self.state.keys.pop(pupil_id, None) is not None
