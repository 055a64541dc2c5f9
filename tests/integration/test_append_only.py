"""The database itself refuses to change or remove an event, whatever code path tries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from service.store.events import NewEvent
from service.store.sql import SqlStore, make_store
from tests.store_helpers import append

T0 = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


@pytest.fixture
def store_with_events(engine: Engine) -> SqlStore:
    store = make_store(engine)
    append(
        store,
        "s-1",
        0,
        [NewEvent("a", 1, {"advice": "HAVO"}, {}), NewEvent("b", 1, {"advice": "VWO"}, {})],
        recorded_at=T0,
    )
    return store


@pytest.mark.parametrize(
    "statement",
    [
        'UPDATE events SET data = \'{"advice": "VWO"}\' WHERE stream_version = 1',
        "UPDATE events SET stream_id = 'other'",
        "DELETE FROM events WHERE stream_version = 2",
        "DELETE FROM events",
    ],
)
def test_sql_that_updates_or_deletes_an_event_is_rejected_by_the_database(
    engine: Engine, store_with_events: SqlStore, statement: str
) -> None:
    before = store_with_events.read_all()
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert store_with_events.read_all() == before


@pytest.mark.postgres
def test_truncating_the_events_table_is_rejected_on_postgresql(postgres_engine: Engine) -> None:
    store = make_store(postgres_engine)
    append(store, "s-1", 0, [NewEvent("a", 1, {}, {})], recorded_at=T0)
    with pytest.raises(DatabaseError, match="append-only"), postgres_engine.begin() as conn:
        conn.execute(text("TRUNCATE events"))
    assert len(store.read_all()) == 1


def test_a_duplicate_stream_version_is_rejected_by_the_unique_index(
    engine: Engine, store_with_events: SqlStore
) -> None:
    insert = text(
        "INSERT INTO events (position, stream_id, stream_version, event_type, schema_version, "
        "data, metadata, recorded_at, hash) VALUES (99, 's-1', 2, 'c', 1, '{}', '{}', "
        "'2026-01-01T00:00:00+00:00', 'x')"
    )
    with pytest.raises(DatabaseError), engine.begin() as conn:
        conn.execute(insert)
    assert len(store_with_events.read_stream("s-1")) == 2
