"""One contract for the store's port, subclassed per adapter: in memory, SQLite and PostgreSQL.

Every test goes through the port as production does (`session`, `load`, `commit`): one stream
(the PostgreSQL server function), many streams below and above the COPY threshold, with the
read-model rows, outbox rows and remembered answers that join them. The concurrency of the
production paths (handler, batch, COPY, four writers and a follower) is in test_concurrency.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, func, select

from service.audit.verify import verify
from service.outbox.outbox import insert_rows
from service.projections.trajectories import TRAJECTORIES, row
from service.store.events import ConcurrencyError, NewEvent, StoredEvent
from service.store.hashing import GENESIS_HASH, rehash
from service.store.keys import KeyRing
from service.store.memory import InMemoryEventStore
from service.store.port import (
    Append,
    EventStore,
    KeyTakenError,
    Outbox,
    UnitOfWork,
    answer,
)
from service.store.postgres import COPY_THRESHOLD
from service.store.schema import idempotency_keys, outbox, pupil_keys, trajectories
from service.store.sql import SqlStore, make_store
from tests.conftest import empty_database, migrated_engine
from workflows.trajectory import Trajectory

T0 = datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)
AWKWARD = ["tab\there", "line\nbreak", "back\\slash", 'quote"d', "crlf\r\n", "één — ✓", "\\N"]
OUTBOX = Outbox({"something_happened": "contract_topic"}, insert_rows)
ROOT = Path(__file__).parents[2]


def new(n: int, **data: object) -> NewEvent:
    return NewEvent(
        event_type="something_happened",
        schema_version=1,
        data={"n": n, "text": "één advies — zienswijze", **data},
        metadata={"actor": "leerkracht-1", "role": "leerkracht", "request_id": f"r{n}"},
    )


def read_row(stream_id: str) -> dict[str, Any]:
    return row(stream_id, Trajectory(), 0)


def commit(store: EventStore, *appends: Append, exclusive: bool = False) -> list[StoredEvent]:
    with store.session(exclusive=exclusive) as session:
        return session.commit(UnitOfWork(T0, list(appends), read_model=TRAJECTORIES, outbox=OUTBOX))


class StoreContract:
    """What every adapter keeps. Subclasses give `store` and say what they can show."""

    sql: ClassVar[bool] = True

    @pytest.fixture
    def store(self) -> Iterator[EventStore]:
        raise NotImplementedError

    # What each adapter holds besides the log, read the adapter's own way.
    def side_tables(self, store: EventStore) -> tuple[int, int, int]:
        """(read-model rows, outbox rows, remembered answers)"""
        if isinstance(store, InMemoryEventStore):
            state = store.state
            return (
                len(state.read_models.get("trajectories", {})),
                len(state.outbox),
                len(state.remembered),
            )
        assert isinstance(store, SqlStore)
        with store.engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (trajectories, outbox, idempotency_keys)
            )

    def test_committed_events_read_back_in_order_with_versions_and_positions(
        self, store: EventStore
    ) -> None:
        stored = commit(store, Append("s-1", 0, [new(1), new(2)]))
        assert [e.stream_version for e in stored] == [1, 2]
        read = store.read_stream("s-1")
        assert read == stored
        assert [e.data["n"] for e in read] == [1, 2]
        assert read[0].metadata["role"] == "leerkracht"
        assert read[0].recorded_at == T0
        assert store.stream_version("s-1") == 2
        assert store.stream_version("s-unknown") == 0
        with store.session() as session:
            loaded = session.load(["s-1", "s-unknown"])
        assert (loaded.version("s-1"), loaded.version("s-unknown")) == (2, 0)

    @pytest.mark.parametrize("exclusive", [False, True])
    def test_a_stale_expected_version_is_a_conflict_with_the_current_version_and_nothing_stays(
        self, store: EventStore, exclusive: bool
    ) -> None:
        commit(store, Append("s-1", 0, [new(1)], read_model_row=read_row("s-1")))
        before = (store.read_all(), self.side_tables(store), store.head())
        with pytest.raises(ConcurrencyError) as raised:
            commit(
                store,
                Append("s-2", 0, [new(2)], read_model_row=read_row("s-2"), idempotency=("k", "f")),
                Append("s-1", 0, [new(3)]),
                exclusive=exclusive,
            )
        assert (raised.value.stream_id, raised.value.expected_version) == ("s-1", 0)
        assert raised.value.current_version == 1
        assert (store.read_all(), self.side_tables(store), store.head()) == before

    def test_the_global_log_orders_all_streams_by_position_and_pages(
        self, store: EventStore
    ) -> None:
        commit(store, Append("a", 0, [new(1)]))
        commit(store, Append("b", 0, [new(2), new(3)]))
        commit(store, Append("a", 1, [new(4)]))
        log = store.read_all()
        assert [e.data["n"] for e in log] == [1, 2, 3, 4]
        assert [e.position for e in log] == sorted(e.position for e in log)
        assert [e.data["n"] for e in store.read_all(after=log[1].position, limit=1)] == [3]
        assert [f.position for f in store.read_facts(after=0, limit=10)] == [
            e.position for e in log
        ]

    def test_every_event_is_hash_chained_to_the_one_before_and_the_head_is_the_last(
        self, store: EventStore
    ) -> None:
        commit(store, Append("a", 0, [new(1)]))
        commit(store, Append("b", 0, [new(2), new(3)]), Append("a", 1, [new(4)]))
        previous = GENESIS_HASH
        for event in store.read_all():
            assert event.hash == rehash(event, previous)
            previous = event.hash
        assert store.head() == (store.read_all()[-1].position, previous)

    def test_a_stored_event_cannot_be_changed_through_the_objects_given_or_returned(
        self, store: EventStore
    ) -> None:
        data = {"n": 1}
        commit(store, Append("a", 0, [NewEvent("x", 1, data, {})]))
        data["n"] = 2
        assert store.read_stream("a")[0].data == {"n": 1}

    @pytest.mark.parametrize("streams", [50, 150], ids=["below-copy", "above-copy"])
    def test_a_batch_stores_every_value_with_its_rows_in_one_commit(
        self, store: EventStore, streams: int
    ) -> None:
        """4 events per stream: 200 (one multi-row insert) and 600 (COPY on PostgreSQL)."""
        commit(store, Append("s-0", 0, [new(0)]))
        appends = [
            Append(
                f"s-{k}",
                1 if k == 0 else 0,
                [new(k * 10 + i, odd=AWKWARD[(k + i) % len(AWKWARD)]) for i in range(4)],
                read_model_row=read_row(f"s-{k}"),
                idempotency=(f"key-{k}", f"print-{k}"),
            )
            for k in range(streams)
        ]
        assert (streams * 4 >= COPY_THRESHOLD) == (streams == 150)
        stored = commit(store, *appends, exclusive=True)
        assert len(stored) == streams * 4
        assert [e.position for e in stored] == list(range(2, streams * 4 + 2))
        assert store.read_all(after=1, limit=1000) == stored
        assert store.read_stream("s-0")[1].data["odd"] == AWKWARD[0]
        assert store.head() == (streams * 4 + 1, stored[-1].hash)
        assert self.side_tables(store) == (streams, streams * 4 + 1, streams)
        with store.session() as session:
            loaded = session.load(["s-3"], ["key-3", "key-unknown"])
        assert loaded.remembered == {"key-3": ("print-3", answer(0, stored[12:16]))}
        assert verify(store).ok

    def test_one_stream_twice_in_a_unit_goes_after_its_own_first_part(
        self, store: EventStore
    ) -> None:
        stored = commit(
            store, Append("a", 0, [new(1)]), Append("b", 0, [new(2)]), Append("a", 1, [new(3)])
        )
        assert [(e.stream_id, e.stream_version) for e in stored] == [("a", 1), ("b", 1), ("a", 2)]

    def test_a_remembered_key_is_taken_and_a_second_commit_with_it_stores_nothing(
        self, store: EventStore
    ) -> None:
        first = commit(store, Append("a", 0, [new(1)], idempotency=("try-1", "print")))
        before = (store.read_all(), self.side_tables(store))
        with pytest.raises(KeyTakenError):
            commit(store, Append("b", 0, [new(2)], idempotency=("try-1", "print")))
        assert (store.read_all(), self.side_tables(store)) == before
        with store.session() as session:
            assert session.load(["a"], ["try-1"]).remembered["try-1"] == (
                "print",
                answer(0, first),
            )

    def test_a_key_without_events_remembers_an_empty_answer(self, store: EventStore) -> None:
        commit(store, Append("a", 0, [new(1)]))
        commit(store, Append("a", 1, [], idempotency=("noop", "print")))
        with store.session() as session:
            loaded = session.load(["a"], ["noop"])
        assert loaded.remembered["noop"] == (
            "print",
            {"stream_version": 1, "event_types": [], "positions": []},
        )

    def test_a_pupil_key_is_made_once_and_read_back(self, store: EventStore) -> None:
        with store.session() as session:
            key = session.pupil_key("p-1")
            assert session.pupil_key("p-1") == key
        assert store.pupil_keys(["p-1", "p-2"]) == {"p-1": key}
        with store.session() as session:
            assert session.load(["x"], [], ["p-1"]).keys == {"p-1": key}
        assert store.erase_pupil_key("p-1")
        assert store.pupil_keys(["p-1"]) == {}


class TestInMemoryStore(StoreContract):
    sql = False

    @pytest.fixture
    def store(self) -> EventStore:
        return InMemoryEventStore()


class SqlContract(StoreContract):
    """What only a SQL adapter can show: rows of the use case's own, keys wrapped, races, a
    process killed mid-commit."""

    backend: ClassVar[str]

    @pytest.fixture
    def engine(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
        with migrated_engine(empty_database(self.backend, request, tmp_path)) as engine:
            yield engine

    @pytest.fixture
    def store(self, engine: Engine) -> EventStore:
        return make_store(engine, KeyRing.generate())

    def test_a_failing_row_of_the_use_case_takes_the_whole_unit_with_it(
        self, store: SqlStore
    ) -> None:
        commit(store, Append("a", 0, [new(1)]))
        before = (store.read_all(), self.side_tables(store), store.head())

        def register_row(driver: Any, stored: list[StoredEvent]) -> None:
            assert [e.stream_id for e in stored] == ["b", "a"]
            driver.run("INSERT INTO no_such_table VALUES (1)")

        with (
            pytest.raises(Exception, match=r"(?i)no_such_table|does not exist"),
            store.session() as session,
        ):
            session.commit(
                UnitOfWork(
                    T0,
                    [
                        Append("b", 0, [new(2)], read_model_row=read_row("b")),
                        Append("a", 1, [new(3)], idempotency=("k", "f")),
                    ],
                    read_model=TRAJECTORIES,
                    outbox=OUTBOX,
                    joined=[register_row],
                )
            )
        assert (store.read_all(), self.side_tables(store), store.head()) == before

    def test_pupil_keys_are_stored_wrapped_by_a_key_outside_the_database(
        self, store: SqlStore
    ) -> None:
        with store.session() as session:
            key = session.pupil_key("p-1")
        with store.engine.connect() as conn:
            stored = bytes(conn.execute(select(pupil_keys.c.key)).scalar_one())
        assert key not in stored
        assert len(key) == 32
        other = make_store(store.engine, KeyRing.generate())
        with pytest.raises(Exception):  # noqa: B017,PT011 - another key ring cannot open it
            other.pupil_keys(["p-1"])

    def test_ten_sessions_asking_for_a_new_pupils_key_at_once_all_get_the_same(
        self, store: SqlStore
    ) -> None:
        keys: list[bytes] = []
        start = threading.Barrier(10)

        def ask() -> None:
            start.wait()
            with store.session() as session:
                keys.append(session.pupil_key("p-race"))

        threads = [threading.Thread(target=ask) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(keys) == 10
        assert len(set(keys)) == 1

    def test_one_key_committed_by_eight_writers_at_once_is_taken_by_exactly_one(
        self, store: SqlStore
    ) -> None:
        outcomes: list[str] = []
        start = threading.Barrier(8)

        def write(n: int) -> None:
            start.wait()
            try:
                commit(store, Append(f"s-{n}", 0, [new(n)], idempotency=("same", "print")))
                outcomes.append("stored")
            except KeyTakenError:
                outcomes.append("taken")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["stored"] + ["taken"] * 7
        assert len(store.read_all()) == 1

    def test_a_process_killed_in_the_middle_of_a_commit_leaves_nothing(
        self, store: SqlStore, engine: Engine
    ) -> None:
        commit(store, Append("a", 0, [new(1)]))
        before = (store.read_all(), self.side_tables(store), store.head())
        url = engine.url.render_as_string(hide_password=False)
        killed = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.commit_killer", url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert killed.stdout is not None
        assert killed.stdout.readline().strip() == "inside the commit"  # events sent, not done
        killed.kill()
        killed.communicate(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # PostgreSQL notices the dropped connection
            try:
                commit(store, Append("a", 1, [new(2)]))
                break
            except Exception:
                time.sleep(0.2)
        after = store.read_all()
        assert after[:-1] == before[0], "nothing of the killed commit"
        assert len(after) == 2
        assert after[-1].position == 2
        assert verify(store).ok


class TestSqliteStore(SqlContract):
    backend = "sqlite"


@pytest.mark.postgres
class TestPostgresStore(SqlContract):
    backend = "postgres"
