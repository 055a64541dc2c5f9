"""The report's figures as `ReportTable`s, in Dutch: what the pages, the CSV and the XLSX show.

`school_tables(report)` gives a school's (or a board's rolled-up) tables in page order;
`board_tables(board)` the schools side by side and then the rolled-up tables;
`years_tables(reports)` the key figures and the definitief advies per school year. Advices are
counted per level of the half-step scale (`workflows.scale`): "met lwoo" counts at its level,
vso and "geen specifiek advies mogelijk" have rows of their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import NamedTuple

from service.reports.facts import PupilFacts
from service.reports.figures import BoardReport, GroupFigures, SchoolReport
from service.reports.national import national_figures
from service.reports.table import (
    MIN_GROUP,
    NO_PUPILS,
    SUPPRESSED,
    Figure,
    ReportTable,
    TableBuilder,
    Value,
)
from workflows.enums import KeepReason
from workflows.scale import SchoolAdvice, TestAdvice

LEVELS: tuple[str, ...] = (
    "pro",
    "vmbo-bb",
    "vmbo-bb/vmbo-kb",
    "vmbo-kb",
    "vmbo-kb/vmbo-gt",
    "vmbo-gt",
    "vmbo-gt/havo",
    "havo",
    "havo/vwo",
    "vwo",
    SchoolAdvice.VSO.label,
    SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK.label,
)
TESTS: tuple[str, ...] = tuple(t.label for t in TestAdvice)
NO_TEST = "geen toetsadvies"
NOT_YET = "nog geen"
TOTAL = "totaal"


_LEVEL = {a: SchoolAdvice.of(a.tracks).label if a.tracks else a.label for a in SchoolAdvice}
_LEVEL_OR_NOT_YET: dict[SchoolAdvice | None, str] = {a: _LEVEL[a] for a in SchoolAdvice}
_LEVEL_OR_NOT_YET[None] = NOT_YET
_TEST_LABEL: dict[TestAdvice | None, str] = {**{t: t.label for t in TestAdvice}, None: NO_TEST}


def level(advice: SchoolAdvice) -> str:
    """The row an advice counts in: its level on the scale without lwoo, or its own name."""
    return _LEVEL[advice]


def _figure(pupil_ids: Iterable[str]) -> Figure:
    found = tuple(sorted(set(pupil_ids)))
    return Figure(found) if found else NO_PUPILS


class _Labels(NamedTuple):
    """What the grids need of one pupil, looked up once for all of a report's grids."""

    pupil: str
    class_name: str
    provisional: str
    """The voorlopig advies' row (its level), or NOT_YET."""
    final: str
    """The definitief advies' row, or NOT_YET."""
    test: str
    """The toetsadvies' column, or NO_TEST."""


_Labelled = tuple[list[_Labels], bool]


def _labels(facts: Sequence[PupilFacts]) -> _Labelled:
    """Every pupil's labels in order of pupil id, and whether each pupil is there once (then
    every list of pupils a grid makes is already sorted and unique)."""
    level, test = _LEVEL_OR_NOT_YET, _TEST_LABEL
    labels = [
        _Labels(f.pupil_id, f.class_name, level[f.provisional], level[f.final], test[f.test])
        for f in facts
    ]
    labels.sort(key=itemgetter(0))
    return labels, len({p.pupil for p in labels}) == len(labels)


def _in_order(pupil_ids: list[str]) -> Figure:
    """The figure of pupils already sorted and unique."""
    return Figure(tuple(pupil_ids)) if pupil_ids else NO_PUPILS


def _grid(
    table: TableBuilder,
    rows: Sequence[str],
    columns: Sequence[str],
    placed: Iterable[tuple[str, str, str]],
    shown: Callable[[str], str] = lambda row: row,
    *,
    in_order: bool = False,
) -> None:
    """Rows × columns of pupils counted in one pass (`placed`: each pupil with its row and
    column), with a total column and a total row; `in_order`: the pupils come sorted and once
    each."""
    in_rows, in_columns = set(rows), set(columns)
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_row: dict[str, list[str]] = defaultdict(list)
    by_column: dict[str, list[str]] = defaultdict(list)
    everyone: list[str] = []
    for pupil, row, column in placed:
        if row in in_rows and column in in_columns:
            cells[row, column].append(pupil)
            by_row[row].append(pupil)
            by_column[column].append(pupil)
            everyone.append(pupil)
    figure = _in_order if in_order else _figure
    empty: list[str] = []
    for row in rows:
        line = (figure(cells.get((row, column), empty)) for column in columns)
        table.add(shown(row), *line, figure(by_row.get(row, empty)))
    totals = (figure(by_column.get(column, empty)) for column in columns)
    table.add(shown(TOTAL), *totals, figure(everyone))


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _cross(title: str, key: str, labels: _Labelled, final: bool, note: str) -> ReportTable:
    """The advice (voorlopig, or definitief when `final`) × toetsadvies; pupils without that
    advice are not in it."""
    columns = (title.split(" × ", maxsplit=1)[0], *TESTS, NO_TEST, TOTAL)
    table = TableBuilder(title, columns, key=key, note=note)
    pupils, in_order = labels
    placed = (
        (p.pupil, advice, p.test)
        for p in pupils
        if (advice := p.final if final else p.provisional) != NOT_YET
    )
    _grid(table, LEVELS, (*TESTS, NO_TEST), placed, in_order=in_order)
    return table.build()


def _overview(r: SchoolReport) -> ReportTable:
    t = TableBuilder(
        f"Leerlingen groep 8, {r.school_year}",
        ("Leerlingen", "Aantal"),
        key="overzicht",
        note="Leerlingen die de school verlieten tellen alleen als vertrokken.",
    )
    for label, figure in (
        ("groep 8 (op school)", r.pupils),
        ("vertrokken", r.left),
        ("vrijgesteld van de doorstroomtoets", r.exempt),
        ("voorlopig advies gegeven", r.provisional_given),
        ("toetsadvies ontvangen", r.test_received),
        ("definitief advies gegeven", r.final_given),
    ):
        t.add(label, figure)
    return t.build()


def _heroverwegingen(r: SchoolReport) -> list[ReportTable]:
    h = r.heroverwegingen
    required = h.required.count
    t = TableBuilder(
        "Heroverwegingen",
        ("Heroverweging", "Aantal", "%"),
        key="heroverwegingen",
        note="Toetsadvies hoger dan het advies: de school heroverweegt. % van het aantal nodig.",
    )
    for label, figure in (
        ("heroverweging nodig", h.required),
        ("volledig bijgesteld", h.raised_fully),
        ("gedeeltelijk bijgesteld", h.raised_partly),
        ("gehandhaafd", h.kept),
        ("nog niet beslist", h.undecided),
    ):
        t.add(label, figure, percent(figure.count, required))
    reasons = TableBuilder(
        "Redenen bij handhaven en gedeeltelijk bijstellen",
        ("Reden", "gehandhaafd", "gedeeltelijk bijgesteld", TOTAL),
        key="redenen",
        note="De redencode die de school bij het besluit vastlegde.",
    )
    for reason in KeepReason:
        kept, partly = h.reasons_kept[reason], h.reasons_partly[reason]
        reasons.add(reason.label, kept, partly, kept + partly)
    return [t.build(), reasons.build()]


def _compliance(r: SchoolReport) -> list[ReportTable]:
    c = r.compliance
    t = TableBuilder(
        "Naleving van het wettelijk tijdpad",
        ("Wat", "Leerlingen", "Norm"),
        key="naleving",
        note="Vastgelegd zoals het gebeurde; hier gemarkeerd. Het voorlopig advies telt zoals "
        "het nu staat (een correctie met haar eigen datum). Doel bij DUO: nul leerlingen zonder "
        "geregistreerd advies.",
    )
    t.add("voorlopig advies vóór de wettelijke periode", c.provisional_early, "10-31 januari")
    t.add("voorlopig advies te laat", c.provisional_late, "uiterlijk 31 januari")
    t.add("besluit heroverweging na 24 maart", c.decision_late, "uiterlijk 24 maart")
    t.add("definitief advies na 24 maart", c.final_late, "uiterlijk 24 maart")
    t.add(
        "heroverweging beslist zonder gesprek met ouders",
        c.talk_not_held,
        "gesprek gevoerd of ouders zien ervan af",
    )
    t.add("voorlopig advies niet aan DUO geleverd", c.provisional_not_registered, "geen")
    t.add("definitief advies niet aan DUO geleverd", c.final_not_registered, "geen")
    items = TableBuilder(
        f"Open punten (stand op {r.today.strftime('%d-%m-%Y')})",
        ("Wat", "Wie moet handelen", "Uiterlijk", "Leerlingen", "Termijn verstreken"),
        key="open_punten",
        note="DUO: binnen twee weken na het advies.",
    )
    for item in r.open_items:
        due = item.due.strftime("%d-%m-%Y") if item.due else "binnen twee weken na het advies"
        overdue = "ja" if item.overdue_on(r.today) else "nee"
        items.add(item.label, item.who, due, item.pupils, overdue if item.due else None)
    return [t.build(), items.build()]


def _distribution(title: str, key: str, labels: _Labelled, final: bool) -> ReportTable:
    t = TableBuilder(title, ("Klas", *LEVELS, NOT_YET, TOTAL), key=key)
    pupils, in_order = labels
    placed = ((p.pupil, p.class_name, p.final if final else p.provisional) for p in pupils)
    classes = sorted({p.class_name for p in pupils})
    _grid(t, classes, (*LEVELS, NOT_YET), placed, lambda c: c or "(geen klas)", in_order=in_order)
    return t.build()


def _shown(figure: Figure) -> Value | Figure:
    return SUPPRESSED if figure.count < MIN_GROUP else figure


def _share(part: Figure, whole: Figure) -> Value:
    """A share is shown only when its part and its whole are both five pupils or more (else
    the share would give the small number away)."""
    small = part.count < MIN_GROUP or whole.count < MIN_GROUP
    return SUPPRESSED if small else percent(part.count, whole.count)


GROUP_COLUMNS = (
    "Groep",
    "Leerlingen",
    "Met toetsadvies",
    "Toetsadvies hoger",
    "% hoger",
    "Bijgesteld",
    "% bijgesteld",
    "Gem. verschil toets − voorlopig (halve stappen)",
)


def group_cells(g: GroupFigures) -> tuple[Value | Figure, ...]:
    """A group's row: any count under five, any share of or over fewer than five pupils, and
    any mean over fewer than five, is "< 5" (never the number)."""
    gap: Value = SUPPRESSED if g.gap_pupils < MIN_GROUP else g.mean_gap
    if g.suppressed:
        return (
            g.label,
            SUPPRESSED,
            SUPPRESSED,
            SUPPRESSED,
            SUPPRESSED,
            SUPPRESSED,
            SUPPRESSED,
            SUPPRESSED,
        )
    return (
        g.label,
        g.pupils,
        _shown(g.with_test),
        _shown(g.test_higher),
        _share(g.test_higher, g.with_test),
        _shown(g.raised),
        _share(g.raised, g.test_higher),
        gap,
    )


def _equal_chances(r: SchoolReport) -> list[ReportTable]:
    t = TableBuilder(
        "Gelijke kansen",
        GROUP_COLUMNS,
        key="gelijke_kansen",
        note="Per kenmerk dat de school vastlegt. Groepen, aantallen en percentages van of over "
        "minder dan 5 leerlingen worden niet getoond (< 5). Verschil: toetsadvies min voorlopig "
        "advies in halve stappen.",
    )
    for g in r.equal_chances:
        t.add(*group_cells(g))
    national = TableBuilder(
        "Landelijke cijfers",
        ("Cijfer", "Groep", "Landelijk", "Jaar", "Benadering", "Bron"),
        key="landelijk",
        note="Uit service/reports/data/national.csv; bronnen in data/SOURCE.md.",
    )
    for n in national_figures():
        national.add(n.indicator, n.group, n.value, n.year, n.approximate, n.source)
    return [t.build(), national.build()]


def school_tables(r: SchoolReport) -> list[ReportTable]:
    labels = _labels(r.facts)
    return [
        _overview(r),
        _cross(
            "Voorlopig advies × toetsadvies",
            "kruistabel_voorlopig",
            labels,
            False,
            "Leerlingen met een voorlopig advies; met lwoo telt op het eigen niveau.",
        ),
        _cross(
            "Definitief advies × toetsadvies",
            "kruistabel_definitief",
            labels,
            True,
            "Leerlingen met een definitief advies.",
        ),
        *_heroverwegingen(r),
        *_compliance(r),
        _distribution("Voorlopig advies per klas", "verdeling_voorlopig", labels, False),
        _distribution("Definitief advies per klas", "verdeling_definitief", labels, True),
        *_equal_chances(r),
    ]


def key_figures(r: SchoolReport) -> list[tuple[str, Figure]]:
    """The figures compared side by side (schools, or years)."""
    h, c = r.heroverwegingen, r.compliance
    return [
        ("groep 8 (op school)", r.pupils),
        ("vertrokken", r.left),
        ("vrijgesteld", r.exempt),
        ("voorlopig advies gegeven", r.provisional_given),
        ("toetsadvies ontvangen", r.test_received),
        ("toetsadvies hoger dan voorlopig", r.equal_chances[0].test_higher),
        ("heroverweging nodig", h.required),
        ("volledig bijgesteld", h.raised_fully),
        ("gedeeltelijk bijgesteld", h.raised_partly),
        ("gehandhaafd", h.kept),
        ("nog niet beslist", h.undecided),
        ("definitief advies gegeven", r.final_given),
        ("voorlopig advies vóór de wettelijke periode", c.provisional_early),
        ("voorlopig advies te laat", c.provisional_late),
        ("besluit heroverweging na 24 maart", c.decision_late),
        ("definitief advies na 24 maart", c.final_late),
        ("heroverweging beslist zonder gesprek met ouders", c.talk_not_held),
        ("voorlopig advies niet aan DUO geleverd", c.provisional_not_registered),
        ("definitief advies niet aan DUO geleverd", c.final_not_registered),
    ]


def _side_by_side(
    title: str, key: str, first: str, reports: Sequence[SchoolReport], heads: Sequence[str]
) -> ReportTable:
    t = TableBuilder(title, (first, *heads), key=key)
    columns = [key_figures(r) for r in reports]
    for index, (label, _) in enumerate(columns[0] if columns else []):
        t.add(label, *(figures[index][1] for figures in columns))
    return t.build()


def board_tables(board: BoardReport) -> list[ReportTable]:
    reports = (*board.schools, board.total)
    heads = [r.school_name for r in board.schools] + [TOTAL]
    comparison = _side_by_side(
        f"Scholen naast elkaar, {board.school_year}", "vergelijking", "Cijfer", reports, heads
    )
    return [comparison, *school_tables(board.total)]


def years_tables(reports: Sequence[SchoolReport]) -> list[ReportTable]:
    heads = [r.school_year for r in reports]
    key = _side_by_side("Kerncijfers per schooljaar", "jaren", "Cijfer", reports, heads)
    t = TableBuilder(
        "Definitief advies per schooljaar",
        ("Schooljaar", *LEVELS, NOT_YET, TOTAL),
        key="jaren_definitief",
    )
    for r in reports:
        cells: dict[str, list[str]] = defaultdict(list)
        for f in r.facts:
            cells[_LEVEL_OR_NOT_YET[f.final]].append(f.pupil_id)
        t.add(r.school_year, *(Figure.of(cells[c]) for c in (*LEVELS, NOT_YET)), r.pupils)
    return [key, t.build()]
