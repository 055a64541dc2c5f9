"""The trajectory's life cycle declared as data: states, triggers, guards, and where each leads.

Two concerns run side by side. The main life cycle (`Status`) follows the advice from enrolment to
the definitief advies; the heroverweging conversation (`ConversationStatus`) has its own small
cycle that only moves while a reconsideration is open. Both are plain lists of dicts in the shape
`transitions` expects, with guards named by string; `workflows.machine` turns them into the shared
`transitions` machines, `DESTINATIONS` turns them into lookup tables for folding, and
`workflows.diagram` draws them. One transition per (source, trigger), so a stored event always
leads to exactly one state.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class Status(Enum):
    # Members are singletons, so identity hashing is correct, and it is several times faster
    # than Enum's own __hash__ in the lookups every fold does.
    __hash__ = object.__hash__

    NOT_ENROLLED = "not_enrolled"
    IN_GROEP_7 = "in_groep_7"
    AWAITING_PROVISIONAL_ADVICE = "awaiting_provisional_advice"
    AWAITING_TEST_RESULT = "awaiting_test_result"
    RECONSIDERATION_REQUIRED = "reconsideration_required"
    RESULT_REVIEW_REQUIRED = "result_review_required"
    FINAL_ADVICE_GIVEN = "final_advice_given"
    LEFT_SCHOOL = "left_school"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


class ConversationStatus(Enum):
    __hash__ = object.__hash__

    NONE = "none"
    PLANNED = "planned"
    CANCELLED = "cancelled"
    HELD = "held"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return _CONVERSATION_LABELS[self]


_STATUS_LABELS = {
    Status.NOT_ENROLLED: "niet in het traject",
    Status.IN_GROEP_7: "groep 7",
    Status.AWAITING_PROVISIONAL_ADVICE: "groep 8, wacht op voorlopig advies",
    Status.AWAITING_TEST_RESULT: "voorlopig advies gegeven, wacht op toetsuitslag",
    Status.RECONSIDERATION_REQUIRED: "heroverweging nodig",
    Status.RESULT_REVIEW_REQUIRED: "toetsuitslag vraagt beoordeling",
    Status.FINAL_ADVICE_GIVEN: "definitief advies gegeven",
    Status.LEFT_SCHOOL: "school verlaten",
}
_CONVERSATION_LABELS = {
    ConversationStatus.NONE: "geen gesprek gepland",
    ConversationStatus.PLANNED: "gesprek gepland",
    ConversationStatus.CANCELLED: "gesprek afgezegd",
    ConversationStatus.HELD: "gesprek gevoerd",
    ConversationStatus.DECLINED: "ouders zien af van een gesprek",
}

TRIGGER_LABELS = {
    "enrol_in_groep_7": "inschrijven in groep 7",
    "enrol_in_groep_8": "inschrijven in groep 8",
    "enter_groep_8": "overgaan naar groep 8",
    "give_orientation_advice": "oriënterend advies geven",
    "give_provisional_advice": "voorlopig advies geven",
    "correct_provisional_advice": "voorlopig advies corrigeren",
    "record_okr_conversation": "OKR-gesprek vastleggen",
    "grant_exemption": "vrijstelling vastleggen",
    "record_test_missed": "verhindering vastleggen",
    "plan_catch_up_test": "inhaaltoets plannen",
    "record_no_test_result": "vastleggen dat er geen uitslag komt",
    "receive_test_result": "toetsuitslag ontvangen",
    "require_reconsideration": "heroverweging openen",
    "lapse_reconsideration": "heroverweging laten vervallen",
    "withdraw_automatic_final_advice": "automatisch definitief advies intrekken",
    "require_result_review": "beoordeling van de uitslag openen",
    "plan_conversation": "gesprek plannen",
    "move_conversation": "gesprek verzetten",
    "cancel_conversation": "gesprek afzeggen",
    "hold_conversation": "gesprek vastleggen",
    "decline_conversation": "afzien van gesprek vastleggen",
    "raise_advice": "advies bijstellen",
    "keep_advice": "advies handhaven",
    "give_final_advice": "definitief advies geven",
    "receive_objection": "verzoek van ouders ontvangen",
    "decide_objection": "verzoek van ouders beslissen",
    "leave_school": "vertrek van school vastleggen",
    "send_national_registration": "aanlevering aan DUO vastleggen",
}

S = Status
_GROEP_8_OPEN = [
    S.AWAITING_PROVISIONAL_ADVICE,
    S.AWAITING_TEST_RESULT,
    S.RECONSIDERATION_REQUIRED,
    S.RESULT_REVIEW_REQUIRED,
]
_ADVISED = [
    S.AWAITING_TEST_RESULT,
    S.RECONSIDERATION_REQUIRED,
    S.RESULT_REVIEW_REQUIRED,
    S.FINAL_ADVICE_GIVEN,
]


def _stay(trigger: str, states: list[Status], **extra: Any) -> list[dict[str, Any]]:
    """A trigger that records a fact without leaving the state it happens in."""
    return [{"trigger": trigger, "source": s, "dest": s, **extra} for s in states]


TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "enrol_in_groep_7", "source": S.NOT_ENROLLED, "dest": S.IN_GROEP_7},
    {
        "trigger": "enrol_in_groep_8",
        "source": S.NOT_ENROLLED,
        "dest": S.AWAITING_PROVISIONAL_ADVICE,
    },
    {"trigger": "enter_groep_8", "source": S.IN_GROEP_7, "dest": S.AWAITING_PROVISIONAL_ADVICE},
    *_stay("give_orientation_advice", [S.IN_GROEP_7]),
    {
        "trigger": "give_provisional_advice",
        "source": S.AWAITING_PROVISIONAL_ADVICE,
        "dest": S.AWAITING_TEST_RESULT,
    },
    *_stay(
        "correct_provisional_advice", [S.AWAITING_TEST_RESULT], conditions=["no_test_result_yet"]
    ),
    *_stay("record_okr_conversation", [*_GROEP_8_OPEN, S.FINAL_ADVICE_GIVEN]),
    *_stay(
        "grant_exemption",
        [S.AWAITING_PROVISIONAL_ADVICE, S.AWAITING_TEST_RESULT],
        conditions=["no_test_result_yet"],
    ),
    *_stay("record_test_missed", [S.AWAITING_TEST_RESULT], conditions=["not_exempt"]),
    *_stay("plan_catch_up_test", [S.AWAITING_TEST_RESULT], conditions=["test_was_missed"]),
    *_stay(
        "record_no_test_result",
        [S.AWAITING_TEST_RESULT],
        conditions=["not_exempt", "no_test_result_yet"],
    ),
    *_stay("receive_test_result", _ADVISED, conditions=["not_exempt"]),
    {
        "trigger": "require_reconsideration",
        "source": S.AWAITING_TEST_RESULT,
        "dest": S.RECONSIDERATION_REQUIRED,
    },
    *_stay("require_reconsideration", [S.RECONSIDERATION_REQUIRED]),
    {
        "trigger": "require_reconsideration",
        "source": S.FINAL_ADVICE_GIVEN,
        "dest": S.RECONSIDERATION_REQUIRED,
    },
    {
        "trigger": "lapse_reconsideration",
        "source": S.RECONSIDERATION_REQUIRED,
        "dest": S.AWAITING_TEST_RESULT,
    },
    # A higher replacing result takes an automatic definitief advies back: the trajectory waits
    # for the test outcome again, and the same decision opens the heroverweging.
    {
        "trigger": "withdraw_automatic_final_advice",
        "source": S.FINAL_ADVICE_GIVEN,
        "dest": S.AWAITING_TEST_RESULT,
        "conditions": ["final_advice_automatic"],
    },
    {
        "trigger": "require_result_review",
        "source": S.AWAITING_TEST_RESULT,
        "dest": S.RESULT_REVIEW_REQUIRED,
    },
    *_stay("plan_conversation", [S.RECONSIDERATION_REQUIRED]),
    *_stay("move_conversation", [S.RECONSIDERATION_REQUIRED]),
    *_stay("cancel_conversation", [S.RECONSIDERATION_REQUIRED]),
    *_stay("hold_conversation", [S.RECONSIDERATION_REQUIRED]),
    *_stay("decline_conversation", [S.RECONSIDERATION_REQUIRED]),
    # With the school's conversation setting on, the decision waits for the talk with parents
    # and pupil: held, or declined by the parents (DOMAIN.md "Heroverweging").
    *_stay("raise_advice", [S.RECONSIDERATION_REQUIRED], conditions=["conversation_settled"]),
    *_stay("keep_advice", [S.RECONSIDERATION_REQUIRED], conditions=["conversation_settled"]),
    {
        "trigger": "give_final_advice",
        "source": S.AWAITING_TEST_RESULT,
        "dest": S.FINAL_ADVICE_GIVEN,
        "conditions": ["test_outcome_settled"],
    },
    {
        "trigger": "give_final_advice",
        "source": S.RECONSIDERATION_REQUIRED,
        "dest": S.FINAL_ADVICE_GIVEN,
        "conditions": ["reconsideration_decided", "conversation_settled"],
    },
    {
        "trigger": "give_final_advice",
        "source": S.RESULT_REVIEW_REQUIRED,
        "dest": S.FINAL_ADVICE_GIVEN,
    },
    *_stay("give_final_advice", [S.FINAL_ADVICE_GIVEN], conditions=["objection_granted"]),
    *_stay("receive_objection", _ADVISED, conditions=["no_open_objection"]),
    *_stay("decide_objection", _ADVISED, conditions=["objection_open"]),
    *[
        {"trigger": "leave_school", "source": s, "dest": S.LEFT_SCHOOL}
        for s in Status
        if s not in (S.NOT_ENROLLED, S.LEFT_SCHOOL)
    ],
    *_stay("send_national_registration", _ADVISED),
]

C = ConversationStatus
CONVERSATION_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "plan_conversation", "source": C.NONE, "dest": C.PLANNED},
    {"trigger": "plan_conversation", "source": C.CANCELLED, "dest": C.PLANNED},
    {"trigger": "move_conversation", "source": C.PLANNED, "dest": C.PLANNED},
    {"trigger": "cancel_conversation", "source": C.PLANNED, "dest": C.CANCELLED},
    *[
        {"trigger": "hold_conversation", "source": s, "dest": C.HELD}
        for s in (C.NONE, C.PLANNED, C.CANCELLED)
    ],
    *[
        {"trigger": "decline_conversation", "source": s, "dest": C.DECLINED}
        for s in (C.NONE, C.PLANNED, C.CANCELLED)
    ],
]
CONVERSATION_TRIGGERS = frozenset(t["trigger"] for t in CONVERSATION_TRANSITIONS)


def _table(transitions: list[dict[str, Any]]) -> dict[tuple[Any, str], Any]:
    table: dict[tuple[Any, str], Any] = {}
    for t in transitions:
        key = (t["source"], t["trigger"])
        if key in table:
            raise ValueError(f"two transitions for {key}: a stored event must lead to one state")
        table[key] = t["dest"]
    return table


DESTINATIONS: dict[tuple[Status, str], Status] = _table(TRANSITIONS)
CONVERSATION_DESTINATIONS: dict[tuple[ConversationStatus, str], ConversationStatus] = _table(
    CONVERSATION_TRANSITIONS
)
GUARDS_BY_STEP: dict[tuple[Status, str], tuple[str, ...]] = {
    (t["source"], t["trigger"]): tuple(t.get("conditions", ())) for t in TRANSITIONS
}
