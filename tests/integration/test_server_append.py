"""PostgreSQL appends a command in one call; a writer in between is retried or refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from service.advice.trajectories import MAX_ATTEMPTS, Actor, CommandContext, trajectory_stream
from service.audit.verify import verify
from service.bootstrap import Container, bootstrap
from service.settings import Settings
from service.store import log
from service.store.driver import Driver
from service.store.events import ConcurrencyError, NewEvent
from service.store.migrate import upgrade
from tests.conftest import enrolled_pupil
from tests.store_helpers import append
from workflows.commands import GiveProvisionalAdvice
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice

pytestmark = pytest.mark.postgres
CTX = CommandContext(actor=Actor("leerkracht-1", "leerkracht"))
GIVE = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))


@pytest.fixture
def pg(postgres_schema_url: str) -> Iterator[Container]:
    c = bootstrap(
        Settings(database_url=postgres_schema_url),
        clock=lambda: datetime(2026, 1, 20, 10, tzinfo=UTC),
    )
    upgrade(c.engine)
    yield c
    c.close()


def a_colleague_writes_after_every_read(
    pg: Container, monkeypatch: pytest.MonkeyPatch, times: int = 1
) -> list[int]:
    """After the handler's read, a colleague records the voorlopig advies first (only where she
    can: a read under the log's lock, in a transaction, keeps her waiting until it is done)."""
    read = log.read_for_command
    raced: list[int] = []

    def read_then_race(io: Driver, stream_id: str, *args: Any) -> Any:
        result = read(io, stream_id, *args)
        locked = io.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        if len(raced) < times and not locked:
            raced.append(1)
            version = len(result[0])
            append(
                pg.store,
                stream_id,
                version,
                [
                    NewEvent(
                        "provisional_advice_given",
                        2,
                        {"advice": "VWO", "given_on": "2026-01-14", "timeliness": "on_time"},
                        {"actor": "collega", "role": "leerkracht"},
                    )
                ],
                recorded_at=pg.clock(),
            )
        return result

    monkeypatch.setattr(log, "read_for_command", read_then_race)
    return raced


def test_a_command_is_one_call_and_keeps_the_chain(pg: Container) -> None:
    pupil = enrolled_pupil(pg)
    result = pg.trajectories.execute(pupil, GIVE, CTX)
    assert result.event_types == ["provisional_advice_given"]
    assert pg.store.head()[0] == result.positions[-1]
    assert verify(pg.store).ok


def test_without_if_match_the_command_is_decided_again_on_the_fresh_stream(
    pg: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pupil = enrolled_pupil(pg)
    a_colleague_writes_after_every_read(pg, monkeypatch)
    with pytest.raises(DomainError) as raised:
        pg.trajectories.execute(pupil, GIVE, CTX)
    assert raised.value.code == "not_allowed_in_state", "the retry saw the colleague's advice"
    monkeypatch.undo()
    actors = [e.metadata["actor"] for e in pg.store.read_stream(trajectory_stream(pupil))]
    assert actors == ["t", "collega"]
    assert verify(pg.store).ok


def test_without_if_match_a_pupil_raced_on_every_read_is_decided_under_the_lock_at_last(
    pg: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pupil = enrolled_pupil(pg)
    raced = a_colleague_writes_after_every_read(pg, monkeypatch, times=10)
    with pytest.raises(DomainError) as raised:  # an answer on the real stream, not a 409
        pg.trajectories.execute(pupil, GIVE, CTX)
    assert raised.value.code == "not_allowed_in_state"
    assert len(raced) == MAX_ATTEMPTS - 1, "only the optimistic reads could be raced"
    assert verify(pg.store).ok


def test_with_if_match_a_writer_in_between_is_a_conflict(
    pg: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pupil = enrolled_pupil(pg)
    a_colleague_writes_after_every_read(pg, monkeypatch)
    with pytest.raises(ConcurrencyError) as raised:
        pg.trajectories.execute(pupil, GIVE, CTX, expected_version=1)
    assert (raised.value.expected_version, raised.value.current_version) == (1, 2)
    assert verify(pg.store).ok


def test_a_retried_key_returns_the_first_answer_through_the_server_path(pg: Container) -> None:
    pupil = enrolled_pupil(pg)
    first = pg.trajectories.execute(pupil, GIVE, CTX, idempotency_key="retry-1")
    again = pg.trajectories.execute(pupil, GIVE, CTX, idempotency_key="retry-1")
    assert again.replayed
    assert again.response() == first.response()
    assert len(pg.store.read_stream(trajectory_stream(uuid.UUID(str(pupil))))) == 2
