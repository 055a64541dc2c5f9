"""The advices a heroverweging may raise to (`raise_choices`, what the form offers) are exactly
the ones `raise_advice` accepts: for every voorlopig advies and toetsadvies, every advice on
DUO's list is either offered and accepted, or not offered and refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from workflows import events as ev
from workflows.codec import Event
from workflows.commands import RaiseAdvice
from workflows.decide import decide
from workflows.enums import ConversationParty, Timeliness
from workflows.errors import DomainError
from workflows.rules_reconsideration import raise_choices
from workflows.scale import Comparison, SchoolAdvice, TestAdvice, compare

NOW = datetime(2026, 3, 12, 10, tzinfo=UTC)


def history(current: SchoolAdvice, test: TestAdvice) -> list[Event]:
    return [
        ev.PupilEnrolled(
            school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
        ),
        ev.ProvisionalAdviceGiven(
            advice=current, given_on=date(2026, 1, 15), timeliness=Timeliness.ON_TIME
        ),
        ev.TestResultReceived(
            provider="IEP",
            delivery_id="d",
            test_advice=test,
            reference_levels=(),
            received_on=date(2026, 3, 10),
        ),
        ev.ReconsiderationRequired(
            test_advice=test, current_advice=current, deadline=date(2026, 3, 24)
        ),
        ev.ConversationHeld(
            held_on=date(2026, 3, 11), attendees=(ConversationParty.PARENTS,), notes=None
        ),
    ]


PAIRS = [
    (current, test)
    for current in SchoolAdvice
    for test in TestAdvice
    if current.half_steps is not None and compare(test, current) is Comparison.HIGHER
]


@pytest.mark.parametrize(("current", "test"), PAIRS, ids=lambda x: x.value)
def test_the_choices_are_exactly_what_raise_advice_accepts(
    current: SchoolAdvice, test: TestAdvice
) -> None:
    offered = raise_choices(current, test)
    assert offered, "a higher toetsadvies always leaves a level to raise to"
    past = history(current, test)
    for advice in SchoolAdvice:
        command = RaiseAdvice(
            advice=advice, decided_on=date(2026, 3, 12), reason=None, motivation=None
        )
        try:
            decide(past, command, NOW)
            accepted = True
        except DomainError as error:
            # a partial raise without reasons is refused for the missing reason, not the level
            accepted = error.code == "partial_raise_needs_motivation"
        assert accepted is (advice in offered), advice


def test_the_choices_run_from_just_above_the_advice_up_to_the_toetsadvies() -> None:
    choices = raise_choices(SchoolAdvice.VMBO_GLTL, TestAdvice.HAVO_VWO)
    assert [c.label for c in choices] == ["vmbo-gt/havo", "havo", "havo/vwo"]
    assert raise_choices(SchoolAdvice.VSO, TestAdvice.VWO) == ()
