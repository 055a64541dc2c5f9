"""What a teacher, the school or a system asks of a pupil's trajectory, in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from workflows.enums import AdviceKind, ConversationParty, ExemptionGround, KeepReason
from workflows.events import ReferenceLevel
from workflows.scale import SchoolAdvice, TestAdvice


@dataclass(frozen=True, kw_only=True)
class EnrolPupil:
    school_id: str
    school_year: str
    groep: int
    enrolled_on: date


@dataclass(frozen=True, kw_only=True)
class MoveToGroep8:
    school_year: str
    entered_on: date


@dataclass(frozen=True, kw_only=True)
class GiveOrientationAdvice:
    advice: SchoolAdvice
    given_on: date


@dataclass(frozen=True, kw_only=True)
class GiveProvisionalAdvice:
    advice: SchoolAdvice
    given_on: date
    motivation: str | None = None
    """What the advice rests on (the pupil's development, work attitude, results): what parents,
    the VO school and a klachtencommissie read later. None: not written down."""


@dataclass(frozen=True, kw_only=True)
class CorrectProvisionalAdvice:
    advice: SchoolAdvice
    corrected_on: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordOkrConversation:
    held_on: date
    parents_saw_okr: bool
    parents_view: str | None = None


@dataclass(frozen=True, kw_only=True)
class GrantExemption:
    ground: ExemptionGround
    decided_on: date
    parents_consulted: bool = False


@dataclass(frozen=True, kw_only=True)
class RecordTestMissed:
    missed_on: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class PlanCatchUpTest:
    planned_on: date


@dataclass(frozen=True, kw_only=True)
class RecordNoTestResult:
    recorded_on: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReceiveTestResult:
    provider: str
    delivery_id: str
    test_advice: TestAdvice
    received_on: date
    reference_levels: tuple[ReferenceLevel, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlanConversation:
    planned_at: datetime
    with_pupil: bool = True


@dataclass(frozen=True, kw_only=True)
class MoveConversation:
    planned_at: datetime
    reason: str


@dataclass(frozen=True, kw_only=True)
class CancelConversation:
    cancelled_on: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordConversationHeld:
    held_on: date
    attendees: tuple[ConversationParty, ...]
    notes: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordConversationDeclined:
    declined_on: date
    notes: str | None = None


@dataclass(frozen=True, kw_only=True)
class RaiseAdvice:
    advice: SchoolAdvice
    decided_on: date
    reason: KeepReason | None = None
    motivation: str | None = None


@dataclass(frozen=True, kw_only=True)
class KeepAdvice:
    decided_on: date
    reason: KeepReason
    motivation: str


@dataclass(frozen=True, kw_only=True)
class GiveFinalAdvice:
    given_on: date
    advice: SchoolAdvice | None = None
    """Only after a result review (vso, geen advies); otherwise the advice follows the decision."""


@dataclass(frozen=True, kw_only=True)
class ReceiveObjection:
    objection_id: str
    received_on: date
    summary: str
    requested_advice: SchoolAdvice | None = None


@dataclass(frozen=True, kw_only=True)
class DecideObjection:
    objection_id: str
    decided_on: date
    granted: bool
    motivation: str
    new_advice: SchoolAdvice | None = None


@dataclass(frozen=True, kw_only=True)
class RecordLeaving:
    left_on: date
    destination: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordNationalRegistration:
    kind: AdviceKind
    sent_on: date


Command = (
    EnrolPupil
    | MoveToGroep8
    | GiveOrientationAdvice
    | GiveProvisionalAdvice
    | CorrectProvisionalAdvice
    | RecordOkrConversation
    | GrantExemption
    | RecordTestMissed
    | PlanCatchUpTest
    | RecordNoTestResult
    | ReceiveTestResult
    | PlanConversation
    | MoveConversation
    | CancelConversation
    | RecordConversationHeld
    | RecordConversationDeclined
    | RaiseAdvice
    | KeepAdvice
    | GiveFinalAdvice
    | ReceiveObjection
    | DecideObjection
    | RecordLeaving
    | RecordNationalRegistration
)
