"""A replacing delivery that comes in higher after the definitief advies was given automatically.

Given the events so far, when the corrected result is received, then: the automatic definitief
advies is withdrawn (its premise, a result not higher or no result, is gone) and a heroverweging
opens on the same level, so the advice is never lowered; a definitief advies a person gave stays.
"""

from __future__ import annotations

import inspect
import json
from datetime import date

import pytest

from tests.unit.walk import Walk, end_of
from workflows import rules_advice, rules_reconsideration
from workflows.codec import Event
from workflows.commands import (
    GiveFinalAdvice,
    KeepAdvice,
    RaiseAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
    RecordNoTestResult,
)
from workflows.decide import decide
from workflows.enums import ConversationParty, FinalAdviceBasis, KeepReason, Timeliness
from workflows.errors import DomainError
from workflows.events import (
    CODEC,
    AutomaticFinalAdviceWithdrawn,
    FinalAdviceGiven,
    ProvisionalAdviceGiven,
    PupilEnrolled,
    ReconsiderationRequired,
    TestResultReceived,
)
from workflows.lifecycle import ConversationStatus, Status
from workflows.machine import fire
from workflows.policy import DEFAULT_POLICY
from workflows.scale import SchoolAdvice as A
from workflows.scale import TestAdvice as TA
from workflows.trajectory import fold

ENROLLED = PupilEnrolled(
    school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
)
HAVO_GIVEN = ProvisionalAdviceGiven(
    advice=A.HAVO, given_on=date(2026, 1, 20), timeliness=Timeliness.ON_TIME
)
FIRST_RESULT = TestResultReceived(
    provider="IEP",
    delivery_id="d1",
    test_advice=TA.VMBO_GLTL_HAVO,
    reference_levels=(),
    received_on=date(2026, 3, 10),
)
AUTOMATIC_FINAL = FinalAdviceGiven(
    advice=A.HAVO,
    given_on=date(2026, 3, 10),
    basis=FinalAdviceBasis.TEST_NOT_HIGHER,
    timeliness=Timeliness.ON_TIME,
)
PARENTS = (ConversationParty.PARENTS, ConversationParty.PUPIL)


def corrected(advice: TA, on: date = date(2026, 3, 13), delivery: str = "d2") -> ReceiveTestResult:
    return ReceiveTestResult(
        provider="IEP", delivery_id=delivery, test_advice=advice, received_on=on
    )


def given(*history: Event) -> Walk:
    walk = Walk()
    walk.history.extend(history)
    return walk


def test_a_higher_corrected_result_withdraws_the_automatic_definitief_advies() -> None:
    walk = given(ENROLLED, HAVO_GIVEN, FIRST_RESULT, AUTOMATIC_FINAL)
    assert walk.state.status is Status.FINAL_ADVICE_GIVEN

    events = walk.do(corrected(TA.VWO), date(2026, 3, 13))

    assert events == [
        TestResultReceived(
            provider="IEP",
            delivery_id="d2",
            test_advice=TA.VWO,
            reference_levels=(),
            received_on=date(2026, 3, 13),
        ),
        AutomaticFinalAdviceWithdrawn(
            advice=A.HAVO,
            basis=FinalAdviceBasis.TEST_NOT_HIGHER,
            given_on=date(2026, 3, 10),
            withdrawn_on=date(2026, 3, 13),
            test_advice=TA.VWO,
        ),
        ReconsiderationRequired(
            test_advice=TA.VWO, current_advice=A.HAVO, deadline=date(2026, 3, 24)
        ),
    ]
    state = walk.state
    assert state.status is Status.RECONSIDERATION_REQUIRED
    assert state.final_advice is None, "the trajectory no longer shows a definitief advies"
    assert state.final_advice_withdrawal == events[1], "it shows the withdrawal instead"
    assert state.current_advice is A.HAVO, "never lowered: the heroverweging starts at havo"
    assert (state.decision, state.conversation) == (None, ConversationStatus.NONE)


def test_after_the_withdrawal_a_person_decides_the_definitief_advies_in_a_heroverweging() -> None:
    walk = given(ENROLLED, HAVO_GIVEN, FIRST_RESULT, AUTOMATIC_FINAL)
    walk.do(corrected(TA.VWO), date(2026, 3, 13))
    with pytest.raises(DomainError) as early:
        decide(walk.history, GiveFinalAdvice(given_on=date(2026, 3, 14)), end_of(date(2026, 3, 14)))
    assert early.value.code == "reconsideration_not_decided"

    walk.do(RecordConversationHeld(held_on=date(2026, 3, 16), attendees=PARENTS), date(2026, 3, 16))
    walk.do(RaiseAdvice(advice=A.VWO, decided_on=date(2026, 3, 16)), date(2026, 3, 16))
    [final] = walk.do(GiveFinalAdvice(given_on=date(2026, 3, 17)), date(2026, 3, 17))

    assert final == FinalAdviceGiven(
        advice=A.VWO,
        given_on=date(2026, 3, 17),
        basis=FinalAdviceBasis.RECONSIDERED,
        timeliness=Timeliness.ON_TIME,
    )


def test_keeping_the_advice_after_the_withdrawal_keeps_the_same_level_never_a_lower_one() -> None:
    walk = given(ENROLLED, HAVO_GIVEN, FIRST_RESULT, AUTOMATIC_FINAL)
    walk.do(corrected(TA.VWO), date(2026, 3, 13))
    walk.do(RecordConversationHeld(held_on=date(2026, 3, 16), attendees=PARENTS), date(2026, 3, 16))
    walk.do(
        KeepAdvice(
            decided_on=date(2026, 3, 16),
            reason=KeepReason.WORK_ATTITUDE,
            motivation="De werkhouding vraagt eerst een jaar havo.",
        ),
        date(2026, 3, 16),
    )
    walk.do(GiveFinalAdvice(given_on=date(2026, 3, 17)), date(2026, 3, 17))
    assert walk.state.final_advice is not None
    assert walk.state.final_advice.advice is A.HAVO
    assert walk.state.final_advice.basis is FinalAdviceBasis.RECONSIDERED


def test_a_definitief_advies_given_because_no_result_would_come_is_withdrawn_too() -> None:
    walk = given(ENROLLED, HAVO_GIVEN)
    walk.do(
        RecordNoTestResult(recorded_on=date(2026, 3, 2), reason="langdurig ziek"), date(2026, 3, 2)
    )
    assert walk.state.final_advice is not None
    events = walk.do(corrected(TA.HAVO_VWO, on=date(2026, 3, 12)), date(2026, 3, 12))
    assert [e.event_type for e in events] == [
        "test_result_received",
        "automatic_final_advice_withdrawn",
        "reconsideration_required",
    ]
    assert events[1] == AutomaticFinalAdviceWithdrawn(
        advice=A.HAVO,
        basis=FinalAdviceBasis.NO_TEST_RESULT,
        given_on=date(2026, 3, 2),
        withdrawn_on=date(2026, 3, 12),
        test_advice=TA.HAVO_VWO,
    )
    assert walk.state.final_advice is None


def test_a_definitief_advies_a_person_gave_stays_and_the_heroverweging_reopens_on_it() -> None:
    walk = given(ENROLLED, HAVO_GIVEN)
    walk.do(corrected(TA.HAVO_VWO, on=date(2026, 3, 10), delivery="d1"), date(2026, 3, 10))
    walk.do(RecordConversationHeld(held_on=date(2026, 3, 11), attendees=PARENTS), date(2026, 3, 11))
    walk.do(RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 11)), date(2026, 3, 11))
    walk.do(GiveFinalAdvice(given_on=date(2026, 3, 11)), date(2026, 3, 11))

    events = walk.do(corrected(TA.VWO), date(2026, 3, 13))

    assert [e.event_type for e in events] == ["test_result_received", "reconsideration_required"]
    state = walk.state
    assert state.status is Status.RECONSIDERATION_REQUIRED
    assert state.final_advice is not None
    assert (state.final_advice.advice, state.final_advice.basis) == (
        A.HAVO_TM_VWO,
        FinalAdviceBasis.RECONSIDERED,
    )
    assert state.final_advice_withdrawal is None


def test_withdrawing_an_automatic_advice_on_top_of_a_persons_restores_the_persons() -> None:
    """A person gave havo/vwo; a higher correction reopened it; a lower one lapsed it and the
    rules confirmed havo/vwo automatically; a higher one again withdraws only that confirmation."""
    walk = given(ENROLLED, HAVO_GIVEN)
    walk.do(corrected(TA.HAVO_VWO, on=date(2026, 3, 10), delivery="d1"), date(2026, 3, 10))
    walk.do(RecordConversationHeld(held_on=date(2026, 3, 11), attendees=PARENTS), date(2026, 3, 11))
    walk.do(RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 11)), date(2026, 3, 11))
    walk.do(GiveFinalAdvice(given_on=date(2026, 3, 11)), date(2026, 3, 11))
    walk.do(corrected(TA.VWO, on=date(2026, 3, 12)), date(2026, 3, 12))
    lapsed = walk.do(corrected(TA.HAVO_VWO, on=date(2026, 3, 13), delivery="d3"), date(2026, 3, 13))
    assert [e.event_type for e in lapsed][1:] == ["reconsideration_lapsed", "final_advice_given"]

    events = walk.do(corrected(TA.VWO, on=date(2026, 3, 14), delivery="d4"), date(2026, 3, 14))

    assert [e.event_type for e in events][1:] == [
        "automatic_final_advice_withdrawn",
        "reconsideration_required",
    ]
    state = walk.state
    assert state.final_advice is not None
    assert (state.final_advice.advice, state.final_advice.basis) == (
        A.HAVO_TM_VWO,
        FinalAdviceBasis.RECONSIDERED,
    )
    assert state.current_advice is A.HAVO_TM_VWO


def test_the_life_cycle_refuses_to_withdraw_a_definitief_advies_a_person_gave() -> None:
    reconsidered = FinalAdviceGiven(
        advice=A.HAVO,
        given_on=date(2026, 3, 10),
        basis=FinalAdviceBasis.RECONSIDERED,
        timeliness=Timeliness.ON_TIME,
    )
    state = fold([ENROLLED, HAVO_GIVEN, FIRST_RESULT, reconsidered])
    with pytest.raises(DomainError) as refused:
        fire(state, "withdraw_automatic_final_advice", DEFAULT_POLICY)
    assert refused.value.code == "final_advice_not_automatic"
    automatic = fold([ENROLLED, HAVO_GIVEN, FIRST_RESULT, AUTOMATIC_FINAL])
    assert fire(automatic, "withdraw_automatic_final_advice", DEFAULT_POLICY) is (
        Status.AWAITING_TEST_RESULT
    )


def test_the_withdrawal_is_a_new_event_type_stored_and_read_back_unchanged() -> None:
    withdrawn = AutomaticFinalAdviceWithdrawn(
        advice=A.HAVO,
        basis=FinalAdviceBasis.TEST_NOT_HIGHER,
        given_on=date(2026, 3, 10),
        withdrawn_on=date(2026, 3, 13),
        test_advice=TA.VWO,
    )
    event_type, version, data = CODEC.encode(withdrawn)
    assert (event_type, version) == ("automatic_final_advice_withdrawn", 1)
    assert CODEC.decode(event_type, version, json.loads(json.dumps(data))) == withdrawn
    assert CODEC.personal_fields(event_type) == frozenset(), "no free text, nothing to seal"


def test_the_rule_that_opens_a_heroverweging_lives_with_the_heroverweging_rules() -> None:
    assert rules_reconsideration.after_test_result.__module__ == "workflows.rules_reconsideration"
    receiving = inspect.getsource(rules_advice.receive_test_result)
    assert "after_test_result(ctx, result)" in receiving
    advice_rules = inspect.getsource(rules_advice)
    for decided_elsewhere in ("ReconsiderationRequired", "ReconsiderationLapsed", "compare("):
        assert decided_elsewhere not in advice_rules
