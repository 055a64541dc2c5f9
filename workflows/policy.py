"""What a school sets for itself within the law: the heroverweging conversation, its own
conversation rounds, the test window, and who gets which notice.

A school's policy is stored per school and per school year (`service.schools.policies`) and
every decision takes the pupil's school's policy. `SchoolPolicy()` is the legal minimum with the
domain's defaults: the legal calendar, no rounds of its own, the conversation on (every seed
school holds one), a heroverweging notice to the class teacher(s) and the intern begeleider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING

from workflows.calendar import DateWindow, LegalCalendar, SchoolYear, legal_calendar

if TYPE_CHECKING:
    from workflows.cycles import ConversationRound


class Notice(Enum):
    """A notice the service sends to people of the school."""

    RECONSIDERATION_REQUIRED = "reconsideration_required"

    @property
    def label(self) -> str:
        return _NOTICE_LABELS[self]


_NOTICE_LABELS = {Notice.RECONSIDERATION_REQUIRED: "Heroverweging nodig (toetsadvies hoger)"}


@dataclass(frozen=True)
class Recipients:
    """Who of the school gets a notice: by role (found per pupil), plus fixed addresses."""

    class_teachers: bool = True
    """The pupil's class teacher(s): every leerkracht with the pupil's class in scope."""
    ib: bool = True
    """The school's intern begeleider(s)."""
    directie: bool = False
    extra: tuple[str, ...] = ()
    """Further e-mail addresses (e.g. a shared mailbox of the groep 8 team)."""


def default_notices() -> dict[Notice, Recipients]:
    return {notice: Recipients() for notice in Notice}


class Attendee(Enum):
    """Who of the school attends a talk, found per pupil when a talk is requested."""

    CLASS_TEACHER = "class_teacher"
    """One of the pupil's class teachers (a duo: whichever works that day)."""
    ALL_CLASS_TEACHERS = "all_class_teachers"
    """Every teacher of the pupil's class (duo teachers together)."""
    GROEP_7_TEACHER = "groep_7_teacher"
    IB = "ib"
    DIRECTIE = "directie"

    @property
    def label(self) -> str:
        return _ATTENDEE_LABELS[self]


_ATTENDEE_LABELS = {
    Attendee.CLASS_TEACHER: "leerkracht van de groep",
    Attendee.ALL_CLASS_TEACHERS: "beide leerkrachten (duo)",
    Attendee.GROEP_7_TEACHER: "leerkracht van groep 7",
    Attendee.IB: "intern begeleider",
    Attendee.DIRECTIE: "directie",
}


@dataclass(frozen=True)
class TalkSettings:
    """How the talks of one kind are held: length, who attends, where, and the time rules."""

    minutes: int = 30
    attendees: frozenset[Attendee] = frozenset({Attendee.CLASS_TEACHER})
    with_pupil: bool = True
    online: bool = False
    """Online (a video link) instead of on site: no room needed."""
    margin_working_days: int = 1
    """The talk ends at least this many working days before the deadline, so the decision can
    still be recorded in time."""
    answer_within_days: int = 2
    """Parents who have not answered the invitation after this many days: directie is warned."""
    reminder_days_before: int = 2
    separate_parents: bool = False
    """Parents with different addresses get two talks instead of one joint talk (the school's
    default; a family can differ)."""


@dataclass(frozen=True)
class SchoolPolicy:
    conversation_required: bool = True
    """Every seed school talks with parents before a heroverweging is final; on by default."""

    test_windows: Mapping[SchoolYear, DateWindow] = field(default_factory=dict)
    """The doorstroomtoets window per school year, once the school or ministry knows it."""

    rounds: tuple[ConversationRound, ...] = ()
    """The school's own conversation rounds (`workflows.cycles`), checked against the law."""

    notices: Mapping[Notice, Recipients] = field(default_factory=default_notices)
    """Who gets which notice."""

    reconsideration_talk: TalkSettings = field(default_factory=TalkSettings)
    """How the heroverweging talk is held (its own rounds' talks are set per round)."""

    def calendar(self, year: SchoolYear) -> LegalCalendar:
        calendar = legal_calendar(year)
        window = self.test_windows.get(year)
        return replace(calendar, test_window=window) if window else calendar

    def recipients(self, notice: Notice) -> Recipients:
        return self.notices.get(notice, Recipients())


DEFAULT_POLICY = SchoolPolicy()
"""The domain's default value, for tests and the domain's own defaults; the service never falls
back on it at run time (`service.schools.policies.SchoolPolicies` answers per school)."""
