"""`decide(history, command, now)`: the one entry point that turns a command into new events.

It folds the history, asks the shared machine whether the command's trigger is allowed in the
current state (and its guards hold), lets the command's rule produce the events, and then vets
every produced event against the machine again, step by step, so that no rule can ever emit a
sequence the life cycle does not allow. It reads no clock and does no I/O; when it says no it
raises a `DomainError` and the history it was given is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from workflows import commands as c
from workflows import rules_advice as advice
from workflows import rules_reconsideration as reconsideration
from workflows.codec import Event
from workflows.errors import DomainError
from workflows.lifecycle import CONVERSATION_TRIGGERS, Status
from workflows.machine import fire, fire_conversation
from workflows.policy import DEFAULT_POLICY, SchoolPolicy
from workflows.rules_common import Context
from workflows.trajectory import Trajectory, evolve, fold, trigger_of

Rule = Callable[[Context, Any], list[Event]]

RULES: dict[type[Any], tuple[str, Rule]] = {
    c.MoveToGroep8: ("enter_groep_8", advice.enter_groep_8),
    c.GiveOrientationAdvice: ("give_orientation_advice", advice.give_orientation_advice),
    c.GiveProvisionalAdvice: ("give_provisional_advice", advice.give_provisional_advice),
    c.CorrectProvisionalAdvice: ("correct_provisional_advice", advice.correct_provisional_advice),
    c.RecordOkrConversation: ("record_okr_conversation", advice.record_okr_conversation),
    c.GrantExemption: ("grant_exemption", advice.grant_exemption),
    c.RecordTestMissed: ("record_test_missed", advice.record_test_missed),
    c.PlanCatchUpTest: ("plan_catch_up_test", advice.plan_catch_up_test),
    c.RecordNoTestResult: ("record_no_test_result", advice.record_no_test_result),
    c.ReceiveTestResult: ("receive_test_result", advice.receive_test_result),
    c.PlanConversation: ("plan_conversation", reconsideration.plan_conversation),
    c.MoveConversation: ("move_conversation", reconsideration.move_conversation),
    c.CancelConversation: ("cancel_conversation", reconsideration.cancel_conversation),
    c.RecordConversationHeld: ("hold_conversation", reconsideration.hold_conversation),
    c.RecordConversationDeclined: ("decline_conversation", reconsideration.decline_conversation),
    c.RaiseAdvice: ("raise_advice", reconsideration.raise_advice),
    c.KeepAdvice: ("keep_advice", reconsideration.keep_advice),
    c.GiveFinalAdvice: ("give_final_advice", advice.give_final_advice),
    c.ReceiveObjection: ("receive_objection", reconsideration.receive_objection),
    c.DecideObjection: ("decide_objection", reconsideration.decide_objection),
    c.RecordLeaving: ("leave_school", advice.leave_school),
    c.RecordNationalRegistration: ("send_national_registration", advice.send_national_registration),
}


def _trigger_and_rule(command: c.Command) -> tuple[str, Rule]:
    if isinstance(command, c.EnrolPupil):
        return ("enrol_in_groep_7" if command.groep == 7 else "enrol_in_groep_8"), advice.enrol
    return RULES[type(command)]


def decide(
    history: Sequence[Event],
    command: c.Command,
    now: datetime,
    *,
    policy: SchoolPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """The events that follow from `command` given `history`, or a DomainError saying why not."""
    return decide_on(fold(history), command, now, policy=policy)


def decide_on(
    state: Trajectory,
    command: c.Command,
    now: datetime,
    *,
    policy: SchoolPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """`decide` for a state already folded (a snapshot or read model of the same history)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if state.status is Status.NOT_ENROLLED and not isinstance(command, c.EnrolPupil):
        raise DomainError("pupil_not_enrolled", "deze leerling volgt geen adviestraject")
    trigger, rule = _trigger_and_rule(command)
    fire(state, trigger, policy)
    if trigger in CONVERSATION_TRIGGERS:
        fire_conversation(state.conversation, trigger)
    events = rule(Context(state, policy, now), command)
    vetted = state
    for index, event in enumerate(events):
        step = trigger_of(event)
        if index > 0 or step != trigger:  # the command's own first step was checked above
            fire(vetted, step, policy)
            if step in CONVERSATION_TRIGGERS:
                fire_conversation(vetted.conversation, step)
        if index < len(events) - 1:  # the state after the last event is not needed here
            vetted = evolve(vetted, event)
    return events
