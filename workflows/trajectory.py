"""A pupil's trajectory as folded from its events: `Trajectory`, `evolve` and `fold`.

Folding never fires a trigger and never checks a rule: the rules were checked when the events were
decided (`workflows.decide`). The status follows the life cycle's lookup table; a history that the
table cannot follow is an `InvalidHistoryError` (a bug or tampering), never a silent guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflows.calendar import SchoolYear
from workflows.codec import Event
from workflows.enums import AdviceKind, ExemptionGround, FinalAdviceBasis, KeepReason, Timeliness
from workflows.errors import InvalidHistoryError
from workflows.events import (
    AdviceKept,
    AdviceRaised,
    AutomaticFinalAdviceWithdrawn,
    CatchUpTestPlanned,
    ConversationCancelled,
    ConversationDeclined,
    ConversationHeld,
    ConversationMoved,
    ConversationPlanned,
    ExemptionGranted,
    FinalAdviceGiven,
    NationalRegisterRegistrationSent,
    NoTestResultRecorded,
    ObjectionDecided,
    ObjectionReceived,
    OkrConversationHeld,
    OrientationAdviceGiven,
    ProvisionalAdviceCorrected,
    ProvisionalAdviceGiven,
    PupilEnrolled,
    PupilEnteredGroep8,
    PupilLeftSchool,
    ReconsiderationLapsed,
    ReconsiderationRequired,
    ResultReviewRequired,
    TestMissed,
    TestResultReceived,
)
from workflows.lifecycle import (
    CONVERSATION_DESTINATIONS,
    CONVERSATION_TRIGGERS,
    DESTINATIONS,
    ConversationStatus,
    Status,
)
from workflows.scale import SchoolAdvice, TestAdvice


@dataclass(frozen=True)
class RecordedAdvice:
    """An advice as it was given: the level, the day, and how that day stood to its deadline."""

    advice: SchoolAdvice
    given_on: date
    timeliness: Timeliness
    basis: FinalAdviceBasis | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of a heroverweging: the advice it leads to, and why when not fully raised."""

    advice: SchoolAdvice
    decided_on: date
    raised: bool
    fully: bool
    reason: KeepReason | None


@dataclass(frozen=True)
class Trajectory:
    status: Status = Status.NOT_ENROLLED
    conversation: ConversationStatus = ConversationStatus.NONE
    version: int = 0
    school_id: str | None = None
    school_year: SchoolYear | None = None
    groep: int | None = None
    orientation_advice: RecordedAdvice | None = None
    provisional_advice: RecordedAdvice | None = None
    final_advice: RecordedAdvice | None = None
    earlier_final_advice: RecordedAdvice | None = None
    """The definitief advies the current one replaced (restored if the current is withdrawn)."""
    final_advice_withdrawal: AutomaticFinalAdviceWithdrawn | None = None
    """The last automatic definitief advies withdrawn by a higher replacing result."""
    exemption: ExemptionGround | None = None
    test_missed: bool = False
    catch_up_planned_on: date | None = None
    no_test_result: bool = False
    test_advice: TestAdvice | None = None
    test_delivery: TestResultReceived | None = None
    reconsideration_deadline: date | None = None
    decision: Decision | None = None
    conversation_planned_at: datetime | None = None
    okr_conversation_on: date | None = None
    open_objection: ObjectionReceived | None = None
    granted_objection_advice: SchoolAdvice | None = None
    registered: frozenset[AdviceKind] = frozenset()
    left_on: date | None = None
    late: tuple[str, ...] = field(default=())
    """Event types of actions recorded after their legal deadline, oldest first."""

    @property
    def current_advice(self) -> SchoolAdvice | None:
        """The advice that counts now: the definitief advies once given, else the voorlopig."""
        given = self.final_advice or self.provisional_advice
        return given.advice if given else None


def trigger_of(event: Event) -> str:
    """The life-cycle trigger a stored fact corresponds to."""
    if isinstance(event, PupilEnrolled):
        return "enrol_in_groep_7" if event.groep == 7 else "enrol_in_groep_8"
    try:
        return _TRIGGERS[type(event)]
    except KeyError:
        raise InvalidHistoryError(f"no trigger for {type(event).__name__}") from None


_TRIGGERS: dict[type[Event], str] = {
    PupilEnteredGroep8: "enter_groep_8",
    OrientationAdviceGiven: "give_orientation_advice",
    ProvisionalAdviceGiven: "give_provisional_advice",
    ProvisionalAdviceCorrected: "correct_provisional_advice",
    OkrConversationHeld: "record_okr_conversation",
    ExemptionGranted: "grant_exemption",
    TestMissed: "record_test_missed",
    CatchUpTestPlanned: "plan_catch_up_test",
    NoTestResultRecorded: "record_no_test_result",
    TestResultReceived: "receive_test_result",
    ReconsiderationRequired: "require_reconsideration",
    ReconsiderationLapsed: "lapse_reconsideration",
    AutomaticFinalAdviceWithdrawn: "withdraw_automatic_final_advice",
    ResultReviewRequired: "require_result_review",
    ConversationPlanned: "plan_conversation",
    ConversationMoved: "move_conversation",
    ConversationCancelled: "cancel_conversation",
    ConversationHeld: "hold_conversation",
    ConversationDeclined: "decline_conversation",
    AdviceRaised: "raise_advice",
    AdviceKept: "keep_advice",
    FinalAdviceGiven: "give_final_advice",
    ObjectionReceived: "receive_objection",
    ObjectionDecided: "decide_objection",
    PupilLeftSchool: "leave_school",
    NationalRegisterRegistrationSent: "send_national_registration",
}


Draft = dict[str, Any]


# What each fact changes in the draft of the state (status and version are done by `_step`).
# A table, not a `match`: folding is the hot path of every command, and a lookup by type is
# several times faster than trying 25 class patterns in turn.
def _enrolled(d: Draft, e: PupilEnrolled) -> None:
    d["school_id"], d["groep"] = e.school_id, e.groep
    d["school_year"] = SchoolYear.parse(e.school_year)


def _entered_groep_8(d: Draft, e: PupilEnteredGroep8) -> None:
    d["groep"], d["school_year"] = 8, SchoolYear.parse(e.school_year)


def _orientation(d: Draft, e: OrientationAdviceGiven) -> None:
    d["orientation_advice"] = RecordedAdvice(e.advice, e.given_on, Timeliness.ON_TIME)


def _provisional(d: Draft, e: ProvisionalAdviceGiven) -> None:
    d["provisional_advice"] = RecordedAdvice(e.advice, e.given_on, e.timeliness)


def _corrected(d: Draft, e: ProvisionalAdviceCorrected) -> None:
    d["provisional_advice"] = RecordedAdvice(e.advice, e.corrected_on, e.timeliness)


def _result(d: Draft, e: TestResultReceived) -> None:
    d["test_advice"], d["test_delivery"] = e.test_advice, e


def _raised(d: Draft, e: AdviceRaised) -> None:
    d["decision"] = Decision(e.advice, e.decided_on, raised=True, fully=e.fully, reason=e.reason)


def _kept(d: Draft, e: AdviceKept) -> None:
    given = d["final_advice"] or d["provisional_advice"]
    if given is None:
        raise InvalidHistoryError("advice kept without an advice")
    d["decision"] = Decision(given.advice, e.decided_on, raised=False, fully=False, reason=e.reason)


def _final(d: Draft, e: FinalAdviceGiven) -> None:
    d["earlier_final_advice"] = d["final_advice"]
    d["final_advice"] = RecordedAdvice(e.advice, e.given_on, e.timeliness, e.basis)
    d["granted_objection_advice"], d["reconsideration_deadline"] = None, None


def _final_withdrawn(d: Draft, e: AutomaticFinalAdviceWithdrawn) -> None:
    # What stood before the automatic advice stands again: the voorlopig advies, or a definitief
    # advies a person gave earlier (never lower: the automatic one repeated the advice counting
    # then). The heroverweging that follows starts from there.
    d["final_advice"], d["earlier_final_advice"] = d["earlier_final_advice"], None
    d["final_advice_withdrawal"] = e


def _objection_decided(d: Draft, e: ObjectionDecided) -> None:
    d["open_objection"] = None
    d["granted_objection_advice"] = e.new_advice if e.granted else None


def _nothing(d: Draft, e: Event) -> None:
    pass


def _set(name: str, value: Callable[[Any], Any]) -> Callable[[Draft, Any], None]:
    def apply(d: Draft, e: Any) -> None:
        d[name] = value(e)

    return apply


def _open_reconsideration(d: Draft, event: ReconsiderationRequired) -> None:
    d["reconsideration_deadline"] = event.deadline
    if d["status"] is Status.RECONSIDERATION_REQUIRED:
        # A replacing delivery, still higher: keep the conversation; a decision above the new
        # toetsadvies no longer fits and must be taken again.
        decision = d["decision"]
        steps = decision.advice.half_steps if decision else None
        if steps is not None and steps > event.test_advice.half_steps:
            d["decision"] = None
        return
    d["decision"], d["conversation_planned_at"] = None, None
    d["conversation"] = ConversationStatus.NONE


_APPLY: dict[type[Event], Callable[[Draft, Any], None]] = {
    PupilEnrolled: _enrolled,
    PupilEnteredGroep8: _entered_groep_8,
    OrientationAdviceGiven: _orientation,
    ProvisionalAdviceGiven: _provisional,
    ProvisionalAdviceCorrected: _corrected,
    OkrConversationHeld: _set("okr_conversation_on", lambda e: e.held_on),
    ExemptionGranted: _set("exemption", lambda e: e.ground),
    TestMissed: _set("test_missed", lambda e: True),
    CatchUpTestPlanned: _set("catch_up_planned_on", lambda e: e.planned_on),
    NoTestResultRecorded: _set("no_test_result", lambda e: True),
    TestResultReceived: _result,
    ReconsiderationRequired: _open_reconsideration,
    ReconsiderationLapsed: lambda d, e: d.update(reconsideration_deadline=None, decision=None),
    AutomaticFinalAdviceWithdrawn: _final_withdrawn,
    ResultReviewRequired: _nothing,
    ConversationPlanned: _set("conversation_planned_at", lambda e: e.planned_at),
    ConversationMoved: _set("conversation_planned_at", lambda e: e.planned_at),
    ConversationCancelled: _set("conversation_planned_at", lambda e: None),
    ConversationHeld: _nothing,
    ConversationDeclined: _nothing,
    AdviceRaised: _raised,
    AdviceKept: _kept,
    FinalAdviceGiven: _final,
    ObjectionReceived: _set("open_objection", lambda e: e),
    ObjectionDecided: _objection_decided,
    PupilLeftSchool: _set("left_on", lambda e: e.left_on),
    NationalRegisterRegistrationSent: lambda d, e: d.update(registered=d["registered"] | {e.kind}),
}


def _step(d: Draft, event: Event) -> None:
    kind = type(event)
    trigger = _TRIGGERS.get(kind) or trigger_of(event)
    status = DESTINATIONS.get((d["status"], trigger))
    if status is None:
        raise InvalidHistoryError(f"{event.event_type} cannot follow status {d['status'].value}")
    _APPLY[kind](d, event)
    if trigger in CONVERSATION_TRIGGERS:
        try:
            d["conversation"] = CONVERSATION_DESTINATIONS[(d["conversation"], trigger)]
        except KeyError:
            raise InvalidHistoryError(
                f"{event.event_type} cannot follow conversation {d['conversation'].value}"
            ) from None
    if kind in _TIMED and event.timeliness is Timeliness.LATE:  # type: ignore[attr-defined]
        d["late"] = (*d["late"], event.event_type)
    d["status"] = status
    d["version"] += 1


_TIMED = frozenset(kind for kind in _APPLY if "timeliness" in kind.__dataclass_fields__)


def _draft(state: Trajectory) -> Draft:
    return dict(state.__dict__)


def _freeze(d: Draft) -> Trajectory:
    """The frozen state from a complete draft, without the frozen dataclass's per-field setattr.

    Every draft starts as a copy of a whole Trajectory, so all fields are present; this is the
    only place that builds a Trajectory this way.
    """
    state = object.__new__(Trajectory)
    state.__dict__.update(d)
    return state


def evolve(state: Trajectory, event: Event) -> Trajectory:
    """The state after `event`; statuses follow the life cycle's tables, no trigger is fired."""
    d = _draft(state)
    _step(d, event)
    return _freeze(d)


def fold(history: Iterable[Event], start: Trajectory | None = None) -> Trajectory:
    """Fold a history (onto `start`, e.g. a snapshot), building the frozen state only once."""
    d = _draft(start or _INITIAL)
    for event in history:
        _step(d, event)
    return _freeze(d)


class Folds:
    """Many streams folded at once from one interleaved sequence (a rebuild in log order).

    One draft per stream, each frozen once at the end: the cost of `fold`, not of `evolve` per
    event.
    """

    def __init__(self) -> None:
        self._drafts: dict[str, Draft] = {}

    def add(self, stream_id: str, event: Event) -> None:
        draft = self._drafts.get(stream_id)
        if draft is None:
            draft = self._drafts[stream_id] = _draft(_INITIAL)
        _step(draft, event)

    def states(self) -> Iterator[tuple[str, Trajectory]]:
        for stream_id, draft in self._drafts.items():
            yield stream_id, _freeze(draft)

    def __len__(self) -> int:
        return len(self._drafts)


_INITIAL = Trajectory()
