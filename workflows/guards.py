"""The guards of the life cycle: each a named predicate with the code and words of its refusal.

A guard looks at the trajectory as it stands and at the school's policy. The machine evaluates
them (`workflows.machine`); when one fails, the caller learns which one and why, in Dutch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workflows.lifecycle import ConversationStatus
from workflows.policy import SchoolPolicy
from workflows.scale import Comparison, compare
from workflows.trajectory import Trajectory


@dataclass(frozen=True)
class Guard:
    holds: Callable[[Trajectory, SchoolPolicy], bool]
    code: str
    message: str


def _test_outcome_settled(state: Trajectory, _policy: SchoolPolicy) -> bool:
    if state.exemption is not None or state.no_test_result:
        return True
    current = state.current_advice
    if state.test_advice is None or current is None:
        return False
    return compare(state.test_advice, current) in (Comparison.EQUAL, Comparison.LOWER)


def _conversation_settled(state: Trajectory, policy: SchoolPolicy) -> bool:
    settled = (ConversationStatus.HELD, ConversationStatus.DECLINED)
    return not policy.conversation_required or state.conversation in settled


GUARDS: dict[str, Guard] = {
    "no_test_result_yet": Guard(
        lambda s, _p: s.test_advice is None,
        "test_result_already_received",
        "er is al een toetsuitslag; het advies verandert nu alleen nog via de heroverweging",
    ),
    "not_exempt": Guard(
        lambda s, _p: s.exemption is None,
        "pupil_is_exempt",
        "de leerling is vrijgesteld van de doorstroomtoets",
    ),
    "test_was_missed": Guard(
        lambda s, _p: s.test_missed,
        "test_not_missed",
        "een inhaaltoets volgt op een verhindering; leg eerst vast dat de leerling verhinderd was",
    ),
    "test_outcome_settled": Guard(
        _test_outcome_settled,
        "final_advice_needs_test_outcome",
        "het definitief advies volgt op de toetsuitslag, een vrijstelling of de vaststelling "
        "dat er geen uitslag komt",
    ),
    "reconsideration_decided": Guard(
        lambda s, _p: s.decision is not None,
        "reconsideration_not_decided",
        "de heroverweging is nog niet beslist: stel het advies bij, of handhaaf het met "
        "moverende redenen",
    ),
    "conversation_settled": Guard(
        _conversation_settled,
        "conversation_not_held",
        "de school beslist over de heroverweging na het gesprek met ouders en leerling, en dat "
        "is nog niet gevoerd: leg eerst vast dat het gesprek is gevoerd, of dat de ouders ervan "
        "afzien",
    ),
    "final_advice_automatic": Guard(
        lambda s, _p: (
            s.final_advice is not None
            and s.final_advice.basis is not None
            and s.final_advice.basis.rests_on_test_outcome
        ),
        "final_advice_not_automatic",
        "dit definitief advies is door de school gegeven, niet automatisch; het blijft staan",
    ),
    "objection_granted": Guard(
        lambda s, _p: s.granted_objection_advice is not None,
        "final_advice_already_given",
        "het definitief advies is al gegeven",
    ),
    "no_open_objection": Guard(
        lambda s, _p: s.open_objection is None,
        "objection_already_open",
        "er ligt al een verzoek van de ouders dat nog beslist moet worden",
    ),
    "objection_open": Guard(
        lambda s, _p: s.open_objection is not None,
        "no_open_objection",
        "er ligt geen verzoek van de ouders om te beslissen",
    ),
}
