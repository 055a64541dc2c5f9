"""The event store's contract: what an appended and a stored event look like, and its errors.

The port that use cases call is `service.store.port`; these are the records it speaks in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


# Records of the store's hot path: slotted, not frozen. A frozen dataclass's __init__ costs
# 3.0 us for StoredEvent's eleven fields against 1.0 us here (measured), paid per event on every
# append and read; their dicts were never deeply frozen anyway. Nothing assigns to them.
@dataclass(slots=True)
class NewEvent:
    event_type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(slots=True)
class StoredEvent:
    position: int
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    hash: str
    data_json: str | None = field(default=None, compare=False, repr=False)
    """The canonical JSON of `data` when this event was just chained (saves a second dump)."""
    metadata_json: str | None = field(default=None, compare=False, repr=False)


class Fact(NamedTuple):
    """What a projection needs of a stored event: where it sits and what it says (no metadata,
    time or hash, which most read models never look at and which cost a parse per row)."""

    position: int
    stream_id: str
    event_type: str
    schema_version: int
    data: dict[str, Any]


class ConcurrencyError(Exception):
    """Another writer appended to the stream first: the caller's view of it is stale."""

    def __init__(self, stream_id: str, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {current_version}, not {expected_version}"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.current_version = current_version


class IdempotencyConflictError(Exception):
    """An idempotency key came back with a different request than the one it first carried."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used for a different request")
        self.key = key
