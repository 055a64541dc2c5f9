"""Where advice is recorded: load a pupil's stream, let the domain decide, append the result.

This is the command handler for every trajectory command. It reads the stream (with the
remembered response for an idempotency key and the pupil's key), checks the caller's expected
version, lets `workflows.decide` decide with the time from the injected clock, seals personal free
text, and appends in one transaction together with the `trajectories` read-model row, the outbox
rows and the response under the idempotency key. Two paths, one outcome: on PostgreSQL the read
is one statement and the append one call of `adviestraject_append` (a writer in between is a
conflict: decided again without If-Match, a 409 with one); on SQLite everything happens under the
database's write lock. Nothing is written when the domain says no.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from service.outbox.outbox import ROUTES, enqueue
from service.projections import trajectories as trajectory_rows
from service.store import personal
from service.store.events import ConcurrencyError, Fact, NewEvent, StoredEvent
from service.store.hashing import content_hash
from service.store.sql import IdempotencyConflictError, LogWriter, SqlEventStore
from service.store.sqlio import SqlIO
from workflows.codec import Event
from workflows.commands import Command
from workflows.decide import decide_on
from workflows.errors import DomainError
from workflows.events import CODEC
from workflows.policy import DEFAULT_POLICY, SchoolPolicy
from workflows.trajectory import Trajectory, fold

if TYPE_CHECKING:
    from service.advice.batch import Batch

Clock = Callable[[], datetime]
MAX_ATTEMPTS = 3  # decisions retried on a fresh read when another writer came first


def trajectory_stream(pupil_id: UUID | str) -> str:
    return f"trajectory-{pupil_id}"


@dataclass(frozen=True)
class Actor:
    """Who issues a command: a person or system, and the role they act in."""

    id: str
    role: str


@dataclass(frozen=True)
class CommandContext:
    """Who asks, and the ids that tie the resulting events to the request that caused them."""

    actor: Actor
    request_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {"actor": self.actor.id, "role": self.actor.role}
        for key in ("request_id", "correlation_id", "causation_id"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class CommandResult:
    stream_version: int
    event_types: list[str]
    positions: list[int]
    replayed: bool = False

    def response(self) -> dict[str, Any]:
        return {
            "stream_version": self.stream_version,
            "event_types": self.event_types,
            "positions": self.positions,
        }

    @classmethod
    def replay(cls, response: dict[str, Any]) -> CommandResult:
        return cls(
            response["stream_version"],
            list(response["event_types"]),
            list(response["positions"]),
            replayed=True,
        )


def fingerprint(pupil_id: UUID, command: Command) -> str:
    """What makes two requests "the same" for an idempotency key."""
    body = json.dumps(
        [str(pupil_id), type(command).__name__, asdict(command)], sort_keys=True, default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()


class Trajectories:
    def __init__(
        self, store: SqlEventStore, clock: Clock, policy: SchoolPolicy = DEFAULT_POLICY
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy

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
        run = self._execute_on_server if self._store.appends_on_server else self._execute_locally
        return run(pupil_id, [command], context, expected_version, idempotency_key, request_print)

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
        run = self._execute_on_server if self._store.appends_on_server else self._execute_locally
        return run(pupil_id, commands, context, expected_version, None, "")

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """One transaction with the log locked for many pupils' commands (`Batch.execute`);
        commits when the block ends without error, writes nothing otherwise."""
        from service.advice.batch import Batch  # noqa: PLC0415 - batch.py builds on this one

        with self._store.writing(self._clock()) as writer:
            batch = Batch(writer, self._decide_all, self._decode)
            yield batch
            batch.close()

    def _decide_all(
        self, state: Trajectory, commands: Sequence[Command], now: datetime
    ) -> tuple[list[Event], Trajectory]:
        new_events: list[Event] = []
        for command in commands:
            decided = decide_on(state, command, now, policy=self._policy)
            new_events += decided
            state = fold(decided, start=state)
        return new_events, state

    def _execute_locally(
        self,
        pupil_id: UUID,
        commands: Sequence[Command],
        context: CommandContext,
        expected_version: int | None,
        idempotency_key: str | None,
        request_print: str,
    ) -> CommandResult:
        """SQLite: read, decide and append under the database's write lock (BEGIN IMMEDIATE)."""
        stream_id = trajectory_stream(pupil_id)
        now = self._clock()
        with self._store.writing(now, lock=False) as writer:
            stored, first = writer.lock_and_read(stream_id, idempotency_key, request_print)
            if first is not None:
                return CommandResult.replay(first)
            current = stored[-1].stream_version if stored else 0
            if expected_version is not None and expected_version != current:
                raise ConcurrencyError(stream_id, expected_version, current)
            state = fold(self._decode(str(pupil_id), stored, writer.io))
            new_events, new_state = self._decide_all(state, commands, now)
            appended = self._append(writer, str(pupil_id), stream_id, current, new_events, context)
            self._side_effects(writer, stream_id, new_state, appended)
            result = CommandResult(
                current + len(appended),
                [e.event_type for e in appended],
                [e.position for e in appended],
            )
            if idempotency_key:
                writer.remember(idempotency_key, stream_id, request_print, result.response())
        return result

    def _execute_on_server(
        self,
        pupil_id: UUID,
        commands: Sequence[Command],
        context: CommandContext,
        expected_version: int | None,
        idempotency_key: str | None,
        request_print: str,
    ) -> CommandResult:
        """PostgreSQL: read (one round trip, no lock), decide, append (one call, committed).

        When another writer appended in between, the function refuses; without an If-Match the
        command is decided again on the fresh stream (the domain is pure, so that is safe), with
        one it is the caller's 409.
        """
        stream_id = trajectory_stream(pupil_id)
        idempotency = (idempotency_key, request_print) if idempotency_key else None
        # A new pupil (expected version 0): nothing to read that the append would not check
        # anyway, since a stream that is not empty after all is refused with AT001. Should the
        # commands be refused or do nothing on an empty history, the stream is read after all,
        # so the answer is the same as with the read.
        assume_new = expected_version == 0 and idempotency_key is None
        for attempt in range(MAX_ATTEMPTS):
            with self._store.reading() as io:
                if assume_new:
                    stored: list[StoredEvent] = []
                    remembered, key = None, None
                else:
                    stored, remembered, key = io.read_for_command(
                        stream_id, idempotency_key, str(pupil_id)
                    )
                if remembered is not None:
                    if remembered[0] != request_print:
                        raise IdempotencyConflictError(str(idempotency_key))
                    return CommandResult.replay(remembered[1])
                current = stored[-1].stream_version if stored else 0
                if expected_version is not None and expected_version != current:
                    raise ConcurrencyError(stream_id, expected_version, current)
                state = fold(self._open(stored, key))
                now = self._clock()
                decided = self._decide_assuming_new(state, commands, now, assume_new)
                if decided is None:
                    assume_new = False
                    continue
                new_events, new_state = decided
                if not new_events and idempotency is None:
                    return CommandResult(current, [], [])
                try:
                    types, appended = self._call_append(
                        io, pupil_id, current, new_events, new_state, key, context, now, idempotency
                    )
                except psycopg.Error as error:
                    if error.sqlstate == "AT001":  # another writer came first
                        if expected_version is None and attempt < MAX_ATTEMPTS - 1:
                            continue
                        raise ConcurrencyError(
                            stream_id, current, int(str(error.diag.message_primary))
                        ) from None
                    if error.sqlstate == "AT002":  # the same key, in a race: read its answer
                        continue
                    raise
            return CommandResult(
                current + len(types), types, [position for position, _ in appended]
            )
        raise ConcurrencyError(
            stream_id, expected_version or 0, self._store.stream_version(stream_id)
        )

    def _decide_assuming_new(
        self, state: Trajectory, commands: Sequence[Command], now: datetime, assume_new: bool
    ) -> tuple[list[Event], Trajectory] | None:
        """The decision; None when a pupil assumed new gets a refusal or nothing (then the
        stream is read after all, and the answer is the one the real history gives)."""
        try:
            decided = self._decide_all(state, commands, now)
        except DomainError:
            if assume_new:
                return None
            raise
        if assume_new and not decided[0]:
            return None
        return decided

    @staticmethod
    def _call_append(
        io: SqlIO,
        pupil_id: UUID,
        current: int,
        new_events: list[Event],
        new_state: Trajectory,
        key: bytes | None,
        context: CommandContext,
        now: datetime,
        idempotency: tuple[str, str] | None,
    ) -> tuple[list[str], list[tuple[int, str]]]:
        """Encode, seal and content-hash the events, then one `adviestraject_append` call."""
        stream_id = trajectory_stream(pupil_id)
        encoded = [CODEC.encode(e) for e in new_events]
        if key is None and any(personal.has_personal_text(t, d) for t, _, d in encoded):
            key = personal.key_for_writing(io, str(pupil_id), now)
        sealed = [(t, v, personal.seal(key, t, d)) for t, v, d in encoded]
        metadata = context.metadata()
        contents = [
            content_hash(
                stream_id=stream_id,
                stream_version=current + i,
                event_type=t,
                schema_version=v,
                data=d,
                metadata=metadata,
                recorded_at=now,
            )
            for i, (t, v, d) in enumerate(sealed, start=1)
        ]
        appended = io.call_append(
            stream_id,
            current,
            sealed,
            metadata,
            now,
            contents,
            trajectory_rows.json_row(stream_id, new_state) if new_events else None,
            [ROUTES.get(t) for t, _, _ in sealed],
            idempotency,
        )
        return [t for t, _, _ in sealed], appended

    def _open(self, stored: Sequence[StoredEvent], key: bytes | None) -> list[Event]:
        return [
            CODEC.decode(e.event_type, e.schema_version, personal.unseal(key, e.event_type, e.data))
            for e in stored
        ]

    @staticmethod
    def _side_effects(
        writer: LogWriter, stream_id: str, state: Trajectory, appended: list[StoredEvent]
    ) -> None:
        """What joins the append's transaction: the pupil's read-model row and outbox messages."""
        if appended:
            row = trajectory_rows.row(stream_id, state, appended[-1].position)
            trajectory_rows.apply(writer.io, [row])
            enqueue(writer.io, appended, writer.recorded_at)

    def _append(
        self,
        writer: LogWriter,
        pupil_id: str,
        stream_id: str,
        current: int,
        new_events: Sequence[Event],
        context: CommandContext,
    ) -> list[StoredEvent]:
        if not new_events:
            return []
        sealed = sealed_events(writer, pupil_id, new_events, context)
        appended: list[StoredEvent] = writer.append_after_read(stream_id, current, sealed)
        return appended

    def _decode(
        self, pupil_id: str, stored: Sequence[StoredEvent], io: SqlIO | None = None
    ) -> list[Event]:
        return self._open(stored, self._key_for(pupil_id, stored, io))

    def _key_for(
        self, pupil_id: str, stored: Sequence[StoredEvent], io: SqlIO | None = None
    ) -> bytes | None:
        """The pupil's key, looked up only when the events hold sealed free text."""
        if not any(personal.has_personal_text(e.event_type, e.data) for e in stored):
            return None
        if io is not None:
            return io.pupil_key(pupil_id)
        with self._store.reading() as reader:
            return reader.pupil_key(pupil_id)

    def audit_trail(self, pupil_id: UUID) -> list[tuple[StoredEvent, dict[str, Any]]]:
        """Every stored event of the pupil with its data as recorded, free text opened (or
        `[gewist]` after erasure): who did what, when and why, for directie and the parents."""
        stored = self._store.read_stream(trajectory_stream(pupil_id))
        key = self._key_for(str(pupil_id), stored)
        return [(e, personal.unseal(key, e.event_type, e.data)) for e in stored]

    def history(self, pupil_id: UUID) -> list[Event]:
        return self._decode(str(pupil_id), self._store.read_stream(trajectory_stream(pupil_id)))

    def load(self, pupil_id: UUID) -> Trajectory:
        return fold(self.history(pupil_id))


def sealed_events(
    writer: LogWriter, pupil_id: str, new_events: Sequence[Event], context: CommandContext
) -> list[NewEvent]:
    """The events as the log stores them: encoded, free text sealed with the pupil's key (made
    in the writer's transaction when the pupil has none yet), with the command's metadata."""
    encoded = [CODEC.encode(e) for e in new_events]
    key = None
    if any(personal.has_personal_text(t, data) for t, _, data in encoded):
        key = personal.key_for_writing(writer.io, pupil_id, writer.recorded_at)
    metadata = context.metadata()
    return [NewEvent(t, v, personal.seal(key, t, data), metadata) for t, v, data in encoded]


def decode(stored: StoredEvent | Fact) -> Event:
    """Decode an event whose personal fields are not needed (they read as sealed/erased)."""
    return CODEC.decode(
        stored.event_type,
        stored.schema_version,
        personal.unseal(None, stored.event_type, stored.data),
    )
