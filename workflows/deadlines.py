"""What a pupil's trajectory waits for next, by when, and whether that day has passed.

For lists and worklists: the legal deadline that applies in the pupil's current status (the
voorlopig advies by the end of its window, the result by 15 March, a heroverweging by its own
deadline, the definitief advies by 24 March). Recording late stays possible (reality wins); this
only says what is due, and what is overdue on `today`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows.calendar import LegalCalendar
from workflows.lifecycle import Status


@dataclass(frozen=True)
class Due:
    action: str
    """Stable code: provisional_advice, test_result, reconsideration, result_review."""
    label: str
    """What is due, in Dutch, for the teacher."""
    due: date

    def overdue_on(self, today: date) -> bool:
        return today > self.due


def next_due(
    status: Status, calendar: LegalCalendar, reconsideration_deadline: date | None
) -> Due | None:
    """What the trajectory waits for in `status`; None when nothing legal is due."""
    if status is Status.AWAITING_PROVISIONAL_ADVICE:
        window = calendar.provisional_advice_window
        return Due("provisional_advice", "voorlopig schooladvies geven", window.last)
    if status is Status.AWAITING_TEST_RESULT:
        return Due("test_result", "toetsuitslag ontvangen", calendar.results_deadline)
    if status is Status.RECONSIDERATION_REQUIRED:
        due = reconsideration_deadline or calendar.final_advice_deadline
        return Due("reconsideration", "heroverwegen en definitief advies geven", due)
    if status is Status.RESULT_REVIEW_REQUIRED:
        return Due(
            "result_review",
            "toetsuitslag beoordelen en definitief advies geven",
            calendar.final_advice_deadline,
        )
    return None
