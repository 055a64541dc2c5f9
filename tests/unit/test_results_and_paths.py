"""Test results as providers deliver them, and the paths beside the test: exempt, absent, left."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.test_reconsideration import reconsidering, refused
from tests.unit.walk import Walk
from workflows.calendar import DateWindow, SchoolYear
from workflows.commands import (
    CorrectProvisionalAdvice,
    DecideObjection,
    EnrolPupil,
    GiveFinalAdvice,
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    GrantExemption,
    MoveToGroep8,
    PlanCatchUpTest,
    ReceiveObjection,
    ReceiveTestResult,
    RecordLeaving,
    RecordNationalRegistration,
    RecordNoTestResult,
    RecordTestMissed,
)
from workflows.enums import AdviceKind, ExemptionGround, FinalAdviceBasis, Timeliness
from workflows.events import CatchUpTestPlanned, ReferenceLevel
from workflows.lifecycle import Status
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice as A
from workflows.scale import TestAdvice as TA


def advised(advice: A = A.HAVO, policy: SchoolPolicy | None = None) -> Walk:
    """Given a groep 8 pupil with a voorlopig advies, waiting for the test."""
    walk = Walk(policy or SchoolPolicy())
    walk.do(
        EnrolPupil(school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)),
        date(2025, 8, 25),
    )
    walk.do(GiveProvisionalAdvice(advice=advice, given_on=date(2026, 1, 20)), date(2026, 1, 20))
    return walk


def result(
    advice: TA,
    delivery: str = "d1",
    on: date = date(2026, 3, 10),
    levels: tuple[ReferenceLevel, ...] = (),
) -> ReceiveTestResult:
    return ReceiveTestResult(
        provider="IEP",
        delivery_id=delivery,
        test_advice=advice,
        received_on=on,
        reference_levels=levels,
    )


def test_the_same_delivery_twice_changes_nothing() -> None:
    walk = advised()
    levels = (ReferenceLevel(domain="lezen", level="2F"),)
    walk.do(result(TA.HAVO_VWO, levels=levels), date(2026, 3, 10))
    assert walk.do(result(TA.HAVO_VWO, levels=levels), date(2026, 3, 11)) == []


def test_a_correcting_delivery_that_is_no_longer_higher_ends_the_heroverweging() -> None:
    walk = reconsidering(A.HAVO_TM_VWO, TA.VWO)
    events = walk.do(result(TA.HAVO_VWO, delivery="d2", on=date(2026, 3, 12)), date(2026, 3, 12))
    assert [e.event_type for e in events] == [
        "test_result_received",
        "reconsideration_lapsed",
        "final_advice_given",
    ]
    state = walk.state
    assert state.status is Status.FINAL_ADVICE_GIVEN
    assert state.final_advice is not None
    assert state.final_advice.advice is A.HAVO_TM_VWO
    assert state.test_advice is TA.HAVO_VWO


def test_a_correcting_delivery_still_higher_keeps_the_heroverweging_open() -> None:
    walk = reconsidering(A.VMBO_GLTL, TA.HAVO_VWO)
    walk.do(result(TA.VMBO_GLTL_HAVO, delivery="d2", on=date(2026, 3, 12)), date(2026, 3, 12))
    assert walk.state.status is Status.RECONSIDERATION_REQUIRED
    assert walk.state.test_advice is TA.VMBO_GLTL_HAVO


def test_a_higher_delivery_after_the_definitief_advies_reopens_the_heroverweging() -> None:
    walk = advised(A.HAVO)
    walk.do(result(TA.VMBO_GLTL_HAVO), date(2026, 3, 10))
    assert walk.state.status is Status.FINAL_ADVICE_GIVEN
    walk.do(result(TA.VWO, delivery="d2", on=date(2026, 3, 13)), date(2026, 3, 13))
    reopened = walk.state
    assert reopened.status is Status.RECONSIDERATION_REQUIRED
    assert reopened.decision is None


@pytest.mark.parametrize("advice", [A.VSO, A.GEEN_SPECIFIEK_ADVIES_MOGELIJK])
def test_a_result_beside_an_advice_off_the_scale_goes_to_a_person(advice: A) -> None:
    walk = advised(advice)
    walk.do(result(TA.VMBO_BB_VMBO_KB), date(2026, 3, 10))
    assert walk.state.status is Status.RESULT_REVIEW_REQUIRED
    assert refused(walk, GiveFinalAdvice(given_on=date(2026, 3, 12))).code == (
        "final_advice_needs_level"
    )
    walk.do(
        GiveFinalAdvice(given_on=date(2026, 3, 12), advice=A.PRAKTIJKONDERWIJS), date(2026, 3, 12)
    )
    assert walk.state.final_advice is not None
    assert walk.state.final_advice.basis is FinalAdviceBasis.RESULT_REVIEWED


def test_pro_with_the_tests_lowest_category_becomes_definitief_without_heroverweging() -> None:
    walk = advised(A.PRAKTIJKONDERWIJS)
    walk.do(result(TA.PRO_VMBO_BB), date(2026, 3, 10))
    assert walk.state.status is Status.FINAL_ADVICE_GIVEN


def test_a_teacher_cannot_give_the_definitief_advies_before_the_test_outcome() -> None:
    walk = advised()
    assert refused(walk, GiveFinalAdvice(given_on=date(2026, 2, 1))).code == (
        "final_advice_needs_test_outcome"
    )


def test_an_exempt_pupil_keeps_the_voorlopig_advies_and_gets_no_result() -> None:
    walk = advised(A.VMBO_KB)
    events = walk.do(
        GrantExemption(
            ground=ExemptionGround.VERY_LOW_LEARNING_ABILITY, decided_on=date(2026, 1, 25)
        ),
        date(2026, 1, 25),
    )
    assert [e.event_type for e in events] == ["exemption_granted", "final_advice_given"]
    assert refused(walk, result(TA.HAVO_VWO)).code == "pupil_is_exempt"
    assert walk.state.final_advice is not None
    assert walk.state.final_advice.basis is FinalAdviceBasis.EXEMPT


def test_an_exempt_pupil_who_has_no_advice_yet_cannot_receive_a_result() -> None:
    walk = Walk()
    walk.do(
        EnrolPupil(school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)),
        date(2025, 8, 25),
    )
    walk.do(
        GrantExemption(ground=ExemptionGround.MULTIPLE_DISABILITIES, decided_on=date(2025, 11, 1)),
        date(2025, 11, 1),
    )
    assert (
        refused(
            walk, RecordTestMissed(missed_on=date(2025, 11, 2), reason="x"), date(2025, 11, 2)
        ).code
        == "not_allowed_in_state"
    )


def test_exemption_because_of_a_short_stay_needs_the_parents_consulted() -> None:
    walk = advised()
    error = refused(
        walk,
        GrantExemption(ground=ExemptionGround.NEWCOMER, decided_on=date(2026, 1, 25)),
        date(2026, 1, 25),
    )
    assert (error.code, error.field) == ("parents_not_consulted", "parents_consulted")


def test_a_catch_up_test_follows_a_missed_test_and_is_flagged_when_too_late() -> None:
    year = SchoolYear(2025)
    policy = SchoolPolicy(test_windows={year: DateWindow(date(2026, 2, 2), date(2026, 2, 20))})
    walk = advised(policy=policy)
    assert refused(walk, PlanCatchUpTest(planned_on=date(2026, 2, 24)), date(2026, 2, 9)).code == (
        "test_not_missed"
    )
    walk.do(RecordTestMissed(missed_on=date(2026, 2, 3), reason="griep"), date(2026, 2, 3))
    [in_time] = walk.do(PlanCatchUpTest(planned_on=date(2026, 3, 13)), date(2026, 2, 9))
    [too_late] = walk.do(PlanCatchUpTest(planned_on=date(2026, 3, 14)), date(2026, 2, 9))
    assert isinstance(in_time, CatchUpTestPlanned)
    assert isinstance(too_late, CatchUpTestPlanned)
    assert (in_time.late, too_late.late) == (False, True)


def test_a_pupil_who_can_sit_no_test_keeps_the_voorlopig_advies() -> None:
    walk = advised(A.VMBO_GLTL)
    walk.do(
        RecordNoTestResult(recorded_on=date(2026, 3, 16), reason="langdurig ziek"),
        date(2026, 3, 16),
    )
    final = walk.state.final_advice
    assert final is not None
    assert (final.advice, final.basis) == (A.VMBO_GLTL, FinalAdviceBasis.NO_TEST_RESULT)


def test_a_correction_of_the_voorlopig_advies_is_a_new_fact_flagged_after_its_deadline() -> None:
    walk = advised(A.HAVO)
    [first] = walk.do(
        CorrectProvisionalAdvice(
            advice=A.HAVO_TM_VWO, corrected_on=date(2026, 1, 28), reason="typefout"
        ),
        date(2026, 1, 28),
    )
    [later] = walk.do(
        CorrectProvisionalAdvice(
            advice=A.HAVO, corrected_on=date(2026, 2, 2), reason="terug na overleg"
        ),
        date(2026, 2, 2),
    )
    assert getattr(first, "timeliness", None) is Timeliness.ON_TIME
    assert getattr(later, "timeliness", None) is Timeliness.LATE
    assert len(walk.history) == 4, "both corrections are kept, nothing is edited"
    walk.do(result(TA.HAVO_VWO), date(2026, 3, 10))
    error = refused(
        walk,
        CorrectProvisionalAdvice(advice=A.VWO, corrected_on=date(2026, 3, 11), reason="x"),
        date(2026, 3, 11),
    )
    assert error.code == "not_allowed_in_state"


def test_a_correction_needs_a_reason_and_a_change() -> None:
    walk = advised(A.HAVO)
    assert refused(
        walk,
        CorrectProvisionalAdvice(advice=A.VWO, corrected_on=date(2026, 1, 28), reason=" "),
        date(2026, 1, 28),
    ).code == ("correction_needs_reason")
    assert refused(
        walk,
        CorrectProvisionalAdvice(advice=A.HAVO, corrected_on=date(2026, 1, 28), reason="x"),
        date(2026, 1, 28),
    ).code == ("correction_changes_nothing")


def test_parents_cannot_ask_for_a_lower_advice_and_a_request_in_the_aanmeldweek_is_late() -> None:
    walk = advised(A.HAVO)
    lower = ReceiveObjection(
        objection_id="o",
        received_on=date(2026, 2, 1),
        summary="lager",
        requested_advice=A.VMBO_GLTL_TM_HAVO,
    )
    assert refused(walk, lower, date(2026, 2, 1)).code == "objection_cannot_lower"
    [late] = walk.do(
        ReceiveObjection(
            objection_id="o", received_on=date(2026, 3, 26), summary="hoger", requested_advice=A.VWO
        ),
        date(2026, 3, 26),
    )
    assert getattr(late, "timeliness", None) is Timeliness.LATE


def test_a_rejected_request_changes_no_advice_and_a_granted_one_before_the_test_corrects() -> None:
    walk = advised(A.HAVO)
    walk.do(
        ReceiveObjection(objection_id="o1", received_on=date(2026, 2, 1), summary="vwo?"),
        date(2026, 2, 1),
    )
    assert (
        refused(
            walk,
            DecideObjection(
                objection_id="o9", decided_on=date(2026, 2, 2), granted=False, motivation="x"
            ),
            date(2026, 2, 2),
        ).code
        == "objection_unknown"
    )
    walk.do(
        DecideObjection(
            objection_id="o1",
            decided_on=date(2026, 2, 2),
            granted=False,
            motivation="Het beeld over drie jaar past bij havo.",
        ),
        date(2026, 2, 2),
    )
    assert walk.state.current_advice is A.HAVO
    walk.do(
        ReceiveObjection(objection_id="o2", received_on=date(2026, 2, 3), summary="vwo?"),
        date(2026, 2, 3),
    )
    events = walk.do(
        DecideObjection(
            objection_id="o2",
            decided_on=date(2026, 2, 4),
            granted=True,
            new_advice=A.HAVO_TM_VWO,
            motivation="Na nieuwe informatie.",
        ),
        date(2026, 2, 4),
    )
    assert [e.event_type for e in events] == ["objection_decided", "provisional_advice_corrected"]
    corrected = walk.state
    assert corrected.current_advice is A.HAVO_TM_VWO


def test_a_request_during_the_heroverweging_is_granted_through_its_decision() -> None:
    walk = reconsidering(A.HAVO, TA.VWO)
    walk.do(
        ReceiveObjection(objection_id="o", received_on=date(2026, 3, 11), summary="vwo"),
        date(2026, 3, 11),
    )
    error = refused(
        walk,
        DecideObjection(
            objection_id="o",
            decided_on=date(2026, 3, 12),
            granted=True,
            new_advice=A.VWO,
            motivation="ja",
        ),
    )
    assert error.code == "objection_granted_via_reconsideration"


def test_registration_with_duo_needs_the_advice_and_is_late_after_two_weeks() -> None:
    walk = advised(A.HAVO)
    assert (
        refused(
            walk,
            RecordNationalRegistration(kind=AdviceKind.FINAL, sent_on=date(2026, 1, 25)),
            date(2026, 1, 25),
        ).code
        == "nothing_to_register"
    )
    [on_time] = walk.do(
        RecordNationalRegistration(kind=AdviceKind.PROVISIONAL, sent_on=date(2026, 2, 3)),
        date(2026, 2, 3),
    )
    [late] = walk.do(
        RecordNationalRegistration(kind=AdviceKind.PROVISIONAL, sent_on=date(2026, 2, 4)),
        date(2026, 2, 4),
    )
    assert getattr(on_time, "timeliness", None) is Timeliness.ON_TIME
    assert getattr(late, "timeliness", None) is Timeliness.LATE
    assert AdviceKind.PROVISIONAL in walk.state.registered


def test_groep_7_gets_an_orientation_advice_then_moves_to_groep_8_the_next_year() -> None:
    walk = Walk()
    walk.do(
        EnrolPupil(school_id="s", school_year="2024-2025", groep=7, enrolled_on=date(2024, 8, 26)),
        date(2024, 8, 26),
    )
    walk.do(
        GiveOrientationAdvice(advice=A.VMBO_GLTL_TM_HAVO, given_on=date(2025, 6, 10)),
        date(2025, 6, 10),
    )
    assert (
        refused(
            walk,
            MoveToGroep8(school_year="2026-2027", entered_on=date(2026, 8, 24)),
            date(2026, 8, 24),
        ).code
        == "school_year_not_next"
    )
    walk.do(MoveToGroep8(school_year="2025-2026", entered_on=date(2025, 8, 25)), date(2025, 8, 25))
    state = walk.state
    assert (state.status, state.groep, str(state.school_year)) == (
        Status.AWAITING_PROVISIONAL_ADVICE,
        8,
        "2025-2026",
    )
    assert state.orientation_advice is not None


def test_after_leaving_school_nothing_more_is_recorded() -> None:
    walk = advised()
    walk.do(RecordLeaving(left_on=date(2026, 2, 1)), date(2026, 2, 1))
    assert refused(walk, result(TA.VWO)).code == "not_allowed_in_state"
