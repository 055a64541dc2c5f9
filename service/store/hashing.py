"""The hash chain that makes the log tamper-evident.

Each event's hash covers the previous event's hash and the event's stored content in a canonical
JSON form, so changing, deleting, inserting or reordering any event breaks every hash after it.
The canonical form is computed from the values as stored, so it is the same on every database.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(
    previous_hash: str,
    *,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> str:
    body = json.dumps(
        [
            previous_hash,
            stream_id,
            stream_version,
            event_type,
            schema_version,
            data,
            metadata,
            canonical_time(recorded_at),
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
