"""Small closed vocabularies of the trajectory, each value with the Dutch label people read."""

from __future__ import annotations

from enum import Enum


class _Labelled(Enum):
    @property
    def label(self) -> str:
        return _LABELS[self]


class Timeliness(_Labelled):
    """Whether a dated action fell inside its legal window; late ones are recorded, and flagged."""

    ON_TIME = "on_time"
    EARLY = "early"
    LATE = "late"


class AdviceKind(_Labelled):
    ORIENTATION = "orientation"
    PROVISIONAL = "provisional"
    FINAL = "final"


class ExemptionGround(_Labelled):
    """The grounds on which the board exempts a pupil from the doorstroomtoets."""

    VERY_LOW_LEARNING_ABILITY = "very_low_learning_ability"
    MULTIPLE_DISABILITIES = "multiple_disabilities"
    NEWCOMER = "newcomer"

    @property
    def parents_consulted(self) -> bool:
        """Grounds one and two: parents are informed; ground three: they are consulted."""
        return self is ExemptionGround.NEWCOMER


class FinalAdviceBasis(_Labelled):
    """Why the definitief advies is what it is."""

    TEST_NOT_HIGHER = "test_not_higher"
    RECONSIDERED = "reconsidered"
    RESULT_REVIEWED = "result_reviewed"
    EXEMPT = "exempt"
    NO_TEST_RESULT = "no_test_result"
    OBJECTION_GRANTED = "objection_granted"

    @property
    def rests_on_test_outcome(self) -> bool:
        """Given by the rules, not by a person, because the result was not higher or none would
        come: a replacing result that is higher takes its premise away (it is withdrawn)."""
        return self in (FinalAdviceBasis.TEST_NOT_HIGHER, FinalAdviceBasis.NO_TEST_RESULT)


class KeepReason(_Labelled):
    """Reason codes for keeping the advice, or raising it only partly (moverende redenen)."""

    WORK_ATTITUDE = "work_attitude"
    SOCIAL_EMOTIONAL = "social_emotional"
    LEARNING_DEVELOPMENT = "learning_development"
    SUPPORT_NEEDS = "support_needs"
    TEST_CIRCUMSTANCES = "test_circumstances"
    OTHER = "other"


class ConversationParty(_Labelled):
    PARENTS = "parents"
    PUPIL = "pupil"
    TEACHER = "teacher"
    INTERN_BEGELEIDER = "intern_begeleider"
    DIRECTIE = "directie"


_LABELS: dict[Enum, str] = {
    Timeliness.ON_TIME: "op tijd",
    Timeliness.EARLY: "vóór de wettelijke periode",
    Timeliness.LATE: "te laat",
    AdviceKind.ORIENTATION: "oriënterend advies",
    AdviceKind.PROVISIONAL: "voorlopig schooladvies",
    AdviceKind.FINAL: "definitief schooladvies",
    ExemptionGround.VERY_LOW_LEARNING_ABILITY: "zeer moeilijk lerend",
    ExemptionGround.MULTIPLE_DISABILITIES: "meervoudige beperking",
    ExemptionGround.NEWCOMER: "korter dan vier jaar in Nederland",
    FinalAdviceBasis.TEST_NOT_HIGHER: "toetsadvies niet hoger: voorlopig advies blijft",
    FinalAdviceBasis.RECONSIDERED: "na heroverweging",
    FinalAdviceBasis.RESULT_REVIEWED: "na beoordeling van de toetsuitslag",
    FinalAdviceBasis.EXEMPT: "vrijgesteld van de doorstroomtoets",
    FinalAdviceBasis.NO_TEST_RESULT: "geen toetsuitslag mogelijk",
    FinalAdviceBasis.OBJECTION_GRANTED: "verzoek van ouders toegekend",
    KeepReason.WORK_ATTITUDE: "werkhouding en motivatie",
    KeepReason.SOCIAL_EMOTIONAL: "sociaal-emotionele ontwikkeling",
    KeepReason.LEARNING_DEVELOPMENT: "leerontwikkeling over meerdere jaren",
    KeepReason.SUPPORT_NEEDS: "ondersteuningsbehoefte",
    KeepReason.TEST_CIRCUMSTANCES: "omstandigheden tijdens de toets",
    KeepReason.OTHER: "anders (zie toelichting)",
    ConversationParty.PARENTS: "ouders/verzorgers",
    ConversationParty.PUPIL: "leerling",
    ConversationParty.TEACHER: "leerkracht",
    ConversationParty.INTERN_BEGELEIDER: "intern begeleider",
    ConversationParty.DIRECTIE: "directie",
}
