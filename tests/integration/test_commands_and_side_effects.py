"""A command's events, read model, outbox rows and idempotency key commit together, or not."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext, trajectory_stream
from service.audit.verify import verify
from service.bootstrap import Container
from service.outbox.outbox import ROUTES
from service.schools.register import Pupil, School
from service.store import personal
from service.store.events import ConcurrencyError, IdempotencyConflictError, NewEvent
from service.store.port import Append, UnitOfWork
from service.store.schema import events, outbox, trajectories
from tests.conftest import Clock, enrolled_pupil
from tests.store_helpers import append
from workflows.commands import (
    EnrolPupil,
    GiveProvisionalAdvice,
    KeepAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty, KeepReason
from workflows.scale import SchoolAdvice, TestAdvice

CTX = CommandContext(actor=Actor("leerkracht-1", "leerkracht"), request_id="r-1")


def count(container: Container, table: object) -> int:
    with container.engine.connect() as conn:
        total: int = conn.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[arg-type]
        return total


def test_a_retried_command_returns_the_first_result_and_appends_nothing(
    container: Container,
) -> None:
    pupil = enrolled_pupil(container)
    give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    first = container.trajectories.execute(pupil, give, CTX, idempotency_key="k-1")
    before = count(container, events)
    again = container.trajectories.execute(pupil, give, CTX, idempotency_key="k-1")
    assert again.replayed
    assert again.response() == first.response()
    assert count(container, events) == before
    other = GiveProvisionalAdvice(advice=SchoolAdvice.VWO, given_on=date(2026, 1, 15))
    with pytest.raises(IdempotencyConflictError):
        container.trajectories.execute(pupil, other, CTX, idempotency_key="k-1")
    assert count(container, events) == before


def test_the_read_model_is_current_when_the_command_returns(container: Container) -> None:
    pupil = enrolled_pupil(container)
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX
    )
    with container.engine.connect() as conn:
        row = conn.execute(
            select(trajectories).where(trajectories.c.stream_id == trajectory_stream(pupil))
        ).one()
    assert (row.status, row.provisional_advice, row.version) == ("awaiting_test_result", "HAVO", 2)


def heroverweging(container: Container, clock: Clock, pupil: uuid.UUID) -> None:
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX
    )
    clock.now = clock.now.replace(month=3, day=12)
    container.trajectories.execute(
        pupil,
        ReceiveTestResult(
            provider="IEP",
            delivery_id="d1",
            test_advice=TestAdvice.VWO,
            received_on=date(2026, 3, 11),
        ),
        CTX,
    )


def test_a_heroverweging_puts_a_message_in_the_outbox_with_its_event(
    container: Container, clock: Clock
) -> None:
    pupil = enrolled_pupil(container)
    heroverweging(container, clock, pupil)
    with container.engine.connect() as conn:
        messages = conn.execute(select(outbox).order_by(outbox.c.id)).all()
        routed = conn.execute(
            select(events.c.event_type, events.c.position)
            .where(events.c.event_type.in_(list(ROUTES)))
            .order_by(events.c.position)
        ).all()
    # the enrolment and the advice go to the test provider, the heroverweging to the school
    assert [m.topic for m in messages] == [
        "chain_participant",
        "chain_provisional_advice",
        "notify_reconsideration_required",
    ]
    assert [m.position for m in messages] == [r.position for r in routed]


def test_when_a_side_effect_fails_the_events_are_not_stored_either(container: Container) -> None:
    pupil = enrolled_pupil(container)
    before = count(container, events)
    with container.engine.begin() as conn:
        conn.execute(text("DROP TABLE trajectories"))
    with pytest.raises(Exception, match="trajectories"):
        container.trajectories.execute(
            pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX
        )
    assert count(container, events) == before
    assert container.store.head()[0] == before


def test_free_text_is_sealed_in_the_log_and_erasing_the_pupil_leaves_a_valid_chain(
    container: Container, clock: Clock
) -> None:
    container.register.add_school(School("school-1", "99ZZ", "Testschool"))
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), "school-1", "Noor", "de Vries"))
    heroverweging(container, clock, pupil)
    secret = "Noor plant haar werk nog niet zelfstandig."
    container.trajectories.execute(
        pupil,
        RecordConversationHeld(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,)),
        CTX,
    )
    container.trajectories.execute(
        pupil,
        KeepAdvice(
            decided_on=date(2026, 3, 12), reason=KeepReason.WORK_ATTITUDE, motivation=secret
        ),
        CTX,
    )
    stored = container.store.read_stream(trajectory_stream(pupil))
    assert all(secret not in str(e.data) for e in stored)
    assert container.trajectories.load(pupil).decision is not None
    [kept] = [e for e in container.trajectories.history(pupil) if e.event_type == "advice_kept"]
    assert kept.motivation == secret  # type: ignore[attr-defined]

    assert container.register.erase_pupil(str(pupil))
    assert container.register.pupil(str(pupil)) is None
    [kept] = [e for e in container.trajectories.history(pupil) if e.event_type == "advice_kept"]
    assert kept.motivation == personal.ERASED  # type: ignore[attr-defined]
    assert container.trajectories.load(pupil).status.value == "reconsideration_required"
    assert container.store.read_stream(trajectory_stream(pupil)) == stored
    assert verify(container.store).ok


def test_an_event_stored_in_an_old_shape_loads_through_its_upcaster(
    container: Container,
) -> None:
    pupil = enrolled_pupil(container)
    append(
        container.store,
        trajectory_stream(pupil),
        1,
        [
            NewEvent(
                "provisional_advice_given",
                1,
                {"advice": "havo/vwo", "given_on": "2026-01-12"},
                {"actor": "pilot", "role": "leerkracht"},
            )
        ],
        recorded_at=container.clock(),
    )
    state = container.trajectories.load(pupil)
    assert state.provisional_advice is not None
    assert state.provisional_advice.advice is SchoolAdvice.HAVO_TM_VWO


def test_a_commit_after_a_stale_read_is_refused_with_the_current_version(
    container: Container,
) -> None:
    pupil = enrolled_pupil(container)
    stream = trajectory_stream(pupil)
    late = NewEvent("x", 1, {}, {})
    unit = UnitOfWork(container.clock(), [Append(stream, 0, [late])])  # read before enrolment
    with pytest.raises(ConcurrencyError) as raised, container.store.session() as session:
        session.commit(unit)
    assert raised.value.current_version == 1
    assert len(container.store.read_stream(stream)) == 1
    assert verify(container.store).ok


def test_the_worker_mails_the_school_once_when_a_heroverweging_is_needed(
    container: Container, clock: Clock
) -> None:
    container.register.add_school(School("school-1", "99ZZ", "Testschool"))
    container.accounts.add_user("ib@school.nl", "Ilse Bakker", Role.IB, [Scope("school-1")])
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), "school-1", "Daan", "Jansen"))
    heroverweging(container, clock, pupil)
    worker = container.outbox_worker()
    # the notice (one mail per recipient: tests/e2e/test_notices.py); enrolment and advice:
    # no chain link, nothing sent
    assert worker.run_once() == 3
    assert worker.run_once() == 1  # the IB's mail
    assert worker.run_once() == 0
    [mail] = sorted(container.settings.mail_dir.glob("*.eml"))
    text = mail.read_text(encoding="utf-8")
    assert "To: ib@school.nl" in text
    assert "Subject: Heroverweging nodig: een leerling\n" in text
    assert "Voor een leerling (Testschool) is een heroverweging" in text
    assert "Jansen" not in text
    assert "24-03-2026" in text
    assert worker.status().done == 4


def test_enrolling_with_expected_version_zero_refuses_a_pupil_who_already_has_a_history(
    container: Container,
) -> None:
    enrol = EnrolPupil(
        school_id="school-1", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    fresh = uuid.uuid4()
    result = container.trajectories.execute_all(fresh, [enrol, give], CTX, expected_version=0)
    assert result.stream_version == 2
    assert container.trajectories.load(fresh).provisional_advice is not None
    before = count(container, events), count(container, trajectories)
    with pytest.raises(ConcurrencyError) as raised:
        container.trajectories.execute_all(fresh, [enrol], CTX, expected_version=0)
    assert (raised.value.expected_version, raised.value.current_version) == (0, 2)
    assert (count(container, events), count(container, trajectories)) == before
    assert verify(container.store).ok
