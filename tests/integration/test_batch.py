"""Many pupils' commands in one transaction (imports, the intake worker): each item is decided
on its own, the accepted ones are stored with their read-model rows and outbox messages, the
refused ones change nothing, and an error in the block leaves the store as it was."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from service.advice.batch import BatchItem
from service.advice.trajectories import Actor, CommandContext, trajectory_stream
from service.audit.verify import verify
from service.bootstrap import Container
from service.projections.rebuild import rebuild
from service.store.events import ConcurrencyError, IdempotencyConflictError
from service.store.schema import idempotency_keys, outbox, trajectories
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import EnrolPupil, GiveProvisionalAdvice, ReceiveTestResult
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice, TestAdvice

CTX = CommandContext(actor=Actor("import-1", "beheer"), extra={"import": "test"})
MARCH = datetime(2026, 3, 11, 9, tzinfo=UTC)


def advised(container: Container, clock: Clock, advice: SchoolAdvice) -> uuid.UUID:
    clock.now = datetime(2026, 1, 15, 9, tzinfo=UTC)
    pupil = enrolled_pupil(container)
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=advice, given_on=date(2026, 1, 15)), CTX
    )
    return pupil


def result(advice: TestAdvice, delivery: str = "d-1") -> ReceiveTestResult:
    return ReceiveTestResult(
        provider="IEP", delivery_id=delivery, test_advice=advice, received_on=MARCH.date()
    )


def table(container: Container, name: Any) -> list[dict[str, Any]]:
    with container.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(name))]


def count(container: Container, name: Any) -> int:
    with container.engine.connect() as conn:
        total: int = conn.execute(select(func.count()).select_from(name)).scalar_one()
        return total


def test_each_item_is_decided_on_its_own_and_the_accepted_ones_are_stored_with_their_rows(
    container: Container, clock: Clock
) -> None:
    higher = advised(container, clock, SchoolAdvice.HAVO)
    equal = advised(container, clock, SchoolAdvice.VMBO_GLTL_TM_HAVO)
    no_advice = enrolled_pupil(container)
    new = uuid.uuid4()
    before = {p: container.store.stream_version(trajectory_stream(p)) for p in (no_advice,)}
    clock.now = MARCH
    enrol = EnrolPupil(
        school_id="school-1", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    with container.trajectories.batch() as batch:
        outcomes = batch.execute(
            [
                BatchItem(higher, [result(TestAdvice.VWO)], CTX),
                BatchItem(equal, [result(TestAdvice.VMBO_GLTL_HAVO)], CTX),
                BatchItem(no_advice, [result(TestAdvice.VWO)], CTX),
                # one pupil twice: the second item is decided on what the first left
                BatchItem(new, [enrol], CTX, expected_version=0),
                BatchItem(
                    new,
                    [GiveProvisionalAdvice(advice=SchoolAdvice.VWO, given_on=MARCH.date())],
                    CTX,
                    expected_version=1,
                ),
            ]
        )
    assert [o.accepted for o in outcomes] == [True, True, False, True, True]
    assert outcomes[0].event_types == ["test_result_received", "reconsideration_required"]
    assert outcomes[1].event_types[0] == "test_result_received"
    assert "reconsideration_required" not in outcomes[1].event_types
    assert isinstance(outcomes[2].error, DomainError)
    assert outcomes[3].event_types == ["pupil_enrolled"]
    assert outcomes[4].stream_version == 2

    stored = container.store.read_stream(trajectory_stream(higher))
    assert [e.event_type for e in stored[-2:]] == outcomes[0].event_types
    assert [e.position for e in stored[-2:]] == outcomes[0].positions
    assert stored[-1].metadata == {"actor": "import-1", "role": "beheer", "import": "test"}
    assert container.store.stream_version(trajectory_stream(no_advice)) == before[no_advice]
    assert container.trajectories.load(new).provisional_advice is not None

    # the read model is what a rebuild from the log gives, row for row
    live = sorted(table(container, trajectories), key=lambda r: r["stream_id"])
    status = {r["stream_id"]: r["status"] for r in live}
    assert status[trajectory_stream(higher)] == "reconsideration_required"
    assert status[trajectory_stream(new)] == "awaiting_test_result"
    rebuild(container.engine, "trajectories")
    assert sorted(table(container, trajectories), key=lambda r: r["stream_id"]) == live
    # outbox messages for the routed events, and an unbroken chain
    positions = set(outcomes[0].positions)
    routed = [r for r in table(container, outbox) if r["position"] in positions]
    assert routed, "the heroverweging goes to the outbox with its events"
    assert verify(container.store).ok


def test_an_error_in_the_block_leaves_the_store_as_it_was(
    container: Container, clock: Clock
) -> None:
    pupil = advised(container, clock, SchoolAdvice.HAVO)
    head, rows, messages = (
        container.store.head(),
        table(container, trajectories),
        count(container, outbox),
    )
    clock.now = MARCH
    accepted = []

    def import_that_fails() -> None:
        with container.trajectories.batch() as batch:
            accepted.extend(batch.execute([BatchItem(pupil, [result(TestAdvice.VWO)], CTX)]))
            raise RuntimeError("the import found a bad row after all")

    with pytest.raises(RuntimeError):
        import_that_fails()
    assert accepted[0].event_types, "the item was decided and appended inside the block"
    assert container.store.head() == head
    assert table(container, trajectories) == rows
    assert count(container, outbox) == messages


def test_an_idempotency_key_replays_its_first_answer_and_refuses_another_request(
    container: Container, clock: Clock
) -> None:
    pupil = advised(container, clock, SchoolAdvice.HAVO)
    clock.now = MARCH
    item = BatchItem(pupil, [result(TestAdvice.VWO)], CTX, idempotency_key="k-1", fingerprint="a")
    with container.trajectories.batch() as batch:
        first = batch.execute([item])[0]
    head = container.store.head()
    other = BatchItem(pupil, [result(TestAdvice.VWO, "d-2")], CTX, "k-1", fingerprint="b")
    with container.trajectories.batch() as batch:
        again, conflict = batch.execute([item, other])
    assert again.replayed
    assert (again.stream_version, again.event_types, again.positions) == (
        first.stream_version,
        first.event_types,
        first.positions,
    )
    assert isinstance(conflict.error, IdempotencyConflictError)
    assert container.store.head() == head
    assert count(container, idempotency_keys) == 1


def test_a_stale_expected_version_is_that_items_conflict(
    container: Container, clock: Clock
) -> None:
    pupil = advised(container, clock, SchoolAdvice.HAVO)
    clock.now = MARCH
    with container.trajectories.batch() as batch:
        (outcome,) = batch.execute(
            [BatchItem(pupil, [result(TestAdvice.VWO)], CTX, expected_version=1)]
        )
    assert isinstance(outcome.error, ConcurrencyError)
    assert container.store.stream_version(trajectory_stream(pupil)) == 2


def test_one_idempotency_key_twice_in_one_call_is_a_programming_error(
    container: Container, clock: Clock
) -> None:
    pupil = advised(container, clock, SchoolAdvice.HAVO)
    clock.now = MARCH
    item = BatchItem(pupil, [result(TestAdvice.VWO)], CTX, idempotency_key="k-1", fingerprint="a")
    head = container.store.head()
    with pytest.raises(ValueError, match="idempotency key"), container.trajectories.batch() as b:
        b.execute([item, item])
    assert container.store.head() == head
