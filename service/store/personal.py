"""Free text in events, sealed with a per-pupil key so that deleting the key erases it.

Motivations, parents' views and reasons (`PersonalText` fields) can name people, yet the log is
append-only. So they are stored sealed (AES-256-GCM, the event type and field name as associated
data) with a key that belongs to the pupil and lives outside the log, in `pupil_keys`. Erasing a
pupil deletes the key: the text becomes unreadable for good, and because the hash chain covers the
stored (sealed) bytes, `verify` still passes. Reading a field whose key is gone gives `ERASED`.
Every function takes the events' `codec` (the trajectory's by default; the talks' in
`service.scheduling.sealing`): which fields are free text is the codec's to say.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.store.events import Fact, NewEvent, StoredEvent
from workflows.codec import Event, EventCodec
from workflows.events import CODEC

ERASED = "[gewist]"
_SEALED = "sealed"


def _aad(event_type: str, field: str) -> bytes:
    return f"{event_type}/{field}".encode()


def has_personal_text(event_type: str, data: dict[str, Any], *, codec: EventCodec = CODEC) -> bool:
    return any(data.get(f) is not None for f in codec.personal_fields(event_type))


def seal(
    key: bytes | None, event_type: str, data: dict[str, Any], *, codec: EventCodec = CODEC
) -> dict[str, Any]:
    fields = codec.personal_fields(event_type)
    if not fields or not any(data.get(f) is not None for f in fields):
        return data
    if key is None:
        raise ValueError("personal text needs the pupil's key")
    sealed = dict(data)
    for field in fields:
        text = data.get(field)
        if text is None:
            continue
        nonce = os.urandom(12)
        box = AESGCM(key).encrypt(nonce, str(text).encode(), _aad(event_type, field))
        sealed[field] = {_SEALED: base64.b64encode(nonce + box).decode()}
    return sealed


def unseal(
    key: bytes | None, event_type: str, data: dict[str, Any], *, codec: EventCodec = CODEC
) -> dict[str, Any]:
    fields = codec.personal_fields(event_type)
    if not fields:
        return data
    opened = dict(data)
    for field in fields:
        value = data.get(field)
        if not isinstance(value, dict) or _SEALED not in value:
            continue  # absent, None, or written before sealing existed
        if key is None:
            opened[field] = ERASED
            continue
        raw = base64.b64decode(value[_SEALED])
        opened[field] = AESGCM(key).decrypt(raw[:12], raw[12:], _aad(event_type, field)).decode()
    return opened


def encode(
    events: Sequence[Event],
    metadata: dict[str, Any],
    key_of_pupil: Callable[[], bytes],
    *,
    codec: EventCodec = CODEC,
) -> list[NewEvent]:
    """Domain events as the log stores them: encoded, free text sealed with the pupil's key
    (asked for only when there is free text), each with the command's metadata. The one place
    where events are encoded and sealed, whatever adapter stores them."""
    encoded = [codec.encode(e) for e in events]
    key = None
    if any(has_personal_text(t, data, codec=codec) for t, _, data in encoded):
        key = key_of_pupil()
    return [NewEvent(t, v, seal(key, t, data, codec=codec), metadata) for t, v, data in encoded]


def open_events(
    stored: Sequence[StoredEvent], key: bytes | None, *, codec: EventCodec = CODEC
) -> list[Event]:
    """Stored events as domain events, free text opened (or `[gewist]` without the key)."""
    return [
        codec.decode(e.event_type, e.schema_version, unseal(key, e.event_type, e.data, codec=codec))
        for e in stored
    ]


def needs_key(stored: Sequence[StoredEvent], *, codec: EventCodec = CODEC) -> bool:
    return any(has_personal_text(e.event_type, e.data, codec=codec) for e in stored)


def decode(stored: StoredEvent | Fact) -> Event:
    """Decode an event whose personal fields are not needed (they read as sealed/erased)."""
    return CODEC.decode(
        stored.event_type,
        stored.schema_version,
        unseal(None, stored.event_type, stored.data),
    )
