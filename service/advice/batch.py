"""Many pupils' commands in one transaction: imports and the intake worker.

A command from the API reads one stream, decides and appends it (one round trip on PostgreSQL).
For a provider's March delivery or a school's CSV export that is one transaction per pupil; here
the log is locked once, every stream the batch needs is read in one statement, the domain decides
each item in turn (a refusal is that item's outcome, not the batch's end), and the events of all
items are chained and sent together with their read-model rows, outbox messages and remembered
responses, plus whatever the caller adds on `io` (the settled deliveries, register rows): one
commit for all of it, so a crash leaves either everything or nothing.

The lock is held while the batch decides, so a teacher's command at that moment waits for the
batch (a few hundred milliseconds for 500 pupils), and no decision is made on a stale stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from service.advice.trajectories import CommandContext, sealed_events, trajectory_stream
from service.outbox.outbox import enqueue
from service.projections import trajectories as trajectory_rows
from service.store.events import ConcurrencyError, NewEvent, StoredEvent
from service.store.sql import IdempotencyConflictError, LogWriter
from service.store.sqlio import SqlIO
from workflows.codec import Event
from workflows.commands import Command
from workflows.errors import DomainError
from workflows.trajectory import Trajectory, fold

Decide = Callable[[Trajectory, Sequence[Command], datetime], tuple[list[Event], Trajectory]]
Open = Callable[[str, Sequence[StoredEvent], SqlIO], list[Event]]


@dataclass(frozen=True)
class BatchItem:
    """One pupil's commands, decided together: all of them are accepted or none."""

    pupil_id: UUID
    commands: Sequence[Command]
    context: CommandContext
    idempotency_key: str | None = None
    fingerprint: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one item: the new version and event types, or why it was refused."""

    stream_version: int
    event_types: list[str]
    positions: list[int]
    error: DomainError | ConcurrencyError | IdempotencyConflictError | None = None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.error is None


class Batch:
    def __init__(self, writer: LogWriter, decide: Decide, open_: Open) -> None:
        self._writer = writer
        self._decide = decide
        self._open = open_
        self._states: dict[str, tuple[Trajectory, int]] = {}
        self._rows: dict[str, tuple[Trajectory, int]] = {}
        self._remembered: dict[str, tuple[str, dict[str, object]]] = {}

    @property
    def io(self) -> SqlIO:
        """The batch's transaction, for the caller's own rows (sent with the events)."""
        return self._writer.io

    @property
    def now(self) -> datetime:
        return self._writer.recorded_at

    def execute(self, items: Sequence[BatchItem]) -> list[BatchOutcome]:
        """Decide and append every item; an item the domain refuses changes nothing."""
        streams = [trajectory_stream(item.pupil_id) for item in items]
        self._load([s for s in dict.fromkeys(streams) if s not in self._states], items, streams)
        keys = [i.idempotency_key for i in items if i.idempotency_key]
        unseen = [k for k in keys if k not in self._remembered]
        if unseen:
            self._remembered.update(self.io.remembered(unseen))
        new_keys = [k for k in keys if k not in self._remembered]
        if len(set(new_keys)) != len(new_keys):  # its answer exists only after the append
            raise ValueError("a new idempotency key comes at most once in one execute")
        planned: list[tuple[int, str, int, list[NewEvent]]] = []
        outcomes: list[BatchOutcome | None] = []
        for index, (item, stream) in enumerate(zip(items, streams, strict=True)):
            outcome = self._decide_item(item, stream, planned, index)
            outcomes.append(outcome)
        stored = self._writer.append_decided([(s, v, new) for _, s, v, new in planned])
        cursor = 0
        for index, stream, version, new in planned:
            mine = stored[cursor : cursor + len(new)]
            cursor += len(new)
            item = items[index]
            outcome = BatchOutcome(
                version + len(new), [e.event_type for e in mine], [e.position for e in mine]
            )
            outcomes[index] = outcome
            if mine:
                self._rows[stream] = (self._states[stream][0], mine[-1].position)
            if item.idempotency_key:
                self._remember(item, stream, outcome)
        if stored:
            enqueue(self.io, stored, self.now)
        return [o for o in outcomes if o is not None]

    def _decide_item(
        self,
        item: BatchItem,
        stream: str,
        planned: list[tuple[int, str, int, list[NewEvent]]],
        index: int,
    ) -> BatchOutcome | None:
        state, version = self._states[stream]
        if item.idempotency_key and item.idempotency_key in self._remembered:
            fingerprint, response = self._remembered[item.idempotency_key]
            if fingerprint != item.fingerprint:
                return _refused(version, IdempotencyConflictError(item.idempotency_key))
            return BatchOutcome(
                int(str(response["stream_version"])),
                list(response["event_types"]),  # type: ignore[call-overload]
                list(response["positions"]),  # type: ignore[call-overload]
                replayed=True,
            )
        if item.expected_version is not None and item.expected_version != version:
            return _refused(version, ConcurrencyError(stream, item.expected_version, version))
        try:
            new_events, new_state = self._decide(state, item.commands, self.now)
        except DomainError as error:
            return _refused(version, error)
        new = sealed_events(self._writer, str(item.pupil_id), new_events, item.context)
        self._states[stream] = (new_state, version + len(new))
        planned.append((index, stream, version, new))
        return None

    def _remember(self, item: BatchItem, stream: str, outcome: BatchOutcome) -> None:
        key = str(item.idempotency_key)
        response: dict[str, object] = {
            "stream_version": outcome.stream_version,
            "event_types": outcome.event_types,
            "positions": outcome.positions,
        }
        self._remembered[key] = (item.fingerprint, response)
        self._writer.remember(key, stream, item.fingerprint, response)

    def _load(self, streams: list[str], items: Sequence[BatchItem], names: list[str]) -> None:
        if not streams:
            return
        pupil_of = dict(zip(names, (str(i.pupil_id) for i in items), strict=True))
        found = self.io.read_streams(streams)
        for stream in streams:
            stored = found.get(stream, [])
            version = stored[-1].stream_version if stored else 0
            self._states[stream] = (fold(self._open(pupil_of[stream], stored, self.io)), version)

    def close(self) -> None:
        """The read-model rows of every pupil the batch changed, once each, before the commit."""
        rows = [
            trajectory_rows.row(stream, state, position)
            for stream, (state, position) in self._rows.items()
        ]
        trajectory_rows.apply(self.io, rows)
        self._rows.clear()


def _refused(
    version: int, error: DomainError | ConcurrencyError | IdempotencyConflictError
) -> BatchOutcome:
    return BatchOutcome(version, [], [], error=error)
