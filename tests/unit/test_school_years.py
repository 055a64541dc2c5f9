"""Complete school years at the five seed schools, one pupil for every path the law knows.

Each school gives its advices on the days its own cycle says (shared/seeds/); the law's calendar
decides whether those days were on time. Every pupil's whole history is decided command by command
and the outcome checked: the advice, why it is what it is, and what was flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from tests.unit.walk import Walk
from workflows.calendar import DateWindow, SchoolYear
from workflows.commands import (
    DecideObjection,
    EnrolPupil,
    GiveFinalAdvice,
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    GrantExemption,
    KeepAdvice,
    MoveToGroep8,
    PlanCatchUpTest,
    PlanConversation,
    RaiseAdvice,
    ReceiveObjection,
    ReceiveTestResult,
    RecordConversationHeld,
    RecordLeaving,
    RecordOkrConversation,
    RecordTestMissed,
)
from workflows.cycles import SEED_CYCLES, RoundKind, SchoolCycle, Severity, check_cycle
from workflows.enums import ConversationParty, ExemptionGround, FinalAdviceBasis, KeepReason
from workflows.enums import Timeliness as T
from workflows.lifecycle import ConversationStatus, Status
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice as A
from workflows.scale import TestAdvice as TA

GROEP_8_YEAR = SchoolYear(2025)
GROEP_7_YEAR = SchoolYear(2024)
TEST_WINDOW = DateWindow(date(2026, 2, 2), date(2026, 2, 20))
RESULTS_DAY = date(2026, 3, 10)
PARENTS_AND_PUPIL = (ConversationParty.PARENTS, ConversationParty.PUPIL, ConversationParty.TEACHER)


@dataclass(frozen=True)
class School:
    key: str
    cycle: SchoolCycle
    policy: SchoolPolicy

    @property
    def provisional_day(self) -> date:
        found = self.cycle.round(RoundKind.PROVISIONAL_ADVICE)
        assert found is not None
        return found.first.in_year(GROEP_8_YEAR)

    def start(self, walk: Walk, *, from_groep_7: bool = False) -> None:
        if not from_groep_7:
            walk.do(
                EnrolPupil(
                    school_id=self.key,
                    school_year=str(GROEP_8_YEAR),
                    groep=8,
                    enrolled_on=date(2025, 8, 25),
                ),
                date(2025, 8, 25),
            )
            return
        walk.do(
            EnrolPupil(
                school_id=self.key,
                school_year=str(GROEP_7_YEAR),
                groep=7,
                enrolled_on=date(2024, 8, 26),
            ),
            date(2024, 8, 26),
        )
        orientation = self.cycle.round(RoundKind.ORIENTATION_ADVICE, groep=7)
        if orientation is not None:  # not every school gives one (Toermalijn does not)
            day = orientation.first.in_year(GROEP_7_YEAR)
            walk.do(GiveOrientationAdvice(advice=A.HAVO, given_on=day), day)
        walk.do(
            MoveToGroep8(school_year=str(GROEP_8_YEAR), entered_on=date(2025, 8, 25)),
            date(2025, 8, 25),
        )

    def provisional(self, walk: Walk, advice: A) -> None:
        walk.do(
            GiveProvisionalAdvice(advice=advice, given_on=self.provisional_day),
            self.provisional_day,
        )
        okr = self.cycle.round(RoundKind.OKR)
        if okr is not None:
            day = okr.first.in_year(GROEP_8_YEAR)
            walk.do(
                RecordOkrConversation(
                    held_on=day,
                    parents_saw_okr=True,
                    parents_view="Wij herkennen ons kind in dit beeld.",
                ),
                day,
            )

    def result(self, walk: Walk, advice: TA, on: date = RESULTS_DAY, delivery: str = "d1") -> None:
        walk.do(
            ReceiveTestResult(
                provider="IEP", delivery_id=delivery, test_advice=advice, received_on=on
            ),
            on,
        )

    def talk(self, walk: Walk) -> None:
        walk.do(
            PlanConversation(planned_at=datetime(2026, 3, 16, 15, 0, tzinfo=UTC)), date(2026, 3, 11)
        )
        walk.do(
            RecordConversationHeld(held_on=date(2026, 3, 16), attendees=PARENTS_AND_PUPIL),
            date(2026, 3, 16),
        )


def higher_and_raised(school: School, walk: Walk) -> None:
    school.start(walk, from_groep_7=True)
    school.provisional(walk, A.HAVO)
    school.result(walk, TA.HAVO_VWO)
    school.talk(walk)
    walk.do(RaiseAdvice(advice=A.HAVO_TM_VWO, decided_on=date(2026, 3, 17)), date(2026, 3, 17))
    walk.do(GiveFinalAdvice(given_on=date(2026, 3, 18)), date(2026, 3, 18))


def higher_and_kept(school: School, walk: Walk) -> None:
    school.start(walk)
    school.provisional(walk, A.VMBO_GLTL)
    school.result(walk, TA.VMBO_GLTL_HAVO)
    school.talk(walk)
    walk.do(
        KeepAdvice(
            decided_on=date(2026, 3, 17),
            reason=KeepReason.WORK_ATTITUDE,
            motivation="Zelfstandig plannen lukt nog niet; havo vraagt dat wel.",
        ),
        date(2026, 3, 17),
    )
    walk.do(GiveFinalAdvice(given_on=date(2026, 3, 18)), date(2026, 3, 18))


def equal(school: School, walk: Walk) -> None:
    school.start(walk)
    school.provisional(walk, A.HAVO_TM_VWO)
    school.result(walk, TA.HAVO_VWO)


def lower(school: School, walk: Walk) -> None:
    school.start(walk)
    school.provisional(walk, A.VWO)
    school.result(walk, TA.HAVO_VWO)


def exempt(school: School, walk: Walk) -> None:
    school.start(walk)
    walk.do(
        GrantExemption(
            ground=ExemptionGround.NEWCOMER, decided_on=date(2025, 10, 15), parents_consulted=True
        ),
        date(2025, 10, 15),
    )
    school.provisional(walk, A.VMBO_BB_MET_LWOO)


def absent_with_catch_up(school: School, walk: Walk) -> None:
    school.start(walk)
    school.provisional(walk, A.VMBO_KB)
    walk.do(RecordTestMissed(missed_on=date(2026, 2, 3), reason="ziek"), date(2026, 2, 3))
    walk.do(PlanCatchUpTest(planned_on=date(2026, 2, 24)), date(2026, 2, 9))
    school.result(walk, TA.VMBO_BB_VMBO_KB, on=date(2026, 3, 13))


def leaves_mid_year(school: School, walk: Walk) -> None:
    school.start(walk)
    walk.do(RecordLeaving(left_on=date(2026, 1, 5), destination="verhuisd"), date(2026, 1, 5))


def objection_granted(school: School, walk: Walk) -> None:
    higher_and_kept(school, walk)
    walk.do(
        ReceiveObjection(
            objection_id="o-1",
            received_on=date(2026, 3, 19),
            summary="Ouders vragen vmbo-gt/havo zoals het toetsadvies.",
            requested_advice=A.VMBO_GLTL_TM_HAVO,
        ),
        date(2026, 3, 19),
    )
    walk.do(
        DecideObjection(
            objection_id="o-1",
            decided_on=date(2026, 3, 23),
            granted=True,
            new_advice=A.VMBO_GLTL_TM_HAVO,
            motivation="Na het gesprek met de IB: met begeleiding haalbaar.",
        ),
        date(2026, 3, 23),
    )


Script = Callable[[School, Walk], None]
# (script, status, final advice, basis of the final advice)
PUPILS: list[tuple[Script, Status, A | None, FinalAdviceBasis | None]] = [
    (higher_and_raised, Status.FINAL_ADVICE_GIVEN, A.HAVO_TM_VWO, FinalAdviceBasis.RECONSIDERED),
    (higher_and_kept, Status.FINAL_ADVICE_GIVEN, A.VMBO_GLTL, FinalAdviceBasis.RECONSIDERED),
    (equal, Status.FINAL_ADVICE_GIVEN, A.HAVO_TM_VWO, FinalAdviceBasis.TEST_NOT_HIGHER),
    (lower, Status.FINAL_ADVICE_GIVEN, A.VWO, FinalAdviceBasis.TEST_NOT_HIGHER),
    (exempt, Status.FINAL_ADVICE_GIVEN, A.VMBO_BB_MET_LWOO, FinalAdviceBasis.EXEMPT),
    (absent_with_catch_up, Status.FINAL_ADVICE_GIVEN, A.VMBO_KB, FinalAdviceBasis.TEST_NOT_HIGHER),
    (leaves_mid_year, Status.LEFT_SCHOOL, None, None),
    (
        objection_granted,
        Status.FINAL_ADVICE_GIVEN,
        A.VMBO_GLTL_TM_HAVO,
        FinalAdviceBasis.OBJECTION_GRANTED,
    ),
]

# How each school's own voorlopig-advies day stands to the law's 10-31 January window.
PROVISIONAL_TIMELINESS = {
    "de-brandaris": T.ON_TIME,
    "de-duif": T.LATE,  # at the OKR-gesprek in March, as before the 2023-24 law
    "samen-sterk": T.EARLY,  # between the autumn and Christmas holidays
    "toermalijn": T.EARLY,  # November
    "de-bron": T.ON_TIME,  # after the first portfolio, from 20 January
}


def schools() -> list[School]:
    return [
        School(key, cycle, replace(cycle.policy(), test_windows={GROEP_8_YEAR: TEST_WINDOW}))
        for key, cycle in SEED_CYCLES.items()
    ]


@pytest.mark.parametrize("school", schools(), ids=lambda s: s.key)
@pytest.mark.parametrize(
    ("script", "status", "final", "basis"), PUPILS, ids=[p[0].__name__ for p in PUPILS]
)
def test_a_school_year_ends_with_the_advice_the_law_and_the_school_decided(
    school: School,
    script: Script,
    status: Status,
    final: A | None,
    basis: FinalAdviceBasis | None,
) -> None:
    walk = Walk(school.policy)
    script(school, walk)
    state = walk.state
    assert state.status is status
    if final is None:
        assert state.final_advice is None
        return
    assert state.final_advice is not None
    assert (state.final_advice.advice, state.final_advice.basis) == (final, basis)
    assert state.provisional_advice is not None
    assert state.provisional_advice.timeliness is PROVISIONAL_TIMELINESS[school.key]
    assert ("provisional_advice_given" in state.late) == (
        PROVISIONAL_TIMELINESS[school.key] is T.LATE
    )
    provisional_steps = state.provisional_advice.advice.half_steps
    final_steps = state.final_advice.advice.half_steps
    assert provisional_steps is not None
    assert final_steps is not None
    assert final_steps >= provisional_steps, "the advice is never lowered"


def test_a_heroverweging_keeps_its_conversation_and_decision_on_record() -> None:
    walk = Walk()
    school = schools()[0]
    higher_and_kept(school, walk)
    state = walk.state
    assert state.conversation is ConversationStatus.HELD
    assert state.decision is not None
    assert (state.decision.raised, state.decision.reason) == (False, KeepReason.WORK_ATTITUDE)
    kinds = [e.event_type for e in walk.history]
    assert kinds.index("reconsideration_required") < kinds.index("advice_kept")
    assert kinds[-1] == "final_advice_given"


EXPECTED_ISSUES = {
    "de-brandaris": set(),
    "de-duif": {"provisional_round_too_late"},
    "samen-sterk": {"provisional_round_too_early", "final_round_partly_late"},
    "toermalijn": {"provisional_round_too_early", "final_round_before_results"},
    "de-bron": {"provisional_round_partly_outside"},
}


@pytest.mark.parametrize("school", schools(), ids=lambda s: s.key)
def test_a_school_whose_rounds_cannot_meet_the_law_is_flagged(school: School) -> None:
    issues = check_cycle(school.cycle, school.policy.calendar(GROEP_8_YEAR))
    assert {i.code for i in issues} == EXPECTED_ISSUES[school.key]
    assert all(i.message for i in issues)
    if school.key in ("de-duif", "toermalijn"):
        assert any(i.severity is Severity.ERROR for i in issues)
