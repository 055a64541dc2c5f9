"""Free text in events, sealed with a per-pupil key so that deleting the key erases it.

Motivations, parents' views and reasons (`PersonalText` fields) can name people, yet the log is
append-only. So they are stored sealed (AES-256-GCM, the event type and field name as associated
data) with a key that belongs to the pupil and lives outside the log, in `pupil_keys`. Erasing a
pupil deletes the key: the text becomes unreadable for good, and because the hash chain covers the
stored (sealed) bytes, `verify` still passes. Reading a field whose key is gone gives `ERASED`.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete

from service.store.schema import pupil_keys
from service.store.sqlio import SqlIO
from workflows.events import CODEC

ERASED = "[gewist]"
_SEALED = "sealed"


def _aad(event_type: str, field: str) -> bytes:
    return f"{event_type}/{field}".encode()


def key_for_writing(io: SqlIO, pupil_id: str, now: datetime) -> bytes:
    """The pupil's key, made in this transaction if the pupil has none yet."""
    found = io.pupil_key(pupil_id)
    if found is not None:
        return found
    io.add_pupil_key(pupil_id, AESGCM.generate_key(bit_length=256), now)
    # Read back: on PostgreSQL's autocommit path a concurrent first writer may have won.
    key = io.pupil_key(pupil_id)
    if key is None:
        raise RuntimeError("the pupil's key was not stored")
    return key


def has_personal_text(event_type: str, data: dict[str, Any]) -> bool:
    return any(data.get(f) is not None for f in CODEC.personal_fields(event_type))


def erase_key(conn: Connection, pupil_id: str) -> bool:
    return conn.execute(delete(pupil_keys).where(pupil_keys.c.pupil_id == pupil_id)).rowcount > 0


def seal(key: bytes | None, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    fields = CODEC.personal_fields(event_type)
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


def unseal(key: bytes | None, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    fields = CODEC.personal_fields(event_type)
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
