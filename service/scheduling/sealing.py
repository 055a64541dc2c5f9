"""The talk's events as the log stores them: encoded, free text sealed with the pupil's key.

The trajectory's scheme (`service.store.personal`, AES-256-GCM with the pupil's key from
`pupil_keys`, the event type and field name as associated data) with the talk's codec
(`workflows.conversations.TALK_CODEC`), so erasing the pupil's key erases the parents'
zienswijze, their messages and the notes of the talk too, and the hash chain (over the stored,
sealed bytes) still verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from service.store import personal
from service.store.events import NewEvent, StoredEvent
from workflows.codec import Event
from workflows.conversations import TALK_CODEC


def encode(
    events: Sequence[Event], metadata: dict[str, Any], key_of_pupil: Callable[[], bytes]
) -> list[NewEvent]:
    """Talk events ready to append; the pupil's key is asked for only when there is free text."""
    return personal.encode(events, metadata, key_of_pupil, codec=TALK_CODEC)


def needs_key(stored: Sequence[StoredEvent]) -> bool:
    return personal.needs_key(stored, codec=TALK_CODEC)


def open_events(stored: Sequence[StoredEvent], key: bytes | None) -> list[Event]:
    """Stored talk events as domain events, free text opened (`[gewist]` without the key)."""
    return personal.open_events(stored, key, codec=TALK_CODEC)


def decode(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """A talk event whose free text is not needed (it reads `[gewist]`): projections."""
    return TALK_CODEC.decode(
        event_type, schema_version, personal.unseal(None, event_type, data, codec=TALK_CODEC)
    )
