"""What a person may do with a pupil now, derived from the life cycle's machine, not listed by hand.

Each action a person can take in the browser is one trigger of the machine (`workflows.lifecycle`)
with a Dutch label and a URL key. `available_actions` asks the shared machine which of those
triggers the pupil's current state allows — the same `fire` the domain runs before it decides,
guards included, and the conversation's own machine for the heroverweging conversation — and keeps
the ones the person's role may give. Triggers that only systems fire (a result arriving, the
heroverweging opening or lapsing, an enrolment) are never actions; `SYSTEM_TRIGGERS` names them,
and a unit test checks that every trigger of the machine is one or the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.accounts.access import WRITERS
from service.accounts.roles import Role
from service.advice.routing import SCHOOL_STAFF
from workflows.errors import DomainError
from workflows.lifecycle import CONVERSATION_TRIGGERS, Status
from workflows.machine import fire, fire_conversation
from workflows.policy import DEFAULT_POLICY, SchoolPolicy
from workflows.trajectory import Trajectory

DIRECTIE = frozenset({Role.DIRECTIE})


@dataclass(frozen=True)
class ActionKind:
    """One kind of action: the machine's trigger, its URL key, its Dutch label, who may give it."""

    trigger: str
    key: str
    label: str
    roles: frozenset[Role] = WRITERS


@dataclass(frozen=True)
class Action:
    """An action open to this person for this pupil now, with the address of its form."""

    key: str
    label: str
    href: str
    trigger: str


KINDS: tuple[ActionKind, ...] = (
    ActionKind("give_orientation_advice", "orienterend-advies", "Oriënterend advies vastleggen"),
    ActionKind("enter_groep_8", "groep-8", "Overgang naar groep 8 vastleggen"),
    ActionKind("give_provisional_advice", "voorlopig-advies", "Voorlopig advies vastleggen"),
    ActionKind(
        "correct_provisional_advice", "voorlopig-advies-corrigeren", "Voorlopig advies corrigeren"
    ),
    ActionKind("grant_exemption", "vrijstelling", "Vrijstelling vastleggen", SCHOOL_STAFF),
    ActionKind("record_test_missed", "verhindering", "Verhindering bij de toets vastleggen"),
    ActionKind("plan_catch_up_test", "inhaaltoets", "Inhaaltoets plannen"),
    ActionKind("record_no_test_result", "geen-uitslag", "Vastleggen dat er geen uitslag komt"),
    ActionKind("plan_conversation", "gesprek-plannen", "Gesprek plannen"),
    ActionKind("move_conversation", "gesprek-verzetten", "Gesprek verzetten"),
    ActionKind("cancel_conversation", "gesprek-afzeggen", "Gesprek afzeggen"),
    ActionKind("hold_conversation", "gesprek-gevoerd", "Gevoerd gesprek vastleggen"),
    ActionKind("decline_conversation", "gesprek-afgezien", "Ouders zien af van een gesprek"),
    ActionKind("raise_advice", "advies-bijstellen", "Advies bijstellen"),
    ActionKind("keep_advice", "advies-handhaven", "Advies handhaven"),
    ActionKind("give_final_advice", "definitief-advies", "Definitief advies vastleggen"),
    ActionKind("record_okr_conversation", "okr-gesprek", "OKR-gesprek vastleggen"),
    ActionKind("receive_objection", "verzoek-ouders", "Verzoek van ouders vastleggen"),
    ActionKind("decide_objection", "verzoek-beslissen", "Verzoek van ouders beslissen", DIRECTIE),
    ActionKind("leave_school", "vertrek", "Vertrek van school vastleggen"),
    ActionKind(
        "send_national_registration",
        "duo-aanlevering",
        "Aanlevering aan DUO vastleggen",
        SCHOOL_STAFF,
    ),
)
BY_KEY = {kind.key: kind for kind in KINDS}

SYSTEM_TRIGGERS = frozenset(
    {
        "enrol_in_groep_7",
        "enrol_in_groep_8",
        "receive_test_result",
        "require_reconsideration",
        "lapse_reconsideration",
        "withdraw_automatic_final_advice",
        "require_result_review",
    }
)
"""Triggers only the service's own paths fire (enrolment, the chain's results, the worker)."""


def refusal(state: Trajectory, trigger: str, policy: SchoolPolicy = DEFAULT_POLICY) -> str | None:
    """Why the machine does not let `trigger` happen in this state (its Dutch words), or None."""
    if state.status is Status.NOT_ENROLLED:
        return "deze leerling volgt geen adviestraject"
    try:
        fire(state, trigger, policy)
        if trigger in CONVERSATION_TRIGGERS:
            fire_conversation(state.conversation, trigger)
    except DomainError as error:
        return error.message
    return None


def allowed(state: Trajectory, trigger: str, policy: SchoolPolicy = DEFAULT_POLICY) -> bool:
    """Whether the machine lets `trigger` happen in this state (guards and conversation too)."""
    return refusal(state, trigger, policy) is None


def href(pupil_id: UUID | str, key: str) -> str:
    return f"/leerlingen/{pupil_id}/acties/{key}"


def available_actions(
    state: Trajectory,
    role: Role,
    pupil_id: UUID | str,
    policy: SchoolPolicy = DEFAULT_POLICY,
) -> list[Action]:
    """The actions `role` may take for this pupil now, in the order of the trajectory.

    `policy` is the pupil's school's policy (its guards decide e.g. whether the heroverweging
    conversation must come before the definitief advies).
    """
    return [
        Action(kind.key, kind.label, href(pupil_id, kind.key), kind.trigger)
        for kind in KINDS
        if role in kind.roles and allowed(state, kind.trigger, policy)
    ]


DONE = {
    "orienterend-advies": "Het oriënterend advies is vastgelegd.",
    "groep-8": "De overgang naar groep 8 is vastgelegd.",
    "voorlopig-advies": "Het voorlopig advies is vastgelegd.",
    "voorlopig-advies-corrigeren": "Het voorlopig advies is gecorrigeerd.",
    "vrijstelling": "De vrijstelling is vastgelegd.",
    "verhindering": "De verhindering is vastgelegd.",
    "inhaaltoets": "De inhaaltoets is gepland.",
    "geen-uitslag": "Vastgelegd dat er geen uitslag komt.",
    "gesprek-plannen": "Het gesprek is gepland.",
    "gesprek-verzetten": "Het gesprek is verzet.",
    "gesprek-afzeggen": "Het gesprek is afgezegd.",
    "gesprek-gevoerd": "Het gevoerde gesprek is vastgelegd.",
    "gesprek-afgezien": "Vastgelegd dat de ouders afzien van een gesprek.",
    "advies-bijstellen": "Het advies is bijgesteld.",
    "advies-handhaven": "Het advies is gehandhaafd.",
    "definitief-advies": "Het definitief advies is vastgelegd.",
    "okr-gesprek": "Het OKR-gesprek is vastgelegd.",
    "verzoek-ouders": "Het verzoek van de ouders is vastgelegd.",
    "verzoek-beslissen": "Het besluit op het verzoek van de ouders is vastgelegd.",
    "vertrek": "Het vertrek van school is vastgelegd.",
    "duo-aanlevering": "De aanlevering aan DUO is vastgelegd.",
}


def confirmation(key: str | None) -> str | None:
    """The Dutch confirmation for `?gedaan=<key>` on the pupil page after a form succeeded."""
    return DONE.get(key or "")
