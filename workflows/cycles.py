"""Each school's own conversation rounds on top of the legal calendar, and where they clash.

A school plans its rounds by month and day (the Brandaris gives the voorlopig advies in January,
Toermalijn in November, De Duif at an OKR-gesprek in March); `check_cycle` compares them with the
legal calendar of a school year and names every round that cannot meet the law, so directie sees it
before the year starts. The five seed schools' cycles ship as examples (`SEED_CYCLES`), taken from
their own policy documents in `shared/seeds/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from workflows.calendar import DateWindow, LegalCalendar, SchoolYear
from workflows.policy import SchoolPolicy, TalkSettings


class RoundKind(Enum):
    START = "start"
    GOALS = "goals"
    PROGRESS = "progress"
    ORIENTATION_ADVICE = "orientation_advice"
    PROVISIONAL_ADVICE = "provisional_advice"
    OKR = "okr"
    FINAL_ADVICE = "final_advice"

    @property
    def label(self) -> str:
        """The kind in Dutch, as directie reads it."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    RoundKind.START: "startgesprek",
    RoundKind.GOALS: "doelengesprek",
    RoundKind.PROGRESS: "voortgangsgesprek",
    RoundKind.ORIENTATION_ADVICE: "oriënterend advies",
    RoundKind.PROVISIONAL_ADVICE: "voorlopig schooladvies",
    RoundKind.OKR: "OKR-gesprek",
    RoundKind.FINAL_ADVICE: "definitief schooladvies",
}


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int

    def in_year(self, year: SchoolYear) -> date:
        """The date in `year` (August to December in its first calendar year, the rest after)."""
        calendar_year = year.start_year if self.month >= 8 else year.start_year + 1
        return date(calendar_year, self.month, self.day)

    def __str__(self) -> str:
        return f"{self.day:02d}-{self.month:02d}"


@dataclass(frozen=True)
class ConversationRound:
    name: str
    """The school's own name for the round, in Dutch ("adviesgesprek groep 8")."""
    kind: RoundKind
    groep: int
    first: MonthDay
    last: MonthDay
    talk: TalkSettings = field(default_factory=TalkSettings)
    """How this round's talks are held (length, who attends, on site or online)."""

    def window(self, year: SchoolYear) -> DateWindow:
        return DateWindow(self.first.in_year(year), self.last.in_year(year))


@dataclass(frozen=True)
class SchoolCycle:
    school: str
    rounds: tuple[ConversationRound, ...]
    conversation_required: bool = True

    def policy(self) -> SchoolPolicy:
        return SchoolPolicy(conversation_required=self.conversation_required, rounds=self.rounds)

    def round(self, kind: RoundKind, groep: int = 8) -> ConversationRound | None:
        return next((r for r in self.rounds if r.kind is kind and r.groep == groep), None)


class Severity(Enum):
    ERROR = "error"
    """The round cannot meet a legal deadline: every advice given in it is flagged."""
    WARNING = "warning"
    """The round can meet the law, but only if everything else goes right."""


@dataclass(frozen=True)
class ComplianceIssue:
    code: str
    severity: Severity
    round_name: str | None
    message: str


def check_cycle(cycle: SchoolCycle, calendar: LegalCalendar) -> list[ComplianceIssue]:
    """Every way in which `cycle` clashes with the law in `calendar`'s school year."""
    issues: list[ComplianceIssue] = []
    year = calendar.school_year
    provisional = cycle.round(RoundKind.PROVISIONAL_ADVICE)
    legal = calendar.provisional_advice_window
    if provisional is None:
        issues.append(
            ComplianceIssue(
                "no_provisional_round",
                Severity.ERROR,
                None,
                "er is geen gespreksronde voor het voorlopig schooladvies in groep 8",
            )
        )
    else:
        window = provisional.window(year)
        if window.last < legal.first:
            issues.append(
                ComplianceIssue(
                    "provisional_round_too_early",
                    Severity.ERROR,
                    provisional.name,
                    f"het voorlopig advies valt vóór de wettelijke periode "
                    f"({_d(legal.first)} t/m {_d(legal.last)})",
                )
            )
        elif window.first > legal.last:
            issues.append(
                ComplianceIssue(
                    "provisional_round_too_late",
                    Severity.ERROR,
                    provisional.name,
                    f"het voorlopig advies komt na de wettelijke termijn ({_d(legal.last)})",
                )
            )
        elif window.first < legal.first or window.last > legal.last:
            issues.append(
                ComplianceIssue(
                    "provisional_round_partly_outside",
                    Severity.WARNING,
                    provisional.name,
                    f"een deel van de ronde valt buiten {_d(legal.first)} t/m {_d(legal.last)}",
                )
            )
    final = cycle.round(RoundKind.FINAL_ADVICE)
    if final is not None:
        window = final.window(year)
        if window.last < calendar.results_deadline:
            issues.append(
                ComplianceIssue(
                    "final_round_before_results",
                    Severity.ERROR,
                    final.name,
                    f"het definitief advies volgt op de toetsuitslag, die uiterlijk "
                    f"{_d(calendar.results_deadline)} binnen is",
                )
            )
        if window.first > calendar.final_advice_deadline:
            issues.append(
                ComplianceIssue(
                    "final_round_too_late",
                    Severity.ERROR,
                    final.name,
                    f"het definitief advies is uiterlijk {_d(calendar.final_advice_deadline)}",
                )
            )
        elif window.last > calendar.final_advice_deadline:
            issues.append(
                ComplianceIssue(
                    "final_round_partly_late",
                    Severity.WARNING,
                    final.name,
                    f"een deel van de ronde valt na {_d(calendar.final_advice_deadline)}",
                )
            )
    return issues


def _d(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"


def _r(
    name: str, kind: RoundKind, groep: int, first: tuple[int, int], last: tuple[int, int]
) -> ConversationRound:
    return ConversationRound(name, kind, groep, MonthDay(*first), MonthDay(*last))


K = RoundKind
SEED_CYCLES: dict[str, SchoolCycle] = {
    # 000: oriënterend advies at the groep 7 progress talk; doelengesprek in October; the
    # adviesgesprek (voorlopig) in January; a re-talk only when the test is higher.
    "de-brandaris": SchoolCycle(
        "De Brandaris",
        (
            _r(
                "voortgangsgesprek groep 7 met oriënterend advies",
                K.ORIENTATION_ADVICE,
                7,
                (2, 1),
                (3, 31),
            ),
            _r("doelengesprek groep 8", K.GOALS, 8, (10, 1), (10, 31)),
            _r("adviesgesprek groep 8", K.PROVISIONAL_ADVICE, 8, (1, 10), (1, 31)),
        ),
    ),
    # 001: a voorlopig advies for groep 7 in June; in groep 8 a progress talk in November and the
    # OKR-gesprek in March on a study day, where the advice is given and discussed.
    "de-duif": SchoolCycle(
        "De Duif",
        (
            _r("voorlopig advies groep 7", K.ORIENTATION_ADVICE, 7, (6, 1), (6, 30)),
            _r("voortgangsgesprek groep 8", K.PROGRESS, 8, (11, 1), (11, 30)),
            _r("OKR-gesprek groep 8 (studiedag)", K.PROVISIONAL_ADVICE, 8, (3, 1), (3, 14)),
            _r("OKR-gesprek groep 8 (studiedag)", K.OKR, 8, (3, 1), (3, 14)),
        ),
    ),
    # 002: a first look at secondary school for groep 7 in June/July; adviesgesprekken
    # between the autumn and Christmas holidays; the definitief advies in February/March.
    "samen-sterk": SchoolCycle(
        "Samen sterk",
        (
            _r(
                "rapportgesprek groep 7: eerste blik op het VO",
                K.ORIENTATION_ADVICE,
                7,
                (6, 15),
                (7, 15),
            ),
            _r("adviesgesprekken groep 8", K.PROVISIONAL_ADVICE, 8, (10, 27), (12, 19)),
            _r("definitief advies naar het VO", K.FINAL_ADVICE, 8, (2, 1), (3, 31)),
        ),
    ),
    # 003: start talks, a compulsory voorlopig adviesgesprek in November, the definitief
    # adviesgesprek in February.
    "toermalijn": SchoolCycle(
        "Toermalijn",
        (
            _r("startgesprek groep 8", K.START, 8, (8, 25), (9, 30)),
            _r("voorlopig adviesgesprek", K.PROVISIONAL_ADVICE, 8, (11, 1), (11, 30)),
            _r("definitief adviesgesprek", K.FINAL_ADVICE, 8, (2, 1), (2, 28)),
        ),
    ),
    # 004: groep 7 verwijzingsgesprekken before the May holiday; groep 8 verwijzingsgesprekken
    # after the first portfolio (January/February).
    "de-bron": SchoolCycle(
        "De Bron",
        (
            _r("verwijzingsgesprek groep 7", K.ORIENTATION_ADVICE, 7, (4, 1), (4, 24)),
            _r("verwijzingsgesprek groep 8", K.PROVISIONAL_ADVICE, 8, (1, 20), (2, 14)),
        ),
    ),
}
