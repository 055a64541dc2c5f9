"""Where advice is recorded: load a pupil's stream, let the domain decide, append the result.

This is the command handler for every trajectory command, and a command is a batch of one: it
goes through the same `Batch` as an import (`service.advice.batch`) on a store session. The
session loads the stream (with the remembered answer for an idempotency key and the pupil's key),
the domain decides with the time from the injected clock, and one unit of work is committed:
events, the `trajectories` read-model row, the outbox rows and the answer under the key. Without
If-Match a writer who came in between means deciding again on the fresh stream (the domain is
pure, so that is safe; the last attempt decides under the lock); with one it is the caller's
409. Nothing is written when the domain says no. How the store makes that one round trip
(PostgreSQL) or one locked transaction (SQLite) is the adapter's business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from service.advice.batch import Batch, BatchItem, Decider, PolicySource
from service.shared.context import Actor, CommandContext, CommandResult, fingerprint
from service.store import personal
from service.store.events import ConcurrencyError, StoredEvent
from service.store.port import EventStore, KeyTakenError, Loaded
from service.store.streams import trajectory_stream
from workflows.codec import Event
from workflows.commands import Command
from workflows.policy import SchoolPolicy
from workflows.trajectory import Trajectory, fold

Clock = Callable[[], datetime]
MAX_ATTEMPTS = 3  # decisions retried on a fresh read when another writer came first
decode = personal.decode

__all__ = [
    "Actor",
    "CommandContext",
    "CommandResult",
    "decode",
    "fingerprint",
    "trajectory_stream",
]


class Trajectories:
    def __init__(
        self, store: EventStore, clock: Clock, policies: SchoolPolicy | PolicySource
    ) -> None:
        """`policies`: each school's policy per school year (`SchoolPolicies`); one fixed
        `SchoolPolicy` only where every pupil is at one school (tests of the rules)."""
        self._store = store
        self._clock = clock
        self._decider = Decider(policies)

    @property
    def store(self) -> EventStore:
        return self._store

    def execute(
        self,
        pupil_id: UUID,
        command: Command,
        context: CommandContext,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        request_print = fingerprint(pupil_id, command) if idempotency_key else ""
        item = BatchItem(
            pupil_id, [command], context, idempotency_key, request_print, expected_version
        )
        return self._run_one(item)

    def execute_all(
        self,
        pupil_id: UUID,
        commands: Sequence[Command],
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Several commands for one pupil, decided in turn and appended in one transaction.

        For imports and for what a teacher records in one go: either all are accepted, or the
        first refusal is raised and nothing is written. `expected_version=0` says the pupil is
        new (an enrolment): it fails with a conflict if the pupil already has events.
        """
        return self._run_one(BatchItem(pupil_id, commands, context, None, "", expected_version))

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """One transaction with the log locked for many pupils' commands (`Batch.execute`);
        commits when the block ends without error, writes nothing otherwise."""
        with self._store.session(exclusive=True) as session:
            yield Batch(session, self._decider, self._clock())

    def _run_one(self, item: BatchItem) -> CommandResult:
        """A batch of one on a plain session, decided again when another writer came first.

        A new pupil (expected version 0, no key) is decided without a read: the commit refuses
        a stream that is not empty after all. Should the commands be refused or do nothing on
        an empty history, the stream is read after all, so the answer is the one it gives.
        """
        assume_new = item.expected_version == 0 and item.idempotency_key is None
        for attempt in range(MAX_ATTEMPTS):
            # Without If-Match the last attempt decides under the log's lock, where no other
            # writer can come in between: a busy pupil gets an answer, never a 409 it did not ask
            # for (with If-Match a writer in between is exactly the 409 the caller asked for).
            exclusive = item.expected_version is None and attempt == MAX_ATTEMPTS - 1
            try:
                with self._store.session(exclusive=exclusive) as session:
                    batch = Batch(session, self._decider, self._clock())
                    if assume_new:
                        batch.assume(item, Loaded({}, {}, {}))
                    outcome = batch.execute([item])[0]
            except ConcurrencyError:
                if item.expected_version is None and attempt < MAX_ATTEMPTS - 1:
                    continue
                raise
            except KeyTakenError:  # the same key in a race: read its answer
                continue
            if outcome.error is not None:
                if assume_new:
                    assume_new = False
                    continue
                raise outcome.error
            if assume_new and not outcome.event_types:
                assume_new = False
                continue
            return CommandResult(
                outcome.stream_version,
                outcome.event_types,
                outcome.positions,
                replayed=outcome.replayed,
            )
        raise ConcurrencyError(
            trajectory_stream(item.pupil_id),
            item.expected_version or 0,
            self._store.stream_version(trajectory_stream(item.pupil_id)),
        )

    def _key_for(self, pupil_id: str, stored: Sequence[StoredEvent]) -> bytes | None:
        """The pupil's key, looked up only when the events hold sealed free text."""
        if not personal.needs_key(stored):
            return None
        return self._store.pupil_keys([pupil_id]).get(pupil_id)

    def audit_trail(self, pupil_id: UUID) -> list[tuple[StoredEvent, dict[str, Any]]]:
        """Every stored event of the pupil with its data as recorded, free text opened (or
        `[gewist]` after erasure): who did what, when and why, for directie and the parents."""
        stored = self._store.read_stream(trajectory_stream(pupil_id))
        key = self._key_for(str(pupil_id), stored)
        return [(e, personal.unseal(key, e.event_type, e.data)) for e in stored]

    def history(self, pupil_id: UUID) -> list[Event]:
        stored = self._store.read_stream(trajectory_stream(pupil_id))
        return personal.open_events(stored, self._key_for(str(pupil_id), stored))

    def load(self, pupil_id: UUID) -> Trajectory:
        return fold(self.history(pupil_id))
