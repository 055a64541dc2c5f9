"""The report's own rules on small, hand-made years: groups and counts under five pupils never
show their number (nor a share that would give it away), the fact state follows a heroverweging
through a replacing delivery and a lapse, and a registration with DUO of an advice that changed
afterwards does not count as registered."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.reports.facts import EMPTY, FactState, apply, pupil_facts
from service.reports.figures import figures_of
from service.reports.table import SUPPRESSED
from service.reports.tables import school_tables
from workflows.calendar import SchoolYear
from workflows.enums import AdviceKind

YEAR = SchoolYear.parse("2025-2026")
DEADLINE = date(2026, 3, 24)


def trajectory(
    n: int, *, provisional: str = "HAVO", test: str | None = "havo/vwo", **extra: Any
) -> dict[str, Any]:
    row = {
        "stream_id": f"trajectory-p{n:02d}",
        "school_id": "s1",
        "status": "final_advice_given",
        "provisional_advice": provisional,
        "provisional_timeliness": "on_time",
        "test_advice": test,
        "final_advice": None,
        "final_given_on": None,
    }
    return row | extra


def facts(row: dict[str, Any], state: FactState = EMPTY, *, sex: int = 1) -> Any:
    return pupil_facts(row, state, DEADLINE, "8A", sex)


def equal_chances_rows(facts: list[Any]) -> dict[str, tuple[Any, ...]]:
    report = figures_of(facts, "s1", "School", YEAR, date(2026, 4, 1))
    table = next(t for t in school_tables(report) if t.key == "gelijke_kansen")
    assert all(
        (r, c) not in table.pupils
        for r, row in enumerate(table.rows)
        for c, v in enumerate(row)
        if v == SUPPRESSED
    )
    return {row[0]: row[1:] for row in table.rows}  # type: ignore[misc]


def test_a_group_under_five_pupils_shows_less_than_five_in_every_cell_never_its_number() -> None:
    boys = [facts(trajectory(k), sex=1) for k in range(4)]
    girls = [facts(trajectory(10 + k, test="havo/vwo"), sex=2) for k in range(6)]

    rows = equal_chances_rows(boys + girls)

    assert rows["jongens"] == (SUPPRESSED,) * 7
    assert rows["meisjes"][:4] == (6, 6, 6, 100.0)
    assert rows["meisjes"][4:6] == (SUPPRESSED, SUPPRESSED)  # none raised: 0 is under five too
    assert rows["meisjes"][6] == 1.0  # havo/vwo is one half step above havo
    assert rows["alle leerlingen"][0] == 10


def test_a_share_whose_part_is_under_five_is_not_shown_even_in_a_large_group() -> None:
    higher = [facts(trajectory(k)) for k in range(3)]
    equal = [facts(trajectory(10 + k, test="vmbo-gl-tl/havo")) for k in range(9)]

    rows = equal_chances_rows(higher + equal)

    everyone = rows["alle leerlingen"]
    assert everyone[:3] == (12, 12, SUPPRESSED)
    assert everyone[3] == SUPPRESSED  # 3 of 12 would say 25.0 % and so give the 3 away


def test_a_replacing_higher_delivery_keeps_the_held_talk_and_a_lapse_ends_the_heroverweging() -> (
    None
):
    state = apply(EMPTY, "reconsideration_required", {})
    state = apply(state, "reconsideration_conversation_held", {})
    state = apply(state, "reconsideration_required", {})  # a replacing delivery, still higher
    assert state == FactState(hero=True, talk="held")

    decided = apply(state, "advice_kept", {"reason": "work_attitude", "timeliness": "late"})
    assert (decided.outcome, decided.reason, decided.decision_late) == (
        "kept",
        "work_attitude",
        True,
    )

    assert apply(decided, "reconsideration_lapsed", {}) == EMPTY


def test_a_registration_of_an_advice_that_was_corrected_afterwards_does_not_count() -> None:
    state = apply(
        EMPTY,
        "national_register_registration_sent",
        {"kind": "provisional", "advice": "VMBO_GL/TL_TM_HAVO"},
    )

    corrected = facts(trajectory(1, provisional="HAVO"), state)
    same = facts(trajectory(2, provisional="VMBO_GL/TL_TM_HAVO"), state)

    assert AdviceKind.PROVISIONAL not in corrected.registered
    assert AdviceKind.PROVISIONAL in same.registered
    report = figures_of([corrected, same], "s1", "School", YEAR, date(2026, 4, 1))
    assert report.compliance.provisional_not_registered.pupils == ("p01",)
