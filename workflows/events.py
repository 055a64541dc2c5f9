"""The facts of a pupil's advice trajectory, one immutable and versioned type per fact.

Events hold what happened and on which domain date; who did it and when it was recorded travel in
the stored envelope (see `service.store`). Names of people never appear in a field of their own: a
pupil is the stream's id, and names live in the erasable register. Free text that may name people
(motivations, parents' views) is typed `PersonalText`, so the store can encrypt it per pupil.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from workflows.calendar import SchoolYear, legal_calendar, timeliness_in
from workflows.codec import Event, EventCodec, JsonDict, PersonalText
from workflows.enums import (
    AdviceKind,
    ConversationParty,
    ExemptionGround,
    FinalAdviceBasis,
    KeepReason,
    Timeliness,
)
from workflows.scale import SchoolAdvice, TestAdvice, parse_school_advice


@dataclass(frozen=True, kw_only=True)
class PupilEnrolled(Event):
    event_type = "pupil_enrolled"

    school_id: str
    school_year: str
    groep: int
    enrolled_on: date


@dataclass(frozen=True, kw_only=True)
class PupilEnteredGroep8(Event):
    event_type = "pupil_entered_groep_8"

    school_year: str
    entered_on: date


@dataclass(frozen=True, kw_only=True)
class OrientationAdviceGiven(Event):
    event_type = "orientation_advice_given"

    advice: SchoolAdvice
    given_on: date


@dataclass(frozen=True, kw_only=True)
class ProvisionalAdviceGiven(Event):
    event_type = "provisional_advice_given"
    schema_version = 3

    advice: SchoolAdvice
    given_on: date
    timeliness: Timeliness
    motivation: PersonalText | None = None
    """What the advice rests on, as the school wrote it (v3); None before v3 or when left out."""


@dataclass(frozen=True, kw_only=True)
class ProvisionalAdviceCorrected(Event):
    event_type = "provisional_advice_corrected"

    advice: SchoolAdvice
    corrected_on: date
    reason: PersonalText
    timeliness: Timeliness


@dataclass(frozen=True, kw_only=True)
class OkrConversationHeld(Event):
    event_type = "okr_conversation_held"

    held_on: date
    parents_saw_okr: bool
    parents_view: PersonalText | None


@dataclass(frozen=True, kw_only=True)
class ExemptionGranted(Event):
    event_type = "exemption_granted"

    ground: ExemptionGround
    decided_on: date
    parents_consulted: bool


@dataclass(frozen=True, kw_only=True)
class TestMissed(Event):
    __test__ = False

    event_type = "test_missed"

    missed_on: date
    reason: PersonalText


@dataclass(frozen=True, kw_only=True)
class CatchUpTestPlanned(Event):
    event_type = "catch_up_test_planned"

    planned_on: date
    late: bool
    """True when the catch-up falls more than three weeks after the regular sitting."""


@dataclass(frozen=True, kw_only=True)
class NoTestResultRecorded(Event):
    event_type = "no_test_result_recorded"

    recorded_on: date
    reason: PersonalText


@dataclass(frozen=True, kw_only=True)
class ReferenceLevel:
    """A referentieniveau the test reports, e.g. ('lezen', '2F')."""

    domain: str
    level: str


@dataclass(frozen=True, kw_only=True)
class TestResultReceived(Event):
    __test__ = False

    event_type = "test_result_received"

    provider: str
    delivery_id: str
    test_advice: TestAdvice
    reference_levels: tuple[ReferenceLevel, ...]
    received_on: date


@dataclass(frozen=True, kw_only=True)
class ReconsiderationRequired(Event):
    event_type = "reconsideration_required"

    test_advice: TestAdvice
    current_advice: SchoolAdvice
    deadline: date


@dataclass(frozen=True, kw_only=True)
class ReconsiderationLapsed(Event):
    """A replacing delivery is no longer higher than the advice: nothing is left to reconsider."""

    event_type = "reconsideration_lapsed"

    test_advice: TestAdvice


@dataclass(frozen=True, kw_only=True)
class AutomaticFinalAdviceWithdrawn(Event):
    """A definitief advies the rules gave automatically is withdrawn: a replacing delivery came in
    higher, so the premise it was given on (a result not higher, or no result at all) is gone and
    a heroverweging decides the definitief advies. The advice it named is not lowered: the
    heroverweging starts from the same level and can only raise it."""

    event_type = "automatic_final_advice_withdrawn"

    advice: SchoolAdvice
    basis: FinalAdviceBasis
    given_on: date
    """The day the withdrawn advice was given."""
    withdrawn_on: date
    test_advice: TestAdvice
    """The toetsadvies of the delivery that withdrew it."""


@dataclass(frozen=True, kw_only=True)
class ResultReviewRequired(Event):
    """A result next to an advice off the scale (vso, geen advies): a person decides, not a rule."""

    event_type = "result_review_required"

    test_advice: TestAdvice
    current_advice: SchoolAdvice


@dataclass(frozen=True, kw_only=True)
class ConversationPlanned(Event):
    event_type = "reconsideration_conversation_planned"

    planned_at: datetime
    with_pupil: bool
    timeliness: Timeliness


@dataclass(frozen=True, kw_only=True)
class ConversationMoved(Event):
    event_type = "reconsideration_conversation_moved"

    planned_at: datetime
    reason: PersonalText
    timeliness: Timeliness


@dataclass(frozen=True, kw_only=True)
class ConversationCancelled(Event):
    event_type = "reconsideration_conversation_cancelled"

    cancelled_on: date
    reason: PersonalText


@dataclass(frozen=True, kw_only=True)
class ConversationHeld(Event):
    event_type = "reconsideration_conversation_held"

    held_on: date
    attendees: tuple[ConversationParty, ...]
    notes: PersonalText | None


@dataclass(frozen=True, kw_only=True)
class ConversationDeclined(Event):
    """The parents declined the conversation: recorded, and no longer a blocker."""

    event_type = "reconsideration_conversation_declined"

    declined_on: date
    notes: PersonalText | None


@dataclass(frozen=True, kw_only=True)
class AdviceRaised(Event):
    event_type = "advice_raised"

    advice: SchoolAdvice
    fully: bool
    decided_on: date
    reason: KeepReason | None
    """Why not fully: required when the raise stops below the toetsadvies."""
    motivation: PersonalText | None
    timeliness: Timeliness


@dataclass(frozen=True, kw_only=True)
class AdviceKept(Event):
    event_type = "advice_kept"

    decided_on: date
    reason: KeepReason
    motivation: PersonalText
    timeliness: Timeliness


@dataclass(frozen=True, kw_only=True)
class FinalAdviceGiven(Event):
    event_type = "final_advice_given"

    advice: SchoolAdvice
    given_on: date
    basis: FinalAdviceBasis
    timeliness: Timeliness


@dataclass(frozen=True, kw_only=True)
class ObjectionReceived(Event):
    event_type = "objection_received"

    objection_id: str
    received_on: date
    requested_advice: SchoolAdvice | None
    summary: PersonalText
    timeliness: Timeliness
    """Late when it arrives in or after the aanmeldweek, when a change can no longer help."""


@dataclass(frozen=True, kw_only=True)
class ObjectionDecided(Event):
    event_type = "objection_decided"

    objection_id: str
    decided_on: date
    granted: bool
    new_advice: SchoolAdvice | None
    motivation: PersonalText


@dataclass(frozen=True, kw_only=True)
class PupilLeftSchool(Event):
    event_type = "pupil_left_school"

    left_on: date
    destination: PersonalText | None


@dataclass(frozen=True, kw_only=True)
class NationalRegisterRegistrationSent(Event):
    event_type = "national_register_registration_sent"

    kind: AdviceKind
    advice: SchoolAdvice
    sent_on: date
    timeliness: Timeliness


TRAJECTORY_EVENTS: tuple[type[Event], ...] = (
    PupilEnrolled,
    PupilEnteredGroep8,
    OrientationAdviceGiven,
    ProvisionalAdviceGiven,
    ProvisionalAdviceCorrected,
    OkrConversationHeld,
    ExemptionGranted,
    TestMissed,
    CatchUpTestPlanned,
    NoTestResultRecorded,
    TestResultReceived,
    ReconsiderationRequired,
    ReconsiderationLapsed,
    ResultReviewRequired,
    ConversationPlanned,
    ConversationMoved,
    ConversationCancelled,
    ConversationHeld,
    ConversationDeclined,
    AdviceRaised,
    AdviceKept,
    FinalAdviceGiven,
    ObjectionReceived,
    ObjectionDecided,
    PupilLeftSchool,
    NationalRegisterRegistrationSent,
    AutomaticFinalAdviceWithdrawn,
)


def _provisional_advice_given_v1_to_v2(data: JsonDict) -> JsonDict:
    """v1 (the first pilot) stored the advice as typed ("havo/vwo") and no timeliness.

    v2 stores DUO's code and whether the day fell in the legal window. Both follow from v1's
    fields, so the upcaster derives them; the legal calendar is data, hence pure.
    """
    given_on = date.fromisoformat(data["given_on"])
    window = legal_calendar(SchoolYear.containing(given_on)).provisional_advice_window
    return {
        "advice": parse_school_advice(data["advice"]).value,
        "given_on": data["given_on"],
        "timeliness": timeliness_in(given_on, window.first, window.last).value,
    }


def _provisional_advice_given_v2_to_v3(data: JsonDict) -> JsonDict:
    """v3 adds the motivation the school writes with the advice; nothing was written before."""
    return {**data, "motivation": None}


UPCASTERS = {
    ("provisional_advice_given", 1): _provisional_advice_given_v1_to_v2,
    ("provisional_advice_given", 2): _provisional_advice_given_v2_to_v3,
}

CODEC = EventCodec(TRAJECTORY_EVENTS, UPCASTERS)
