"""Where advice is recorded: load a pupil's stream, let the domain decide, append the result.

This is the command handler for every trajectory command. It reads the stream, checks the
caller's expected version, calls `workflows.trajectory.decide` with the time from the injected
clock, and appends the new events with the expected version it read, so a concurrent writer
surfaces as a `ConcurrencyError` instead of a lost update. Nothing is appended when the domain
says no.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from service.store.events import ConcurrencyError, EventStore, NewEvent, StoredEvent
from workflows.codec import Event
from workflows.commands import Command
from workflows.decide import decide
from workflows.events import CODEC
from workflows.trajectory import Trajectory, fold

Clock = Callable[[], datetime]


def trajectory_stream(pupil_id: UUID) -> str:
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
    events: list[StoredEvent]


def decode(stored: StoredEvent) -> Event:
    return CODEC.decode(stored.event_type, stored.schema_version, stored.data)


class Trajectories:
    def __init__(self, store: EventStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def execute(
        self,
        pupil_id: UUID,
        command: Command,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> CommandResult:
        stream_id = trajectory_stream(pupil_id)
        stored = self._store.read_stream(stream_id)
        current = stored[-1].stream_version if stored else 0
        if expected_version is not None and expected_version != current:
            raise ConcurrencyError(stream_id, expected_version, current)
        now = self._clock()
        new_events = decide([decode(e) for e in stored], command, now)
        metadata = context.metadata()
        appended = self._store.append(
            stream_id,
            current,
            [NewEvent(*CODEC.encode(event), metadata=metadata) for event in new_events],
            recorded_at=now,
        )
        return CommandResult(current + len(appended), appended)

    def load(self, pupil_id: UUID) -> Trajectory:
        return fold(decode(e) for e in self._store.read_stream(trajectory_stream(pupil_id)))
