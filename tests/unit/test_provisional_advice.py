"""Recording a voorlopig schooladvies, told as given events → command → events or error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from workflows.codec import Event
from workflows.commands import EnrolPupil, GiveProvisionalAdvice
from workflows.decide import decide
from workflows.enums import Timeliness
from workflows.errors import DomainError, InvalidHistoryError
from workflows.events import ProvisionalAdviceGiven, PupilEnrolled
from workflows.lifecycle import Status
from workflows.scale import SchoolAdvice
from workflows.trajectory import evolve, fold

NOW = datetime(2026, 1, 20, 15, 0, tzinfo=UTC)
ENROLLED_IN_GROEP_8 = PupilEnrolled(
    school_id="school-1", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
)


def give(
    advice: SchoolAdvice = SchoolAdvice.HAVO, on: date = date(2026, 1, 15)
) -> GiveProvisionalAdvice:
    return GiveProvisionalAdvice(advice=advice, given_on=on)


def test_a_pupil_in_groep_8_receives_a_voorlopig_advies_within_the_window() -> None:
    events = decide([ENROLLED_IN_GROEP_8], give(SchoolAdvice.HAVO_TM_VWO), NOW)
    assert events == [
        ProvisionalAdviceGiven(
            advice=SchoolAdvice.HAVO_TM_VWO,
            given_on=date(2026, 1, 15),
            timeliness=Timeliness.ON_TIME,
        )
    ]
    state = fold([ENROLLED_IN_GROEP_8, *events])
    assert state.status is Status.AWAITING_TEST_RESULT
    assert state.provisional_advice is not None
    assert state.provisional_advice.advice is SchoolAdvice.HAVO_TM_VWO
    assert state.version == 2


@pytest.mark.parametrize(
    ("given_on", "timeliness"),
    [
        (date(2025, 11, 20), Timeliness.EARLY),  # Toermalijn's November talk predates the law
        (date(2026, 1, 10), Timeliness.ON_TIME),
        (date(2026, 1, 31), Timeliness.ON_TIME),
        (date(2026, 2, 2), Timeliness.LATE),
    ],
)
def test_an_advice_outside_the_legal_window_is_recorded_and_flagged(
    given_on: date, timeliness: Timeliness
) -> None:
    now = datetime(2026, 2, 3, tzinfo=UTC)
    [event] = decide([ENROLLED_IN_GROEP_8], give(on=given_on), now)
    assert isinstance(event, ProvisionalAdviceGiven)
    assert event.timeliness is timeliness


def test_an_advice_cannot_be_given_twice() -> None:
    history: list[Event] = [ENROLLED_IN_GROEP_8, *decide([ENROLLED_IN_GROEP_8], give(), NOW)]
    with pytest.raises(DomainError) as raised:
        decide(history, give(SchoolAdvice.VWO), NOW)
    assert raised.value.code == "not_allowed_in_state"


def test_a_pupil_who_is_not_enrolled_gets_no_advice() -> None:
    with pytest.raises(DomainError) as raised:
        decide([], give(), NOW)
    assert raised.value.code == "pupil_not_enrolled"


def test_a_voorlopig_advies_is_for_groep_8_only() -> None:
    groep_7 = PupilEnrolled(
        school_id="school-1", school_year="2025-2026", groep=7, enrolled_on=date(2025, 8, 25)
    )
    with pytest.raises(DomainError) as raised:
        decide([groep_7], give(), NOW)
    assert raised.value.code == "not_allowed_in_state"
    assert "groep 7" in raised.value.message


def test_an_advice_dated_in_the_future_is_refused() -> None:
    with pytest.raises(DomainError) as raised:
        decide([ENROLLED_IN_GROEP_8], give(on=date(2026, 1, 21)), NOW)
    assert (raised.value.code, raised.value.field) == ("date_in_future", "given_on")


def test_just_after_midnight_in_the_netherlands_today_is_the_dutch_date_not_utcs() -> None:
    half_past_midnight_dutch = datetime(2026, 1, 20, 23, 30, tzinfo=UTC)  # 00:30 on 21 January
    events = decide([ENROLLED_IN_GROEP_8], give(on=date(2026, 1, 21)), half_past_midnight_dutch)
    assert [e.given_on for e in events if isinstance(e, ProvisionalAdviceGiven)] == [
        date(2026, 1, 21)
    ]
    with pytest.raises(DomainError) as raised:
        decide([ENROLLED_IN_GROEP_8], give(on=date(2026, 1, 22)), half_past_midnight_dutch)
    assert raised.value.code == "date_in_future"


def test_an_advice_dated_outside_the_pupils_school_year_is_refused() -> None:
    with pytest.raises(DomainError) as raised:
        decide([ENROLLED_IN_GROEP_8], give(on=date(2025, 7, 1)), NOW)
    assert raised.value.code == "date_outside_school_year"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (
            EnrolPupil(
                school_id="s", school_year="2025/2026", groep=8, enrolled_on=date(2025, 9, 1)
            ),
            "school_year_invalid",
        ),
        (
            # found by schemathesis: a year no date can hold was a server error, not a 422
            EnrolPupil(
                school_id="s", school_year="0000-0001", groep=8, enrolled_on=date(2025, 9, 1)
            ),
            "school_year_invalid",
        ),
        (
            EnrolPupil(
                school_id="s", school_year="2025-2026", groep=6, enrolled_on=date(2025, 9, 1)
            ),
            "groep_invalid",
        ),
        (
            EnrolPupil(
                school_id=" ", school_year="2025-2026", groep=8, enrolled_on=date(2025, 9, 1)
            ),
            "school_id_missing",
        ),
    ],
)
def test_enrolment_is_refused_with_a_precise_reason(command: EnrolPupil, code: str) -> None:
    with pytest.raises(DomainError) as raised:
        decide([], command, NOW)
    assert raised.value.code == code


def test_a_pupil_is_enrolled_once() -> None:
    enrol = EnrolPupil(
        school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 9, 1)
    )
    with pytest.raises(DomainError) as raised:
        decide([ENROLLED_IN_GROEP_8], enrol, NOW)
    assert raised.value.code == "not_allowed_in_state"


def test_the_domain_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        decide([ENROLLED_IN_GROEP_8], give(), datetime(2026, 1, 20))  # noqa: DTZ001


def test_a_history_the_machine_could_not_produce_is_rejected_when_folded() -> None:
    advice = ProvisionalAdviceGiven(
        advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15), timeliness=Timeliness.ON_TIME
    )
    with pytest.raises(InvalidHistoryError):
        fold([advice])
    with pytest.raises(InvalidHistoryError):
        evolve(fold([ENROLLED_IN_GROEP_8, advice]), advice)
