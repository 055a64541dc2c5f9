"""Properties that hold for any sequence of commands, whatever order or content they come in.

Commands are drawn from every kind the trajectory knows, with dates across a whole school year
and values both valid and not; each is decided at a moment no earlier than the one before.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows import commands as c
from workflows.codec import Event
from workflows.decide import decide
from workflows.enums import AdviceKind, ConversationParty, ExemptionGround, KeepReason
from workflows.errors import DomainError
from workflows.events import CODEC
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import Trajectory, evolve, fold

FIRST, LAST = date(2025, 8, 1), date(2026, 7, 31)
# Half of the dates fall in the heroverweging weeks of March, where most rules meet.
days = st.one_of(
    st.dates(min_value=FIRST, max_value=LAST),
    st.dates(min_value=date(2026, 3, 10), max_value=date(2026, 3, 31)),
)
advices = st.sampled_from(list(SchoolAdvice))
texts = st.sampled_from(["", "  ", "Omdat de werkhouding nog groeit.", "ja"])
moments = st.builds(lambda d, h: datetime.combine(d, time(h), UTC), days, st.integers(8, 20))
parties = st.lists(st.sampled_from(list(ConversationParty)), min_size=1, max_size=3).map(tuple)

commands = st.one_of(
    st.builds(
        c.EnrolPupil,
        school_id=st.just("s"),
        school_year=st.just("2025-2026"),
        groep=st.sampled_from([8, 8, 7, 6]),
        enrolled_on=days,
    ),
    st.builds(c.GiveProvisionalAdvice, advice=advices, given_on=days),
    st.builds(c.CorrectProvisionalAdvice, advice=advices, corrected_on=days, reason=texts),
    st.builds(
        c.RecordOkrConversation, held_on=days, parents_saw_okr=st.booleans(), parents_view=texts
    ),
    st.builds(
        c.GrantExemption,
        ground=st.sampled_from(list(ExemptionGround)),
        decided_on=days,
        parents_consulted=st.booleans(),
    ),
    st.builds(c.RecordTestMissed, missed_on=days, reason=texts),
    st.builds(c.PlanCatchUpTest, planned_on=days),
    st.builds(c.RecordNoTestResult, recorded_on=days, reason=texts),
    st.builds(
        c.ReceiveTestResult,
        provider=st.just("IEP"),
        delivery_id=st.sampled_from(["d1", "d2", "d3"]),
        test_advice=st.sampled_from(list(TestAdvice)),
        received_on=days,
    ),
    st.builds(c.PlanConversation, planned_at=moments),
    st.builds(c.MoveConversation, planned_at=moments, reason=texts),
    st.builds(c.CancelConversation, cancelled_on=days, reason=texts),
    st.builds(c.RecordConversationHeld, held_on=days, attendees=parties, notes=texts),
    st.builds(c.RecordConversationDeclined, declined_on=days, notes=texts),
    st.builds(
        c.RaiseAdvice,
        advice=advices,
        decided_on=days,
        reason=st.none() | st.sampled_from(list(KeepReason)),
        motivation=texts,
    ),
    st.builds(
        c.KeepAdvice, decided_on=days, reason=st.sampled_from(list(KeepReason)), motivation=texts
    ),
    st.builds(c.GiveFinalAdvice, given_on=days, advice=st.none() | advices),
    st.builds(
        c.ReceiveObjection,
        objection_id=st.sampled_from(["o1", "o2"]),
        received_on=days,
        summary=texts,
        requested_advice=st.none() | advices,
    ),
    st.builds(
        c.DecideObjection,
        objection_id=st.sampled_from(["o1", "o2"]),
        decided_on=days,
        granted=st.booleans(),
        motivation=texts,
        new_advice=st.none() | advices,
    ),
    st.builds(c.RecordLeaving, left_on=days),
    st.builds(c.RecordNationalRegistration, kind=st.sampled_from(list(AdviceKind)), sent_on=days),
)
# Plausible spines, so that sequences get deep into the year often enough.
_START: list[c.Command] = [
    c.EnrolPupil(school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)),
    c.GiveProvisionalAdvice(advice=SchoolAdvice.VMBO_GLTL, given_on=date(2026, 1, 20)),
]
_HIGHER: list[c.Command] = [
    *_START,
    c.ReceiveTestResult(
        provider="IEP",
        delivery_id="d0",
        test_advice=TestAdvice.HAVO_VWO,
        received_on=date(2026, 3, 10),
    ),
]
_TALKED: list[c.Command] = [
    *_HIGHER,
    c.RecordConversationHeld(
        held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS, ConversationParty.PUPIL)
    ),
]
_DECIDED: list[c.Command] = [
    *_TALKED,
    c.RaiseAdvice(
        advice=SchoolAdvice.VMBO_GLTL_TM_HAVO,
        decided_on=date(2026, 3, 13),
        reason=KeepReason.SUPPORT_NEEDS,
        motivation="Eerst met begeleiding.",
    ),
]
_FINAL: list[c.Command] = [*_DECIDED, c.GiveFinalAdvice(given_on=date(2026, 3, 14))]
# a result not higher: the definitief advies follows automatically (a later higher one withdraws it)
_AUTOMATIC: list[c.Command] = [
    *_START,
    c.ReceiveTestResult(
        provider="IEP",
        delivery_id="d0",
        test_advice=TestAdvice.VMBO_KB_VMBO_GLTL,
        received_on=date(2026, 3, 10),
    ),
]
spines = st.sampled_from([_START, _HIGHER, _TALKED, _DECIDED, _FINAL, _AUTOMATIC])


def run(cmds: list[c.Command], lag: list[int]) -> tuple[list[Event], list[Trajectory], int]:
    """Decide each command in turn; returns the history, the state after each step, rejections."""
    history: list[Event] = []
    states = [Trajectory()]
    now = datetime(2025, 8, 25, 12, tzinfo=UTC)
    rejected = 0
    for command, extra_days in zip(cmds, lag, strict=False):
        day = _day_of(command)
        if day is not None:
            now = max(now, datetime.combine(day, time(18), UTC) + timedelta(days=extra_days))
        before = list(history)
        try:
            events = decide(history, command, now)
        except DomainError as error:
            rejected += 1
            assert error.code, "a refusal names its rule"
            assert error.message, "and explains it"
            assert history == before
            continue
        for event in events:
            states.append(evolve(states[-1], event))
        history.extend(events)
    return history, states, rejected


def _day_of(command: c.Command) -> date | None:
    for name in (
        "given_on",
        "enrolled_on",
        "corrected_on",
        "held_on",
        "decided_on",
        "missed_on",
        "recorded_on",
        "received_on",
        "cancelled_on",
        "declined_on",
        "left_on",
        "sent_on",
        "planned_on",
        "entered_on",
    ):
        value = getattr(command, name, None)
        if isinstance(value, date):
            return value
    return None


scenario = st.tuples(
    st.tuples(spines, st.lists(commands, max_size=25)).map(lambda t: [*t[0], *t[1]]),
    st.lists(st.integers(0, 3), min_size=30, max_size=30),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_the_advice_is_never_lowered(case: tuple[list[c.Command], list[int]]) -> None:
    _history, states, _ = run(*case)
    finals: list[int] = []
    for state in states:
        final, provisional = state.final_advice, state.provisional_advice
        if final is None or provisional is None:
            continue
        f, p = final.advice.half_steps, provisional.advice.half_steps
        if f is not None and p is not None:
            assert f >= p, f"definitief {final.advice} below voorlopig {provisional.advice}"
            finals.append(f)
    assert finals == sorted(finals), "a definitief advies never goes down"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_once_a_result_is_in_the_advice_that_counts_never_goes_down(
    case: tuple[list[c.Command], list[int]],
) -> None:
    _history, states, _ = run(*case)
    steps = [
        state.current_advice.half_steps
        for state in states
        if state.test_advice is not None and state.current_advice is not None
    ]
    on_scale = [s for s in steps if s is not None]
    assert on_scale == sorted(on_scale), "not by a withdrawal, a decision or a request"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_replaying_the_events_rebuilds_the_same_state(
    case: tuple[list[c.Command], list[int]],
) -> None:
    history, states, _ = run(*case)
    assert fold(history) == states[-1]
    stored = [CODEC.encode(e) for e in history]
    decoded = [CODEC.decode(t, v, json.loads(json.dumps(d))) for t, v, d in stored]
    assert decoded == history
    assert [vars(e) for e in decoded] == [vars(e) for e in history]
    assert fold(decoded) == states[-1]
    assert states[-1].version == len(history)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_every_accepted_event_is_allowed_by_the_life_cycle(
    case: tuple[list[c.Command], list[int]],
) -> None:
    history, _, _ = run(*case)
    # fold raises InvalidHistoryError on any step the machine's table does not allow
    fold(history)
