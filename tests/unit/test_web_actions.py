"""The actions on the pupil page: exactly what the life cycle's machine allows now, for writers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.accounts.roles import Role
from service.web.actions import (
    BY_KEY,
    DONE,
    KINDS,
    SYSTEM_TRIGGERS,
    available_actions,
    confirmation,
)
from tests.unit.walk import Walk
from workflows.commands import (
    EnrolPupil,
    GiveProvisionalAdvice,
    PlanConversation,
    RaiseAdvice,
    ReceiveObjection,
    ReceiveTestResult,
    RecordConversationDeclined,
    RecordConversationHeld,
    RecordTestMissed,
)
from workflows.decide import RULES
from workflows.enums import ConversationParty
from workflows.guards import GUARDS
from workflows.lifecycle import (
    CONVERSATION_DESTINATIONS,
    CONVERSATION_TRIGGERS,
    GUARDS_BY_STEP,
    Status,
)
from workflows.machine import MACHINE
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import Trajectory

PUPIL = "3f1c7a0e-0000-4000-8000-000000000001"


def _walk(*steps: str, policy: SchoolPolicy | None = None) -> Walk:
    walk = Walk(policy or SchoolPolicy())
    groep = 7 if "groep7" in steps else 8
    walk.do(
        EnrolPupil(
            school_id="s", school_year="2025-2026", groep=groep, enrolled_on=date(2025, 8, 25)
        ),
        date(2025, 8, 25),
    )
    if groep == 7:
        return walk
    if "provisional" in steps:
        walk.do(
            GiveProvisionalAdvice(advice=SchoolAdvice.VMBO_GLTL, given_on=date(2026, 1, 20)),
            date(2026, 1, 20),
        )
    if "missed" in steps:
        walk.do(RecordTestMissed(missed_on=date(2026, 2, 3), reason="ziek"), date(2026, 2, 3))
    if "objection" in steps:
        walk.do(
            ReceiveObjection(objection_id="o1", received_on=date(2026, 2, 4), summary="havo"),
            date(2026, 2, 4),
        )
    if "higher" in steps:
        walk.do(
            ReceiveTestResult(
                provider="IEP",
                delivery_id="d1",
                test_advice=TestAdvice.HAVO_VWO,
                received_on=date(2026, 3, 10),
            ),
            date(2026, 3, 10),
        )
    if "planned" in steps:
        walk.do(PlanConversation(planned_at=_at(2026, 3, 12)), date(2026, 3, 11))
    if "held" in steps:
        walk.do(
            RecordConversationHeld(
                held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,)
            ),
            date(2026, 3, 12),
        )
    if "declined" in steps:
        walk.do(RecordConversationDeclined(declined_on=date(2026, 3, 12)), date(2026, 3, 12))
    return walk


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 15, 0, tzinfo=UTC)


SCENARIOS = {
    "groep 7": ("groep7",),
    "wacht op voorlopig advies": (),
    "voorlopig advies gegeven": ("provisional",),
    "verhinderd": ("provisional", "missed"),
    "verzoek van ouders open": ("provisional", "objection"),
    "heroverweging, geen gesprek": ("provisional", "higher"),
    "heroverweging, gesprek gepland": ("provisional", "higher", "planned"),
    "heroverweging, gesprek gevoerd": ("provisional", "higher", "planned", "held"),
    "heroverweging, ouders zien af": ("provisional", "higher", "declined"),
}


def machine_allows(state: Trajectory, policy: SchoolPolicy) -> set[str]:
    """What the machine's own definition allows: its triggers from the state, whose guards hold,
    and (for the conversation) whose conversation step exists; less what only systems fire."""
    allowed = set()
    for trigger in MACHINE.get_triggers(state.status.name):
        if trigger in SYSTEM_TRIGGERS:
            continue
        guards = GUARDS_BY_STEP[(state.status, trigger)]
        if not all(GUARDS[g].holds(state, policy) for g in guards):
            continue
        if (
            trigger in CONVERSATION_TRIGGERS
            and (state.conversation, trigger) not in CONVERSATION_DESTINATIONS
        ):
            continue
        allowed.add(trigger)
    return allowed


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_directie_member_is_offered_exactly_what_the_machine_allows_in_each_state(
    scenario: str,
) -> None:
    walk = _walk(*SCENARIOS[scenario])
    actions = available_actions(walk.state, Role.DIRECTIE, PUPIL, walk.policy)
    assert {a.trigger for a in actions} == machine_allows(walk.state, walk.policy)
    assert actions, "every state of these scenarios has something to do"
    for action in actions:
        assert action.href == f"/leerlingen/{PUPIL}/acties/{action.key}"


def test_the_actions_in_a_few_states_read_as_the_teacher_expects() -> None:
    def keys(*steps: str, role: Role = Role.LEERKRACHT) -> list[str]:
        walk = _walk(*steps)
        return [a.key for a in available_actions(walk.state, role, PUPIL, walk.policy)]

    assert keys("groep7") == ["orienterend-advies", "groep-8", "vertrek"]
    assert keys() == ["voorlopig-advies", "okr-gesprek", "vertrek"]
    assert "vrijstelling" in keys(role=Role.IB)
    assert keys("provisional", "missed") == [
        "voorlopig-advies-corrigeren",
        "verhindering",
        "inhaaltoets",
        "geen-uitslag",
        "okr-gesprek",
        "verzoek-ouders",
        "vertrek",
    ]
    assert keys("provisional", "higher") == [
        "gesprek-plannen",
        "gesprek-gevoerd",
        "gesprek-afgezien",
        "okr-gesprek",
        "verzoek-ouders",
        "vertrek",
    ]
    assert keys("provisional", "higher", "planned") == [
        "gesprek-verzetten",
        "gesprek-afzeggen",
        "gesprek-gevoerd",
        "gesprek-afgezien",
        "okr-gesprek",
        "verzoek-ouders",
        "vertrek",
    ]
    assert keys("provisional", "higher", "planned", "held") == [
        "advies-bijstellen",
        "advies-handhaven",
        "okr-gesprek",
        "verzoek-ouders",
        "vertrek",
    ]
    assert keys("provisional", "higher", "declined") == keys(
        "provisional", "higher", "planned", "held"
    )
    assert "verzoek-beslissen" in keys("provisional", "objection", role=Role.DIRECTIE)
    assert "verzoek-beslissen" not in keys("provisional", "objection")


def test_the_decision_and_the_definitief_advies_wait_for_the_talk_only_where_required() -> None:
    for required in (True, False):
        policy = SchoolPolicy(conversation_required=required)
        walk = _walk("provisional", "higher", policy=policy)
        keys = [a.key for a in available_actions(walk.state, Role.LEERKRACHT, PUPIL, policy)]
        assert ("advies-bijstellen" in keys) is not required
        assert ("advies-handhaven" in keys) is not required
        if required:
            walk.do(
                RecordConversationHeld(
                    held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,)
                ),
                date(2026, 3, 12),
            )
        walk.do(
            RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=date(2026, 3, 13)),
            date(2026, 3, 13),
        )
        keys = [a.key for a in available_actions(walk.state, Role.LEERKRACHT, PUPIL, policy)]
        assert "definitief-advies" in keys


@pytest.mark.parametrize("role", [Role.BESTUUR, Role.BEHEER, Role.TOETSAANBIEDER])
def test_readers_and_administrators_are_offered_nothing(role: Role) -> None:
    for steps in SCENARIOS.values():
        walk = _walk(*steps)
        assert available_actions(walk.state, role, PUPIL, walk.policy) == []


def test_a_pupil_outside_the_trajectory_has_no_actions() -> None:
    assert available_actions(Trajectory(), Role.DIRECTIE, PUPIL) == []
    assert available_actions(Trajectory(status=Status.LEFT_SCHOOL), Role.DIRECTIE, PUPIL) == []


def test_every_trigger_of_the_machine_is_an_action_with_a_command_or_a_system_step() -> None:
    action_triggers = {kind.trigger for kind in KINDS}
    assert action_triggers | SYSTEM_TRIGGERS == set(MACHINE.events)
    assert not action_triggers & SYSTEM_TRIGGERS
    commanded = {trigger for trigger, _rule in RULES.values()}
    assert action_triggers <= commanded
    assert len(BY_KEY) == len(KINDS)


def test_every_action_has_a_dutch_confirmation_for_the_pupil_page() -> None:
    assert set(DONE) == set(BY_KEY)
    assert confirmation("voorlopig-advies") == "Het voorlopig advies is vastgelegd."
    assert confirmation("onzin") is None
    assert confirmation(None) is None
