"""The heroverweging: raise by default, keep or raise partly only with reasons, talk first.

With the school's conversation setting on (the default) neither the decision nor the definitief
advies is taken before the talk with parents and pupil was held or the parents declined it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.unit.walk import Walk, end_of
from workflows.commands import (
    CancelConversation,
    EnrolPupil,
    GiveFinalAdvice,
    GiveProvisionalAdvice,
    KeepAdvice,
    MoveConversation,
    PlanConversation,
    RaiseAdvice,
    ReceiveTestResult,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.decide import decide
from workflows.enums import ConversationParty, FinalAdviceBasis, KeepReason, Timeliness
from workflows.errors import DomainError
from workflows.events import AdviceRaised, FinalAdviceGiven
from workflows.lifecycle import ConversationStatus, Status
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice as A
from workflows.scale import TestAdvice as TA

PARENTS = (ConversationParty.PARENTS, ConversationParty.PUPIL)


def reconsidering(
    provisional: A = A.VMBO_GLTL, test: TA = TA.HAVO_VWO, policy: SchoolPolicy | None = None
) -> Walk:
    """Given a pupil whose toetsadvies came in higher than the voorlopig advies."""
    walk = Walk(policy or SchoolPolicy())
    walk.do(
        EnrolPupil(school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)),
        date(2025, 8, 25),
    )
    walk.do(
        GiveProvisionalAdvice(advice=provisional, given_on=date(2026, 1, 20)), date(2026, 1, 20)
    )
    walk.do(
        ReceiveTestResult(
            provider="ROUTE 8", delivery_id="r1", test_advice=test, received_on=date(2026, 3, 10)
        ),
        date(2026, 3, 10),
    )
    assert walk.state.status is Status.RECONSIDERATION_REQUIRED
    return walk


def talked(walk: Walk, on: date = date(2026, 3, 11)) -> Walk:
    """The heroverweging talk with parents and pupil recorded as held, so a decision may follow."""
    walk.do(RecordConversationHeld(held_on=on, attendees=PARENTS), on)
    return walk


def refused(walk: Walk, command: object, on: date = date(2026, 3, 17)) -> DomainError:
    before = list(walk.history)
    with pytest.raises(DomainError) as raised:
        decide(walk.history, command, end_of(on), policy=walk.policy)  # type: ignore[arg-type]
    assert walk.history == before
    return raised.value


def test_a_higher_toetsadvies_opens_a_heroverweging_with_the_legal_deadline() -> None:
    walk = reconsidering()
    assert walk.state.reconsideration_deadline == date(2026, 3, 24)
    assert [e.event_type for e in walk.history[-2:]] == [
        "test_result_received",
        "reconsideration_required",
    ]


@pytest.mark.parametrize(
    ("provisional", "test", "partly", "fully"),
    [
        (A.VMBO_GLTL, TA.HAVO_VWO, [A.VMBO_GLTL_TM_HAVO, A.HAVO], A.HAVO_TM_VWO),
        (A.HAVO, TA.VWO, [A.HAVO_TM_VWO], A.VWO),
        (
            A.PRAKTIJKONDERWIJS,
            TA.VMBO_BB_VMBO_KB,
            [A.VMBO_BB, A.VMBO_BB_MET_LWOO],
            A.VMBO_BB_TM_VMBO_KB,
        ),
    ],
)
def test_raising_to_the_toetsadvies_needs_no_reasons_raising_partly_does(
    provisional: A, test: TA, partly: list[A], fully: A
) -> None:
    walk = talked(reconsidering(provisional, test))
    [event] = decide(
        walk.history,
        RaiseAdvice(advice=fully, decided_on=date(2026, 3, 12)),
        end_of(date(2026, 3, 12)),
    )
    assert isinstance(event, AdviceRaised)
    assert event.fully
    for level in partly:
        error = refused(walk, RaiseAdvice(advice=level, decided_on=date(2026, 3, 12)))
        assert error.code == "partial_raise_needs_motivation"
        [event] = decide(
            walk.history,
            RaiseAdvice(
                advice=level,
                decided_on=date(2026, 3, 12),
                reason=KeepReason.SUPPORT_NEEDS,
                motivation="Stapsgewijs: eerst de brugklas met begeleiding.",
            ),
            end_of(date(2026, 3, 12)),
        )
        assert isinstance(event, AdviceRaised)
        assert not event.fully


def test_an_advice_is_never_raised_above_the_toetsadvies_nor_lowered() -> None:
    walk = talked(reconsidering(A.VMBO_GLTL, TA.VMBO_GLTL_HAVO))
    assert refused(walk, RaiseAdvice(advice=A.HAVO, decided_on=date(2026, 3, 12))).code == (
        "raise_above_test_advice"
    )
    assert refused(walk, RaiseAdvice(advice=A.VMBO_KB, decided_on=date(2026, 3, 12))).code == (
        "raise_not_higher"
    )
    assert refused(walk, RaiseAdvice(advice=A.VSO, decided_on=date(2026, 3, 12))).code == (
        "advice_off_scale"
    )


@pytest.mark.parametrize("motivation", ["", "   "])
def test_keeping_the_advice_requires_a_written_motivation(motivation: str) -> None:
    walk = talked(reconsidering())
    error = refused(
        walk,
        KeepAdvice(
            decided_on=date(2026, 3, 12), reason=KeepReason.WORK_ATTITUDE, motivation=motivation
        ),
    )
    assert (error.code, error.field) == ("keeping_needs_motivation", "motivation")


def test_no_definitief_advies_until_the_heroverweging_is_decided() -> None:
    walk = reconsidering()
    walk.do(RecordConversationHeld(held_on=date(2026, 3, 12), attendees=PARENTS), date(2026, 3, 12))
    assert refused(walk, GiveFinalAdvice(given_on=date(2026, 3, 13))).code == (
        "reconsideration_not_decided"
    )


def test_no_definitief_advies_until_parents_were_talked_with_or_declined() -> None:
    """A decision taken while the school did not require the talk (the setting was switched on
    afterwards) still leaves the definitief advies waiting for it."""
    walk = reconsidering(policy=SchoolPolicy(conversation_required=False))
    walk.do(RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 12)), date(2026, 3, 12))
    walk.policy = SchoolPolicy()
    assert refused(walk, GiveFinalAdvice(given_on=date(2026, 3, 13))).code == (
        "conversation_not_held"
    )
    walk.do(
        RecordConversationDeclined(
            declined_on=date(2026, 3, 13), notes="Ouders vinden een gesprek niet nodig."
        ),
        date(2026, 3, 13),
    )
    [final] = walk.do(GiveFinalAdvice(given_on=date(2026, 3, 13)), date(2026, 3, 13))
    assert isinstance(final, FinalAdviceGiven)
    assert (final.advice, final.basis) == (A.HAVO_TM_VWO, FinalAdviceBasis.RECONSIDERED)


RAISE = RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 13))
KEEP = KeepAdvice(
    decided_on=date(2026, 3, 13),
    reason=KeepReason.WORK_ATTITUDE,
    motivation="Werkhouding past nog niet bij havo/vwo.",
)


@pytest.mark.parametrize("decision", [RAISE, KEEP], ids=["raise", "keep"])
def test_the_decision_is_refused_until_the_talk_was_held_planned_or_cancelled_is_not_enough(
    decision: RaiseAdvice | KeepAdvice,
) -> None:
    walk = reconsidering()
    error = refused(walk, decision, date(2026, 3, 13))
    assert error.code == "conversation_not_held"
    assert "leg eerst vast dat het gesprek is gevoerd" in error.message
    walk.do(PlanConversation(planned_at=datetime(2026, 3, 16, 15, tzinfo=UTC)), date(2026, 3, 11))
    assert refused(walk, decision, date(2026, 3, 13)).code == "conversation_not_held"
    walk.do(CancelConversation(cancelled_on=date(2026, 3, 12), reason="ziek"), date(2026, 3, 12))
    assert refused(walk, decision, date(2026, 3, 13)).code == "conversation_not_held"
    assert walk.state.decision is None


@pytest.mark.parametrize("decision", [RAISE, KEEP], ids=["raise", "keep"])
def test_the_decision_is_taken_once_the_talk_was_held(decision: RaiseAdvice | KeepAdvice) -> None:
    walk = talked(reconsidering(), date(2026, 3, 12))
    [event] = walk.do(decision, date(2026, 3, 13))
    assert event.event_type == ("advice_raised" if decision is RAISE else "advice_kept")
    assert walk.state.decision is not None


@pytest.mark.parametrize("decision", [RAISE, KEEP], ids=["raise", "keep"])
def test_the_decision_is_taken_once_the_parents_declined_the_talk(
    decision: RaiseAdvice | KeepAdvice,
) -> None:
    walk = reconsidering()
    walk.do(
        RecordConversationDeclined(declined_on=date(2026, 3, 12), notes="Geen gesprek nodig."),
        date(2026, 3, 12),
    )
    [event] = walk.do(decision, date(2026, 3, 13))
    assert event.event_type == ("advice_raised" if decision is RAISE else "advice_kept")


@pytest.mark.parametrize("decision", [RAISE, KEEP], ids=["raise", "keep"])
def test_a_school_without_the_conversation_setting_decides_without_a_talk(
    decision: RaiseAdvice | KeepAdvice,
) -> None:
    walk = reconsidering(policy=SchoolPolicy(conversation_required=False))
    [event] = walk.do(decision, date(2026, 3, 13))
    assert event.event_type == ("advice_raised" if decision is RAISE else "advice_kept")
    assert walk.state.conversation is ConversationStatus.NONE


def test_a_school_that_does_not_require_the_conversation_can_give_the_advice_at_once() -> None:
    walk = reconsidering(policy=SchoolPolicy(conversation_required=False))
    walk.do(RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 12)), date(2026, 3, 12))
    [final] = walk.do(GiveFinalAdvice(given_on=date(2026, 3, 12)), date(2026, 3, 12))
    assert isinstance(final, FinalAdviceGiven)


def test_the_definitief_advies_follows_the_decision_and_a_new_decision_replaces_the_old() -> None:
    walk = talked(reconsidering(), date(2026, 3, 12))
    walk.do(
        KeepAdvice(
            decided_on=date(2026, 3, 12),
            reason=KeepReason.SOCIAL_EMOTIONAL,
            motivation="Past nu beter.",
        ),
        date(2026, 3, 12),
    )
    error = refused(walk, GiveFinalAdvice(given_on=date(2026, 3, 13), advice=A.HAVO_TM_VWO))
    assert error.code == "final_advice_differs_from_decision"
    walk.do(RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 13)), date(2026, 3, 13))
    [final] = walk.do(
        GiveFinalAdvice(given_on=date(2026, 3, 13), advice=A.HAVO_TM_VWO), date(2026, 3, 13)
    )
    assert isinstance(final, FinalAdviceGiven)
    assert final.advice is A.HAVO_TM_VWO


def test_a_decision_or_advice_after_24_march_is_recorded_and_flagged_late() -> None:
    walk = reconsidering()
    walk.do(RecordConversationHeld(held_on=date(2026, 3, 25), attendees=PARENTS), date(2026, 3, 25))
    [raised] = walk.do(
        RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 26)), date(2026, 3, 26)
    )
    [final] = walk.do(GiveFinalAdvice(given_on=date(2026, 3, 26)), date(2026, 3, 26))
    assert isinstance(raised, AdviceRaised)
    assert isinstance(final, FinalAdviceGiven)
    assert raised.timeliness is final.timeliness is Timeliness.LATE
    assert walk.state.late == ("advice_raised", "final_advice_given")


def test_the_conversation_is_planned_moved_cancelled_and_replanned_in_order() -> None:
    walk = reconsidering()
    at = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
    assert (
        refused(walk, MoveConversation(planned_at=at, reason="ziek"), date(2026, 3, 11)).code
        == "conversation_not_allowed"
    )
    walk.do(PlanConversation(planned_at=at), date(2026, 3, 11))
    walk.do(MoveConversation(planned_at=at.replace(day=17), reason="ouder ziek"), date(2026, 3, 12))
    assert walk.state.conversation_planned_at == at.replace(day=17)
    walk.do(
        CancelConversation(cancelled_on=date(2026, 3, 13), reason="afgezegd"), date(2026, 3, 13)
    )
    assert walk.state.conversation is ConversationStatus.CANCELLED
    walk.do(PlanConversation(planned_at=at.replace(day=19)), date(2026, 3, 13))
    replanned = walk.state
    assert replanned.conversation is ConversationStatus.PLANNED


def test_a_conversation_is_planned_in_the_future_and_held_with_the_parents() -> None:
    walk = reconsidering()
    past = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert refused(walk, PlanConversation(planned_at=past), date(2026, 3, 11)).code == (
        "conversation_in_past"
    )
    error = refused(
        walk,
        RecordConversationHeld(held_on=date(2026, 3, 12), attendees=(ConversationParty.PUPIL,)),
    )
    assert (error.code, error.field) == ("conversation_without_parents", "attendees")


def test_a_conversation_planned_after_the_deadline_is_flagged_late() -> None:
    walk = reconsidering()
    [planned] = walk.do(
        PlanConversation(planned_at=datetime(2026, 3, 30, 9, tzinfo=UTC)), date(2026, 3, 11)
    )
    assert getattr(planned, "timeliness", None) is Timeliness.LATE
