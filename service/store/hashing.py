"""The hash chain that makes the log tamper-evident.

Each event's hash is sha256(previous hash ‖ content hash), where the content hash covers the
event's stored content in a canonical JSON form; changing, deleting, inserting or reordering any
event breaks every hash after it. The canonical form is computed from the values as stored, so it
is the same on every database, and the chain step is simple enough for the database to do it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import orjson

from service.store.events import NewEvent, StoredEvent

GENESIS_HASH = "0" * 64


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(value: Any) -> str:
    """The one JSON text of a value that every hash is computed over: keys sorted, no spaces,
    non-ASCII as itself (byte for byte what `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` gives for the JSON types events hold; a test keeps the two equal)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def parse(text: str | bytes) -> Any:
    return orjson.loads(text)


def content_hash(
    *,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
    data_json: str | None = None,
    metadata_json: str | None = None,
) -> str:
    """sha256 of the canonical JSON array [stream, version, type, schema version, data,
    metadata, recorded at]: everything about the event except where it sits in the log.

    It needs no lock, so it is computed before the append (in parallel, for an import).
    """
    return _content(
        canonical(stream_id),
        stream_version,
        canonical(event_type),
        schema_version,
        data_json if data_json is not None else canonical(data),
        metadata_json if metadata_json is not None else canonical(metadata),
        f'"{canonical_time(recorded_at)}"',
    )


def _content(
    stream_json: str,
    stream_version: int,
    type_json: str,
    schema_version: int,
    data_json: str,
    metadata_json: str,
    recorded_json: str,
) -> str:
    body = (
        f"[{stream_json},{int(stream_version)},{type_json},{int(schema_version)},"
        f"{data_json},{metadata_json},{recorded_json}]"
    )
    return sha256(body.encode()).hexdigest()


def link(previous_hash: str, content: str) -> str:
    """The chain step: sha256 of the previous hash followed by the content hash (both hex).

    PostgreSQL computes the same in `adviestraject_append`:
    encode(sha256(convert_to(previous || content, 'UTF8')), 'hex').
    """
    return sha256(f"{previous_hash}{content}".encode()).hexdigest()


def chain_hash(previous_hash: str, **event: Any) -> str:
    """The hash an event with these fields carries when it follows `previous_hash`."""
    return link(previous_hash, content_hash(**event))


def chain(
    previous_hash: str,
    last_position: int,
    stream_id: str,
    current_version: int,
    events: Sequence[NewEvent],
    recorded_at: datetime,
    texts: dict[int, str] | None = None,
) -> list[StoredEvent]:
    """`events` as stored after `last_position`, each hash chained to the one before.

    What events share is serialised once: the time and the metadata (a command's events share
    one dict), remembered in `texts` by object id. A caller appending many streams may pass one
    `texts` for all of them, as long as every event and time it covers stays alive meanwhile
    (an id is only unique among live objects).
    """
    stored: list[StoredEvent] = []
    if texts is None:
        texts = {}
    recorded_json = texts.get(id(recorded_at))
    if recorded_json is None:
        recorded_json = texts[id(recorded_at)] = f'"{canonical_time(recorded_at)}"'
    stream_json = canonical(stream_id)
    position, version = last_position, current_version
    for new in events:
        position += 1
        version += 1
        data_json = canonical(new.data)
        metadata_json = texts.get(id(new.metadata))
        if metadata_json is None:
            metadata_json = texts[id(new.metadata)] = canonical(new.metadata)
        content = _content(
            stream_json,
            version,
            _type_json(new.event_type),
            new.schema_version,
            data_json,
            metadata_json,
            recorded_json,
        )
        previous_hash = sha256(f"{previous_hash}{content}".encode()).hexdigest()
        stored.append(
            StoredEvent(
                position,
                stream_id,
                version,
                new.event_type,
                new.schema_version,
                new.data,
                new.metadata,
                recorded_at,
                previous_hash,
                data_json,
                metadata_json,
            )
        )
    return stored


_TYPE_JSON: dict[str, str] = {}


def _type_json(event_type: str) -> str:
    found = _TYPE_JSON.get(event_type)
    if found is None:
        found = _TYPE_JSON[event_type] = canonical(event_type)
    return found


def rehash(event: StoredEvent, previous_hash: str) -> str:
    """The hash `event` must carry if it follows `previous_hash` (used by verify)."""
    return chain_hash(
        previous_hash,
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        event_type=event.event_type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        recorded_at=event.recorded_at,
    )
