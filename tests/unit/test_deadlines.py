"""What is due next in each status, and when it is overdue."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.calendar import SchoolYear, legal_calendar
from workflows.deadlines import next_due
from workflows.lifecycle import Status

CALENDAR = legal_calendar(SchoolYear.parse("2025-2026"))


@pytest.mark.parametrize(
    ("status", "action", "due"),
    [
        (Status.AWAITING_PROVISIONAL_ADVICE, "provisional_advice", date(2026, 1, 31)),
        (Status.AWAITING_TEST_RESULT, "test_result", date(2026, 3, 15)),
        (Status.RECONSIDERATION_REQUIRED, "reconsideration", date(2026, 3, 24)),
        (Status.RESULT_REVIEW_REQUIRED, "result_review", date(2026, 3, 24)),
    ],
)
def test_each_waiting_status_has_its_legal_deadline(status: Status, action: str, due: date) -> None:
    found = next_due(status, CALENDAR, None)
    assert found is not None
    assert (found.action, found.due) == (action, due)
    assert found.label  # Dutch, for the worklist


def test_a_heroverweging_is_due_by_its_own_deadline_when_it_has_one() -> None:
    found = next_due(Status.RECONSIDERATION_REQUIRED, CALENDAR, date(2026, 3, 20))
    assert found is not None
    assert found.due == date(2026, 3, 20)
    assert not found.overdue_on(date(2026, 3, 20))
    assert found.overdue_on(date(2026, 3, 21))


@pytest.mark.parametrize(
    "status", [Status.IN_GROEP_7, Status.FINAL_ADVICE_GIVEN, Status.LEFT_SCHOOL]
)
def test_nothing_is_due_when_the_law_asks_nothing_more(status: Status) -> None:
    assert next_due(status, CALENDAR, None) is None
