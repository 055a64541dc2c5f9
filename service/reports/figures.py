"""Every figure of the school and board reports, per school year, from `load_facts`.

`school_report(engine, school_id, year)` and `board_report(engine, school_ids, year)` read the
facts of the year's groep 8 pupils in three statements (a board's schools at once) and count:
the overview, heroverwegingen (required, raised fully or partly, kept, undecided, with the reason
codes), compliance with the legal year (voorlopig advies early or late, decisions and definitief
advies after 24 March, decisions without a held or declined conversation, advices not registered
with DUO), the open items with who must act, and the equal-chances groups. Pupils who left the
school count only as "vertrokken". Each count is a `Figure` holding its pupils' ids; the tables
(cross tables, distributions per class, ...) are built by `service.reports.tables`.
`years_report` puts the key figures of several years side by side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Connection, Engine, select

from service.reports.facts import (
    KEPT,
    RAISED_FULLY,
    RAISED_PARTLY,
    Heroverweging,
    PupilFacts,
    load_facts,
)
from service.reports.open_items import OPEN_ITEM_ORDER, OpenItem, open_item_of
from service.reports.table import MIN_GROUP, NO_PUPILS, Figure
from service.store.schema import schools
from workflows.calendar import LegalCalendar, SchoolYear, legal_calendar
from workflows.enums import AdviceKind, ExemptionGround, KeepReason, Timeliness


@dataclass(frozen=True)
class Heroverwegingen:
    required: Figure
    raised_fully: Figure
    raised_partly: Figure
    kept: Figure
    undecided: Figure
    reasons_kept: dict[KeepReason, Figure]
    reasons_partly: dict[KeepReason, Figure]


@dataclass(frozen=True)
class Compliance:
    provisional_early: Figure
    provisional_late: Figure
    decision_late: Figure
    final_late: Figure
    talk_not_held: Figure
    """Heroverwegingen decided without a held conversation or the parents' declining it."""
    provisional_not_registered: Figure
    final_not_registered: Figure
    """The goal is zero: every definitief advies registered with DUO."""


@dataclass(frozen=True)
class GroupFigures:
    """One equal-chances group: `suppressed` when it holds fewer than five pupils."""

    label: str
    pupils: Figure
    with_test: Figure
    test_higher: Figure
    raised: Figure
    gap_sum: int
    """Sum over `with_test` pupils (voorlopig advies on the scale) of toets − voorlopig."""
    gap_pupils: int

    @property
    def suppressed(self) -> bool:
        return self.pupils.count < MIN_GROUP

    @property
    def mean_gap(self) -> float | None:
        return round(self.gap_sum / self.gap_pupils, 2) if self.gap_pupils else None


@dataclass(frozen=True)
class SchoolReport:
    """The figures of one school (or of a board rolled up: `school_id` "")."""

    school_id: str
    school_name: str
    school_year: str
    today: date
    facts: tuple[PupilFacts, ...]
    pupils: Figure
    """Groep 8 pupils of the year still at the school (every figure below counts these)."""
    left: Figure
    exempt: Figure
    provisional_given: Figure
    test_received: Figure
    final_given: Figure
    heroverwegingen: Heroverwegingen
    compliance: Compliance
    open_items: tuple[OpenItem, ...]
    equal_chances: tuple[GroupFigures, ...]


@dataclass(frozen=True)
class BoardReport:
    school_year: str
    today: date
    schools: tuple[SchoolReport, ...]
    total: SchoolReport


@lru_cache(maxsize=1024)
def _hero_keys(hero: Heroverweging) -> tuple[str, ...]:
    keys = ["hero", f"outcome:{hero.outcome}"]
    if hero.outcome is not None:
        if hero.reason is not None:
            keys.append(f"reason:{hero.outcome}:{hero.reason.value}")
        if hero.decision_late:
            keys.append("decision_late")
        if hero.talk is None:
            keys.append("talk_not_held")
    return tuple(keys)


@lru_cache(maxsize=64)
def _registered(registered: frozenset[AdviceKind]) -> tuple[bool, bool]:
    """Whether the voorlopig and the definitief advies are registered with DUO."""
    return AdviceKind.PROVISIONAL in registered, AdviceKind.FINAL in registered


def _keys(f: PupilFacts) -> list[str]:
    """The counts a pupil belongs to (keys as used below)."""
    keys = list(_hero_keys(f.heroverweging)) if f.heroverweging is not None else []
    provisional_registered, final_registered = _registered(f.registered)
    if f.exemption is not None:
        keys.append("exempt")
    if f.provisional is not None:
        keys.append("provisional")
        if not provisional_registered:
            keys.append("provisional_not_registered")
    if f.test is not None:
        keys.append("test")
    if f.final is not None:
        keys.append("final")
        if not final_registered:
            keys.append("final_not_registered")
    if f.final_late:
        keys.append("final_late")
    if f.provisional_timeliness is Timeliness.EARLY:
        keys.append("provisional_early")
    elif f.provisional_timeliness is Timeliness.LATE:
        keys.append("provisional_late")
    return keys


SEX_GROUPS = ((1, "jongens"), (2, "meisjes"), (9, "geslacht anders of onbekend"))
SEX_UNKNOWN = "geslacht niet vastgelegd"
NEWCOMERS = "nieuwkomers (korter dan vier jaar in Nederland)"
ALL = "alle leerlingen"
_SEX_GROUP: dict[int | None, str] = {**dict(SEX_GROUPS), None: SEX_UNKNOWN}
_RAISED = (RAISED_FULLY, RAISED_PARTLY)
_GROUP_KEYS = {
    label: (f"group:{label}", f"with_test:{label}", f"higher:{label}", f"raised:{label}")
    for label in (ALL, *_SEX_GROUP.values(), NEWCOMERS)
}
_OPEN_KEYS = {code: f"open:{code}" for code in OPEN_ITEM_ORDER}


@dataclass
class _Counts:
    """Every count of a report in one pass over its pupils' facts: the pupils of each count by
    key, the equal-chances groups' sums of gaps, the open items' words. Counts of schools add
    up to the board's (`_merged`), so the board is not counted a second time."""

    ids: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    gaps: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    open: dict[str, tuple[str, str, date | None]] = field(default_factory=dict)
    has_sex: bool = False


class _Plan(NamedTuple):
    """What a pupil adds to the counts; the same for every pupil with the same `_profile`."""

    keys: tuple[str, ...]
    open: tuple[tuple[str, tuple[str, str, date | None]], ...]
    gap_groups: tuple[str, ...]
    """The equal-chances groups whose sum of gaps this pupil's gap adds to."""


def _profile(f: PupilFacts) -> tuple[object, ...]:
    """Everything of a pupil's facts the counts depend on (not who, nor which advice)."""
    return (
        f.status,
        f.provisional is None,
        f.provisional_timeliness,
        f.test is None,
        f.final is None,
        f.final_late,
        f.exemption,
        f.heroverweging,
        f.registered,
        f.test_higher,
        f.gap is None,
        f.sex,
    )


def _plan(f: PupilFacts, calendar: LegalCalendar) -> _Plan:
    keys = ["pupils", *_keys(f)]
    opened = []
    for code, label, who, due in open_item_of(f, calendar):
        opened.append((code, (label, who, due)))
        keys.append(_OPEN_KEYS[code])
    groups = [ALL]
    if (sex_group := _SEX_GROUP.get(f.sex)) is not None:
        groups.append(sex_group)
    if f.exemption is ExemptionGround.NEWCOMER:
        groups.append(NEWCOMERS)
    gap_groups = []
    for label in groups:
        group, with_test, higher, raised = _GROUP_KEYS[label]
        keys.append(group)
        if f.test is None or f.provisional is None:
            continue
        keys.append(with_test)
        if f.test_higher:
            keys.append(higher)
            if f.heroverweging is not None and f.heroverweging.outcome in _RAISED:
                keys.append(raised)
        if f.gap is not None:
            gap_groups.append(label)
    return _Plan(tuple(keys), tuple(opened), tuple(gap_groups))


def _count(
    facts: Iterable[PupilFacts],
    calendar: LegalCalendar,
    plans: dict[tuple[object, ...], _Plan] | None = None,
) -> _Counts:
    """Every pupil in the counts it belongs to, in one pass (who left counts only as left);
    pupils alike in what counts share one `_Plan` (`plans`, kept over a board's schools)."""
    plans = {} if plans is None else plans
    counts = _Counts()
    ids, gaps, opened = counts.ids, counts.gaps, counts.open
    for f in facts:
        pupil = f.pupil_id
        if f.left:
            ids["left"].append(pupil)
            continue
        profile = _profile(f)
        plan = plans.get(profile)
        if plan is None:
            plan = plans[profile] = _plan(f, calendar)
        for key in plan.keys:
            ids[key].append(pupil)
        for code, words in plan.open:
            opened.setdefault(code, words)
        for label in plan.gap_groups:
            gap = gaps[label]
            gap[0] += f.gap or 0
            gap[1] += 1
        if f.sex is not None:
            counts.has_sex = True
    return counts


def _merged(parts: Iterable[_Counts]) -> _Counts:
    total = _Counts()
    for part in parts:
        for key, ids in part.ids.items():
            total.ids[key].extend(ids)
        for label, (gap_sum, gap_pupils) in part.gaps.items():
            gap = total.gaps[label]
            gap[0] += gap_sum
            gap[1] += gap_pupils
        for code, words in part.open.items():
            total.open.setdefault(code, words)
        total.has_sex = total.has_sex or part.has_sex
    return total


def _heroverwegingen(of: Callable[[str], Figure]) -> Heroverwegingen:
    return Heroverwegingen(
        required=of("hero"),
        raised_fully=of(f"outcome:{RAISED_FULLY}"),
        raised_partly=of(f"outcome:{RAISED_PARTLY}"),
        kept=of(f"outcome:{KEPT}"),
        undecided=of("outcome:None"),
        reasons_kept={r: of(f"reason:{KEPT}:{r.value}") for r in KeepReason},
        reasons_partly={r: of(f"reason:{RAISED_PARTLY}:{r.value}") for r in KeepReason},
    )


def _compliance(of: Callable[[str], Figure]) -> Compliance:
    return Compliance(
        provisional_early=of("provisional_early"),
        provisional_late=of("provisional_late"),
        decision_late=of("decision_late"),
        final_late=of("final_late"),
        talk_not_held=of("talk_not_held"),
        provisional_not_registered=of("provisional_not_registered"),
        final_not_registered=of("final_not_registered"),
    )


def _equal_chances(counts: _Counts, of: Callable[[str], Figure]) -> tuple[GroupFigures, ...]:
    labels = [ALL]
    if counts.has_sex:
        labels += [label for _, label in SEX_GROUPS] + [SEX_UNKNOWN]
    labels.append(NEWCOMERS)
    return tuple(
        GroupFigures(
            label,
            of(f"group:{label}"),
            of(f"with_test:{label}"),
            of(f"higher:{label}"),
            of(f"raised:{label}"),
            *counts.gaps.get(label, (0, 0)),
        )
        for label in labels
    )


def _report(
    counts: _Counts,
    staying: Sequence[PupilFacts],
    school_id: str,
    name: str,
    year: SchoolYear,
    today: date,
    *,
    unique: bool = False,
) -> SchoolReport:
    """The report of these counts; `unique`: every pupil is in the facts once (each count's
    list is then sorted in place, not deduplicated: a board adds up sorted lists)."""
    ids = counts.ids

    def of(key: str) -> Figure:
        found = ids.get(key)
        if not found:
            return NO_PUPILS
        if not unique:
            return Figure.of(found)
        found.sort()
        return Figure(tuple(found))

    return SchoolReport(
        school_id=school_id,
        school_name=name,
        school_year=str(year),
        today=today,
        facts=tuple(staying),
        pupils=of("pupils"),
        left=of("left"),
        exempt=of("exempt"),
        provisional_given=of("provisional"),
        test_received=of("test"),
        final_given=of("final"),
        heroverwegingen=_heroverwegingen(of),
        compliance=_compliance(of),
        open_items=tuple(
            OpenItem(code, *counts.open[code], of(_OPEN_KEYS[code]))
            for code in OPEN_ITEM_ORDER
            if code in counts.open
        ),
        equal_chances=_equal_chances(counts, of),
    )


def figures_of(
    facts: Sequence[PupilFacts], school_id: str, name: str, year: SchoolYear, today: date
) -> SchoolReport:
    """The report of these pupils' facts (one school's, or a board's together)."""
    counts = _count(facts, legal_calendar(year))
    return _report(counts, [f for f in facts if not f.left], school_id, name, year, today)


def _year(year: str | SchoolYear) -> SchoolYear:
    return year if isinstance(year, SchoolYear) else SchoolYear.parse(year)


def _names(conn: Connection, school_ids: Sequence[str]) -> dict[str, str]:
    query = select(schools.c.id, schools.c.name).where(schools.c.id.in_(list(school_ids)))
    return {r.id: r.name for r in conn.execute(query)}


BOARD_NAME = "alle scholen samen"


def board_report(
    engine: Engine,
    school_ids: Iterable[str],
    year: str | SchoolYear,
    *,
    today: date | None = None,
) -> BoardReport:
    """The board's schools side by side (in the order given) and rolled up into `total`."""
    ids = list(dict.fromkeys(school_ids))
    school_year = _year(year)
    day = today or datetime.now(UTC).date()
    with engine.connect() as conn:
        facts = load_facts(conn, ids, school_year)
        names = _names(conn, ids)
    per_school: dict[str, list[PupilFacts]] = {i: [] for i in ids}
    for f in facts:
        per_school[f.school_id].append(f)
    calendar = legal_calendar(school_year)
    plans: dict[tuple[object, ...], _Plan] = {}
    counts = {i: _count(per_school[i], calendar, plans) for i in ids}
    reports = tuple(
        _report(
            counts[i],
            [f for f in per_school[i] if not f.left],
            i,
            names.get(i, i),
            school_year,
            day,
            unique=True,
        )
        for i in ids
    )
    # the board's figures are its schools' added up (each pupil counted once, at its school)
    staying = [f for f in facts if not f.left]
    total = _report(
        _merged(counts.values()), staying, "", BOARD_NAME, school_year, day, unique=True
    )
    return BoardReport(str(school_year), day, reports, total)


def school_report(
    engine: Engine, school_id: str, year: str | SchoolYear, *, today: date | None = None
) -> SchoolReport:
    """One school's report for one school year; `today` (the clock's day) dates the open
    items (default: today in UTC)."""
    return board_report(engine, [school_id], year, today=today).schools[0]


def years_report(
    engine: Engine,
    school_ids: Iterable[str],
    years: Iterable[str | SchoolYear],
    *,
    today: date | None = None,
) -> tuple[SchoolReport, ...]:
    """The schools rolled up, one report per school year (oldest first), for the report over
    years (`service.reports.tables.years_tables`); one school's are its own reports."""
    ids = list(dict.fromkeys(school_ids))
    day = today or datetime.now(UTC).date()
    name = BOARD_NAME
    found = []
    with engine.connect() as conn:
        if len(ids) == 1:
            name = _names(conn, ids).get(ids[0], ids[0])
        for school_year in sorted({_year(y) for y in years}, key=lambda y: y.start_year):
            facts = load_facts(conn, ids, school_year)
            school_id = ids[0] if len(ids) == 1 else ""
            found.append(figures_of(facts, school_id, name, school_year, day))
    return tuple(found)
