"""What is still to be done for the year's groep 8 pupils, and who must act: the voorlopig advies
(the class teacher), the result (the intern begeleider follows a missing one up), the heroverweging
(the conversation and the decision: the class teacher), the definitief advies after a decision or a
result review, and the registrations with DUO (the school's administration, under directie). Each
item is dated by its legal deadline; `OpenItem.overdue_on(today)` says whether it has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from service.reports.facts import PupilFacts
from service.reports.table import Figure
from workflows.calendar import LegalCalendar
from workflows.enums import AdviceKind
from workflows.lifecycle import Status

LEERKRACHT = "leerkracht groep 8"
IB = "intern begeleider"
ADMINISTRATIE = "directie (administratie)"


@dataclass(frozen=True)
class OpenItem:
    code: str
    label: str
    who: str
    due: date | None
    pupils: Figure

    def overdue_on(self, today: date) -> bool:
        return self.due is not None and today > self.due


def open_item_of(f: PupilFacts, calendar: LegalCalendar) -> list[tuple[str, str, str, date | None]]:
    """What is still to be done for this pupil: (code, what, who must act, by when)."""
    deadline = calendar.final_advice_deadline
    found: list[tuple[str, str, str, date | None]] = []
    hero = f.heroverweging
    if f.status is Status.AWAITING_PROVISIONAL_ADVICE:
        last = calendar.provisional_advice_window.last
        found.append(("provisional_advice", "voorlopig schooladvies geven", LEERKRACHT, last))
    elif f.status is Status.AWAITING_TEST_RESULT:
        found.append(
            (
                "test_result",
                "toetsuitslag ontvangen, inhaaltoets plannen of vastleggen dat er geen komt",
                IB,
                calendar.results_deadline,
            )
        )
    elif f.status is Status.RECONSIDERATION_REQUIRED:
        if hero is not None and hero.outcome is not None:
            found.append(
                (
                    "final_after_decision",
                    "definitief advies vastleggen na het besluit",
                    LEERKRACHT,
                    deadline,
                )
            )
        elif hero is not None and hero.talk is not None:
            found.append(
                ("reconsideration_decision", "heroverweging beslissen", LEERKRACHT, deadline)
            )
        else:
            found.append(
                (
                    "reconsideration_talk",
                    "heroverwegingsgesprek met ouders en leerling voeren, dan beslissen",
                    LEERKRACHT,
                    deadline,
                )
            )
    elif f.status is Status.RESULT_REVIEW_REQUIRED:
        found.append(
            (
                "result_review",
                "toetsuitslag beoordelen en definitief advies geven (vso of geen specifiek advies)",
                f"{LEERKRACHT} met {IB}",
                deadline,
            )
        )
    if f.provisional is not None and AdviceKind.PROVISIONAL not in f.registered:
        found.append(
            ("register_provisional", "voorlopig advies aan DUO leveren", ADMINISTRATIE, None)
        )
    if f.final is not None and AdviceKind.FINAL not in f.registered:
        found.append(("register_final", "definitief advies aan DUO leveren", ADMINISTRATIE, None))
    return found


OPEN_ITEM_ORDER = (
    "provisional_advice",
    "test_result",
    "reconsideration_talk",
    "reconsideration_decision",
    "final_after_decision",
    "result_review",
    "register_provisional",
    "register_final",
)


def open_items(facts: Sequence[PupilFacts], calendar: LegalCalendar) -> tuple[OpenItem, ...]:
    items: dict[str, tuple[str, str, date | None, list[str]]] = {}
    for f in facts:
        for code, label, who, due in open_item_of(f, calendar):
            items.setdefault(code, (label, who, due, []))[3].append(f.pupil_id)
    return tuple(
        OpenItem(code, label, who, due, Figure.of(ids))
        for code in OPEN_ITEM_ORDER
        if code in items
        for label, who, due, ids in [items[code]]
    )
