"""Who issues a command, the ids that tie its events to the request, and what it answered.

Shared by the edges (API, web, CLI, worker), the capabilities and the store's users, so it sits
below all of them and imports nothing of the service.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from workflows.commands import Command


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
