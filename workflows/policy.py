"""What a school sets for itself within the law: the heroverweging conversation, test windows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from workflows.calendar import DateWindow, LegalCalendar, SchoolYear, legal_calendar


@dataclass(frozen=True)
class SchoolPolicy:
    conversation_required: bool = True
    """Every seed school talks with parents before a heroverweging is final; on by default."""

    test_windows: Mapping[SchoolYear, DateWindow] = field(default_factory=dict)
    """The doorstroomtoets window per school year, once the school or ministry knows it."""

    def calendar(self, year: SchoolYear) -> LegalCalendar:
        calendar = legal_calendar(year)
        window = self.test_windows.get(year)
        return replace(calendar, test_window=window) if window else calendar


DEFAULT_POLICY = SchoolPolicy()
