"""The command handler on the in-memory store: given events, a command, then the stored events.

No database: `bootstrap(..., store=InMemoryEventStore())` wires the same handler, batch and
port that production uses, so these run in milliseconds and say what the handler itself does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from service.bootstrap import Container, bootstrap
from service.settings import Settings
from service.shared.context import Actor, CommandContext
from service.store.events import ConcurrencyError, IdempotencyConflictError
from service.store.memory import InMemoryEventStore
from service.store.streams import trajectory_stream
from workflows.commands import (
    EnrolPupil,
    GiveProvisionalAdvice,
    KeepAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty, KeepReason
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice, TestAdvice

CTX = CommandContext(actor=Actor("leerkracht-1", "leerkracht"), request_id="r-1")
ENROL = EnrolPupil(school_id="s-1", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25))
HAVO = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 20, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def memory(clock: Clock) -> Iterator[Container]:
    container = bootstrap(
        Settings(database_url="sqlite://"), clock=clock, store=InMemoryEventStore()
    )
    yield container
    container.close()


def store_of(container: Container) -> InMemoryEventStore:
    assert isinstance(container.store, InMemoryEventStore)
    return container.store


def enrolled(container: Container) -> uuid.UUID:
    pupil = uuid.uuid4()
    container.trajectories.execute(pupil, ENROL, CTX, expected_version=0)
    return pupil


def test_a_provisional_advice_is_stored_with_its_read_model_row_and_outbox_message(
    memory: Container,
) -> None:
    pupil = enrolled(memory)
    result = memory.trajectories.execute(pupil, HAVO, CTX)
    assert result.event_types == ["provisional_advice_given"]
    state = store_of(memory).state
    row = state.read_models["trajectories"][trajectory_stream(pupil)]
    assert (row["status"], row["provisional_advice"], row["position"]) == (
        "awaiting_test_result",
        "HAVO",
        result.positions[-1],
    )
    assert [m["topic"] for m in state.outbox] == ["chain_participant", "chain_provisional_advice"]
    assert state.log[-1].metadata["request_id"] == "r-1"


def test_a_refused_command_stores_nothing(memory: Container) -> None:
    pupil = enrolled(memory)
    before = list(store_of(memory).state.log)
    with pytest.raises(DomainError):
        memory.trajectories.execute(
            pupil,
            ReceiveTestResult(
                provider="IEP",
                delivery_id="d1",
                test_advice=TestAdvice.VWO,
                received_on=date(2026, 3, 11),
            ),
            CTX,
        )
    assert store_of(memory).state.log == before


def test_a_retried_command_answers_the_first_time_and_a_changed_one_is_refused(
    memory: Container,
) -> None:
    pupil = enrolled(memory)
    first = memory.trajectories.execute(pupil, HAVO, CTX, idempotency_key="k-1")
    again = memory.trajectories.execute(pupil, HAVO, CTX, idempotency_key="k-1")
    assert again.replayed
    assert again.response() == first.response()
    vwo = GiveProvisionalAdvice(advice=SchoolAdvice.VWO, given_on=date(2026, 1, 15))
    with pytest.raises(IdempotencyConflictError):
        memory.trajectories.execute(pupil, vwo, CTX, idempotency_key="k-1")
    assert len(store_of(memory).state.log) == 2


def test_a_stale_if_match_is_a_conflict_naming_the_current_version(memory: Container) -> None:
    pupil = enrolled(memory)
    with pytest.raises(ConcurrencyError) as raised:
        memory.trajectories.execute(pupil, HAVO, CTX, expected_version=0)
    assert raised.value.current_version == 1


def test_enrolling_a_pupil_twice_is_a_conflict(memory: Container) -> None:
    pupil = enrolled(memory)
    with pytest.raises(ConcurrencyError):
        memory.trajectories.execute(pupil, ENROL, CTX, expected_version=0)


def test_free_text_is_sealed_in_the_log_and_opened_for_the_history(
    memory: Container, clock: Clock
) -> None:
    pupil = enrolled(memory)
    memory.trajectories.execute(pupil, HAVO, CTX)
    clock.now = clock.now.replace(month=3, day=12)
    result = ReceiveTestResult(
        provider="IEP", delivery_id="d1", test_advice=TestAdvice.VWO, received_on=date(2026, 3, 11)
    )
    memory.trajectories.execute(pupil, result, CTX)
    held = RecordConversationHeld(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,))
    memory.trajectories.execute(pupil, held, CTX)
    secret = "Noor werkt hard maar thuis is het onrustig"
    keep = KeepAdvice(
        decided_on=date(2026, 3, 12), reason=KeepReason.WORK_ATTITUDE, motivation=secret
    )
    memory.trajectories.execute(pupil, keep, CTX)
    assert all(secret not in str(e.data) for e in store_of(memory).state.log)
    [kept] = [e for e in memory.trajectories.history(pupil) if e.event_type == "advice_kept"]
    assert secret in str(kept)
    memory.store.erase_pupil_key(str(pupil))
    [erased] = [e for e in memory.trajectories.history(pupil) if e.event_type == "advice_kept"]
    assert secret not in str(erased)
