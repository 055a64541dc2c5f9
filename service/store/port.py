"""The store's port, shaped as the use cases need it: load what a decision needs, commit one unit.

A use case opens a `Session`, `load`s the streams it decides on (with the remembered answers of
its idempotency keys and the pupils' keys for sealed free text), lets the domain decide, and
`commit`s one `UnitOfWork`: one or many streams, each after the version it read, with the
read-model rows, outbox messages and remembered answers of the same use case and any rows the
use case writes itself (the register, settled deliveries), all in one transaction. A stale
version is a `ConcurrencyError` carrying the current version, a key already answered in a race
a `KeyTakenError`; nothing of a failed commit is visible.

A session is `exclusive` when the use case must decide under the log's lock (a batch of many
pupils, an enrolment with register rows): nobody appends between its load and its commit. A plain
session decides on a snapshot and the commit's version check catches a writer in between (the
caller decides again). Adapters: `service.store.memory`, `service.store.sqlite`,
`service.store.postgres`; one contract suite (tests/integration/test_store_contract.py) runs on
all three through this port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from service.store.driver import Driver, Table
from service.store.events import (
    ConcurrencyError,
    Fact,
    IdempotencyConflictError,
    NewEvent,
    StoredEvent,
)

__all__ = ["ConcurrencyError", "IdempotencyConflictError"]


class KeyTakenError(Exception):
    """Another writer remembered an answer under this idempotency key between our load and our
    commit: load again and replay it (or refuse it, if the request differs)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was answered by a concurrent request")
        self.key = key


@dataclass(slots=True)
class Loaded:
    """What decisions need: streams (empty list when new), remembered answers, pupils' keys."""

    streams: dict[str, list[StoredEvent]]
    remembered: dict[str, tuple[str, dict[str, Any]]]
    keys: dict[str, bytes]

    def stream(self, stream_id: str) -> list[StoredEvent]:
        return self.streams.get(stream_id, [])

    def version(self, stream_id: str) -> int:
        stored = self.streams.get(stream_id)
        return stored[-1].stream_version if stored else 0


@dataclass(slots=True)
class Append:
    """Events for one stream after the version the caller read, with what joins them."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]
    read_model_row: dict[str, Any] | None = None
    """The stream's read-model row after these events; the commit fills in `position`."""
    idempotency: tuple[str, str] | None = None
    """(key, fingerprint): the commit remembers `answer(...)` of this append under the key."""


@dataclass(frozen=True)
class Outbox:
    """Which event types cause a message, under which topic, and the outbox's own insert."""

    routes: Mapping[str, str]
    insert: Callable[[Driver, list[dict[str, Any]]], None]


Joined = Callable[[Driver, list[StoredEvent]], None]


@dataclass(slots=True)
class UnitOfWork:
    recorded_at: datetime
    appends: list[Append] = field(default_factory=list)
    read_model: Table | None = None
    outbox: Outbox | None = None
    joined: list[Joined] = field(default_factory=list)
    """The use case's own writes (register rows, settled deliveries), run in the same
    transaction after the events are in, with the events this unit stored."""


def answer(version: int, stored: Sequence[StoredEvent]) -> dict[str, Any]:
    """The response remembered under an idempotency key: the same on every adapter."""
    return {
        "stream_version": version + len(stored),
        "event_types": [e.event_type for e in stored],
        "positions": [e.position for e in stored],
    }


def outbox_rows(
    routes: Mapping[str, str], stored: Sequence[StoredEvent], now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "position": e.position,
            "stream_id": e.stream_id,
            "topic": routes[e.event_type],
            "payload": {"event_type": e.event_type, "data": e.data},
            "created_at": now,
            "available_at": now,
        }
        for e in stored
        if e.event_type in routes
    ]


class Session(Protocol):
    @property
    def driver(self) -> Driver | None:
        """The session's transaction for reads a use case needs under its lock (None in memory)."""
        ...

    def load(
        self,
        stream_ids: Sequence[str],
        idempotency_keys: Sequence[str] = (),
        pupil_ids: Sequence[str] = (),
    ) -> Loaded: ...

    def pupil_key(self, pupil_id: str) -> bytes:
        """The pupil's key for sealing, made (race-free) when the pupil has none yet."""
        ...

    def commit(self, unit: UnitOfWork) -> list[StoredEvent]:
        """Everything in `unit`, atomically; the stored events in order."""
        ...


class EventStore(Protocol):
    def session(self, *, exclusive: bool = False) -> AbstractContextManager[Session]: ...

    def read_stream(self, stream_id: str) -> list[StoredEvent]: ...

    def stream_version(self, stream_id: str) -> int: ...

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with a position above `after`, in global order, at most `limit` of them."""
        ...

    def read_facts(self, after: int = 0, limit: int = 1000) -> list[Fact]: ...

    def head(self) -> tuple[int, str]: ...

    def pupil_keys(self, pupil_ids: Sequence[str]) -> dict[str, bytes]: ...

    def erase_pupil_key(self, pupil_id: str) -> bool: ...


def check_versions(
    appends: Sequence[Append], current: Mapping[str, int]
) -> Iterator[tuple[Append, int]]:
    """Each append with the version it goes after; a stale one raises `ConcurrencyError`.

    The one expected-version check of every adapter. A stream may come more than once in a unit
    (one pupil twice in a batch): each part goes after the version the previous part left.
    """
    versions = dict(current)
    for part in appends:
        now_at = versions.get(part.stream_id, 0)
        if part.expected_version != now_at:
            raise ConcurrencyError(part.stream_id, part.expected_version, now_at)
        yield part, now_at
        versions[part.stream_id] = now_at + len(part.events)
