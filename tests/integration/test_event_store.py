"""One contract for every event store: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.audit.verify import verify
from service.store.events import ConcurrencyError, NewEvent
from service.store.hashing import GENESIS_HASH, chain_hash
from service.store.memory import InMemoryEventStore
from service.store.port import Append, EventStore, UnitOfWork
from service.store.sql import make_store
from tests.conftest import BACKENDS, empty_database, migrated_engine
from tests.store_helpers import append

T0 = datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)


def new(n: int, **data: object) -> NewEvent:
    return NewEvent(
        event_type="something_happened",
        schema_version=1,
        data={"n": n, "text": "één advies — zienswijze", **data},
        metadata={"actor": "leerkracht-1", "role": "leerkracht", "request_id": f"r{n}"},
    )


@pytest.fixture(params=["memory", *BACKENDS])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    with migrated_engine(empty_database(request.param, request, tmp_path)) as engine:
        yield make_store(engine)


def test_appended_events_read_back_in_order_with_versions_and_positions(
    store: EventStore,
) -> None:
    stored = append(store, "s-1", 0, [new(1), new(2)], recorded_at=T0)
    assert [e.stream_version for e in stored] == [1, 2]
    read = store.read_stream("s-1")
    assert read == stored
    assert [e.data["n"] for e in read] == [1, 2]
    assert read[0].metadata["role"] == "leerkracht"
    assert read[0].recorded_at == T0
    assert store.stream_version("s-1") == 2
    assert store.stream_version("s-unknown") == 0


def test_an_append_with_a_stale_expected_version_fails_and_leaves_the_stream_unchanged(
    store: EventStore,
) -> None:
    append(store, "s-1", 0, [new(1)], recorded_at=T0)
    before = store.read_stream("s-1")
    with pytest.raises(ConcurrencyError) as raised:
        append(store, "s-1", 0, [new(2), new(3)], recorded_at=T0)
    assert (raised.value.expected_version, raised.value.current_version) == (0, 1)
    assert store.read_stream("s-1") == before
    assert store.read_all() == before


def test_an_append_without_expected_version_goes_at_the_end(store: EventStore) -> None:
    append(store, "s-1", 0, [new(1)], recorded_at=T0)
    [second] = append(store, "s-1", None, [new(2)], recorded_at=T0)
    assert second.stream_version == 2


def test_the_global_log_orders_all_streams_by_position_and_pages(store: EventStore) -> None:
    append(store, "a", 0, [new(1)], recorded_at=T0)
    append(store, "b", 0, [new(2), new(3)], recorded_at=T0 + timedelta(seconds=1))
    append(store, "a", 1, [new(4)], recorded_at=T0 + timedelta(seconds=2))
    log = store.read_all()
    assert [e.data["n"] for e in log] == [1, 2, 3, 4]
    positions = [e.position for e in log]
    assert positions == sorted(positions)
    assert [e.data["n"] for e in store.read_all(after=positions[1], limit=1)] == [3]


def test_every_event_is_hash_chained_to_the_one_before(store: EventStore) -> None:
    append(store, "a", 0, [new(1)], recorded_at=T0)
    append(store, "b", 0, [new(2), new(3)], recorded_at=T0)
    previous = GENESIS_HASH
    for event in store.read_all():
        expected = chain_hash(
            previous,
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            event_type=event.event_type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=event.metadata,
            recorded_at=event.recorded_at,
        )
        assert event.hash == expected
        previous = event.hash


def test_a_stored_event_cannot_be_changed_through_the_objects_the_store_returns(
    store: EventStore,
) -> None:
    data = {"n": 1}
    append(store, "a", 0, [NewEvent("x", 1, data, {})], recorded_at=T0)
    data["n"] = 2
    assert store.read_stream("a")[0].data == {"n": 1}


AWKWARD = ["tab\there", "line\nbreak", "back\\slash", 'quote"d', "crlf\r\n", "één — ✓", "\\N"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bulk_append_stores_every_value_exactly_and_keeps_the_chain_verifiable(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # 150 streams x 4 events: above the size where PostgreSQL switches to COPY.
    batches = [
        (f"s-{k}", 0, [new(k * 10 + i, odd=AWKWARD[(k + i) % len(AWKWARD)]) for i in range(4)])
        for k in range(150)
    ]
    with migrated_engine(empty_database(backend, request, tmp_path)) as engine:
        store = make_store(engine)
        append(store, "s-0", 0, [new(0)], recorded_at=T0)
        batches[0] = ("s-0", 1, batches[0][2])
        with store.session(exclusive=True) as session:
            stored = session.commit(UnitOfWork(T0, [Append(s, v, e) for s, v, e in batches]))
        assert len(stored) == 600
        assert [e.position for e in stored] == list(range(2, 602))
        assert store.read_all(after=1, limit=1000) == stored
        assert store.read_stream("s-0")[1].data["odd"] == AWKWARD[0]
        assert store.head() == (601, stored[-1].hash)
        assert verify(store).ok
