"""The talk's events as the log stores them: encoded, free text sealed with the pupil's key.

The same scheme as the trajectory's (`service.store.personal`): AES-256-GCM with the pupil's key
from `pupil_keys`, the event type and field name as associated data, so erasing the pupil's key
erases the parents' zienswijze, their messages and the notes of the talk too, and the hash chain
(over the stored, sealed bytes) still verifies. Only the codec differs: the talk's
(`workflows.conversations.TALK_CODEC`).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.store.events import NewEvent, StoredEvent
from service.store.personal import ERASED
from workflows.codec import Event
from workflows.conversations import TALK_CODEC

_SEALED = "sealed"


def _aad(event_type: str, name: str) -> bytes:
    return f"{event_type}/{name}".encode()


def _personal(event_type: str) -> frozenset[str]:
    return TALK_CODEC.personal_fields(event_type)


def has_personal_text(event_type: str, data: dict[str, Any]) -> bool:
    return any(data.get(f) is not None for f in _personal(event_type))


def seal(key: bytes, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    sealed = dict(data)
    for name in _personal(event_type):
        text = data.get(name)
        if text is None:
            continue
        nonce = os.urandom(12)
        box = AESGCM(key).encrypt(nonce, str(text).encode(), _aad(event_type, name))
        sealed[name] = {_SEALED: base64.b64encode(nonce + box).decode()}
    return sealed


def unseal(key: bytes | None, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    opened = dict(data)
    for name in _personal(event_type):
        value = data.get(name)
        if not isinstance(value, dict) or _SEALED not in value:
            continue
        if key is None:
            opened[name] = ERASED
            continue
        raw = base64.b64decode(value[_SEALED])
        opened[name] = AESGCM(key).decrypt(raw[:12], raw[12:], _aad(event_type, name)).decode()
    return opened


def encode(
    events: Sequence[Event], metadata: dict[str, Any], key_of_pupil: Callable[[], bytes]
) -> list[NewEvent]:
    """Talk events ready to append; the pupil's key is asked for only when there is free text."""
    encoded = [TALK_CODEC.encode(e) for e in events]
    key = key_of_pupil() if any(has_personal_text(t, d) for t, _, d in encoded) else None
    return [
        NewEvent(t, v, seal(key, t, data) if key is not None else data, metadata)
        for t, v, data in encoded
    ]


def needs_key(stored: Sequence[StoredEvent]) -> bool:
    return any(has_personal_text(e.event_type, e.data) for e in stored)


def open_events(stored: Sequence[StoredEvent], key: bytes | None) -> list[Event]:
    """Stored talk events as domain events, free text opened (`[gewist]` without the key)."""
    return [
        TALK_CODEC.decode(e.event_type, e.schema_version, unseal(key, e.event_type, e.data))
        for e in stored
    ]


def decode(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """A talk event whose free text is not needed (it reads `[gewist]`): projections."""
    return TALK_CODEC.decode(event_type, schema_version, unseal(None, event_type, data))
