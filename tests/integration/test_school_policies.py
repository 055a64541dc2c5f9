"""A school's settings in the event store, on SQLite and PostgreSQL: each change one append-only
event on the school's own stream with who and when; `policy_for` per school and school year, the
legal minimum when nothing was set; a stale form changes nothing; another process sees a change
once its cache entry is compared again; the log stays verifiable and the read models ignore the
settings stream; the Decider decides each pupil with their own school's policy."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from service.advice.batch import BatchItem
from service.advice.trajectories import Actor, CommandContext, Trajectories
from service.audit.verify import verify
from service.bootstrap import Container
from service.projections.rebuild import rebuild
from service.schools.policies import (
    SchoolPolicies,
    SettingsStaleError,
    read_settings,
    settings_stream,
)
from tests.conftest import Clock
from workflows.calendar import SchoolYear
from workflows.commands import (
    EnrolPupil,
    GiveFinalAdvice,
    GiveProvisionalAdvice,
    RaiseAdvice,
    ReceiveTestResult,
)
from workflows.cycles import SEED_CYCLES
from workflows.policy import Notice, Recipients, SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice

YEAR = SchoolYear(2025)
RELAXED = SchoolPolicy(conversation_required=False, rounds=SEED_CYCLES["de-bron"].rounds)


def change(
    container: Container, school: str, policy: SchoolPolicy, version: int, year: SchoolYear = YEAR
) -> object:
    return container.policies.change(
        school,
        year,
        policy,
        user_id="u-dirk",
        user_name="Dirk Directeur",
        role="directie",
        expected_version=version,
        request_id="req-1",
    )


def test_a_change_is_one_event_with_who_and_when_and_policy_for_answers_it(
    container: Container, clock: Clock
) -> None:
    policies = container.policies
    assert policies.policy_for("school-a", YEAR) == SchoolPolicy()  # the legal minimum
    clock.now = datetime(2025, 9, 3, 8, 30, tzinfo=UTC)
    assert change(container, "school-a", RELAXED, 0) is not None
    stored = container.store.read_stream(settings_stream("school-a"))
    assert [(e.event_type, e.stream_version) for e in stored] == [("school_settings_changed", 1)]
    event = stored[0]
    assert event.metadata == {
        "actor": "u-dirk",
        "role": "directie",
        "actor_name": "Dirk Directeur",
        "request_id": "req-1",
    }
    assert event.recorded_at == clock.now
    assert event.data["school_year"] == "2025-2026"
    assert [c["field"] for c in event.data["changes"]] == ["conversation_required", "rounds"]
    assert policies.policy_for("school-a", YEAR) == RELAXED
    assert policies.policy_for("school-a", "2026-2027").conversation_required is False
    assert policies.policy_for("school-a", SchoolYear(2024)) == SchoolPolicy()
    assert policies.policy_for("school-b", YEAR) == SchoolPolicy()
    history = read_settings(container.engine, "school-a")
    assert history.policy_for(YEAR) == RELAXED
    assert history.changes[0].changed_by_name == "Dirk Directeur"
    assert history.changes[0].changed_at == clock.now


def test_nothing_changed_stores_nothing_and_a_stale_form_is_refused_with_the_fresh_state(
    container: Container,
) -> None:
    assert change(container, "school-a", RELAXED, 0) is not None
    assert change(container, "school-a", RELAXED, 1) is None
    assert container.store.stream_version(settings_stream("school-a")) == 1
    with pytest.raises(SettingsStaleError) as stale:
        change(container, "school-a", SchoolPolicy(), 0)  # the form was loaded before
    assert stale.value.fresh.version == 1
    assert stale.value.fresh.last_changed_by == "Dirk Directeur"
    assert container.store.stream_version(settings_stream("school-a")) == 1
    assert container.policies.policy_for("school-a", YEAR) == RELAXED


def test_another_process_sees_a_change_once_its_cache_entry_is_checked_again(
    container: Container, clock: Clock
) -> None:
    ticks = [100.0]
    other = SchoolPolicies(container.store, clock, refresh_after=2.0, monotonic=lambda: ticks[0])
    assert other.policy_for("school-a", YEAR).conversation_required is True
    change(container, "school-a", RELAXED, 0)
    ticks[0] += 1.0
    assert other.policy_for("school-a", YEAR).conversation_required is True  # trusted 2 s
    ticks[0] += 1.5
    assert other.policy_for("school-a", YEAR).conversation_required is False
    notices = SchoolPolicy(
        notices={Notice.RECONSIDERATION_REQUIRED: Recipients(False, True, False, ("x@y.nl",))}
    )
    change(container, "school-a", notices, 1)
    ticks[0] += 5
    found = other.policy_for("school-a", YEAR).recipients(Notice.RECONSIDERATION_REQUIRED)
    assert found.extra == ("x@y.nl",)


def test_the_log_stays_verifiable_and_read_models_rebuild_beside_settings(
    container: Container, clock: Clock
) -> None:
    change(container, "school-1", RELAXED, 0)
    pupil = uuid.uuid4()
    ctx = CommandContext(actor=Actor("t", "leerkracht"))
    enrol = EnrolPupil(
        school_id="school-1", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    container.trajectories.execute(pupil, enrol, ctx)
    change(container, "school-1", SchoolPolicy(), 1)
    assert verify(container.store).ok
    assert rebuild(container.engine, "trajectories") == 1
    assert rebuild(container.engine, "compliance") == 3


def two_schools_in_one_batch(container: Container, clock: Clock) -> dict[str, uuid.UUID]:
    """A pupil at a school that dropped the conversation and one at a school that keeps it, both
    with a toetsadvies above the voorlopig advies, raised to it, without a conversation."""
    change(container, "relaxed", RELAXED, 0)
    ctx = CommandContext(actor=Actor("t", "leerkracht"))
    pupils = {}
    clock.now = datetime(2026, 1, 15, 10, tzinfo=UTC)
    for school in ("relaxed", "strict"):
        pupil = pupils[school] = uuid.uuid4()
        enrol = EnrolPupil(
            school_id=school, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
        )
        give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
        container.trajectories.execute_all(pupil, [enrol, give], ctx)
    clock.now = datetime(2026, 3, 16, 10, tzinfo=UTC)
    with container.trajectories.batch() as batch:
        outcomes = batch.execute(
            [
                BatchItem(
                    pupil,
                    [
                        ReceiveTestResult(
                            provider="IEP",
                            delivery_id=f"d-{school}",
                            test_advice=TestAdvice.HAVO_VWO,
                            received_on=date(2026, 3, 16),
                        ),
                        RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=date(2026, 3, 16)),
                        GiveFinalAdvice(given_on=date(2026, 3, 16)),
                    ],
                    ctx,
                )
                for school, pupil in pupils.items()
            ]
        )
    relaxed, strict = outcomes
    assert relaxed.accepted
    assert "final_advice_given" in relaxed.event_types
    assert not strict.accepted
    assert getattr(strict.error, "code", None) == "conversation_not_held"
    return pupils


def test_one_batch_decides_each_pupil_with_their_own_schools_policy(
    container: Container, clock: Clock
) -> None:
    two_schools_in_one_batch(container, clock)


def test_a_stale_cache_entry_is_checked_on_the_deciding_sessions_own_connection(
    container: Container, clock: Clock
) -> None:
    """Another process (here: its own `SchoolPolicies` and `Trajectories`) decides with a
    change once its entry is checked again, which happens inside the deciding session."""
    ticks = [100.0]
    other = SchoolPolicies(container.store, clock, refresh_after=2.0, monotonic=lambda: ticks[0])
    theirs = Trajectories(container.store, clock, other)
    ctx = CommandContext(actor=Actor("t", "leerkracht"))
    pupil = uuid.uuid4()
    clock.now = datetime(2026, 1, 15, 10, tzinfo=UTC)
    enrol = EnrolPupil(
        school_id="relaxed", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    theirs.execute_all(pupil, [enrol, give], ctx)  # caches "relaxed": nothing set
    change(container, "relaxed", RELAXED, 0)
    ticks[0] += 3
    clock.now = datetime(2026, 3, 16, 10, tzinfo=UTC)
    result = theirs.execute_all(
        pupil,
        [
            ReceiveTestResult(
                provider="IEP",
                delivery_id="d-1",
                test_advice=TestAdvice.HAVO_VWO,
                received_on=date(2026, 3, 16),
            ),
            RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=date(2026, 3, 16)),
            GiveFinalAdvice(given_on=date(2026, 3, 16)),
        ],
        ctx,
    )
    assert result.event_types[-1] == "final_advice_given"
