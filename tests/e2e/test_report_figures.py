"""Done-when 1 of issue 15: on a generated school year (3 schools, 510 pupils, every path), every
figure of the school and board reports equals the count this test makes from its own record of
what each pupil went through (`bench.report_year.PupilPath`), on SQLite and on PostgreSQL.

The expected side never calls the report code: levels, steps and "higher" come from the
generator's own tables (written from DOMAIN.md), and each table cell is checked — its number and
the pupils behind it — against a count made here, row by row and column by column.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import datetime

import pytest

from bench.report_year import (
    SCHOOL_STEP,
    TALKS,
    TEST_STEP,
    GeneratedYear,
    PupilPath,
    generate,
    is_higher,
)
from service.bootstrap import Container
from service.projections.rebuild import CATCH_UP, rebuild
from service.projections.runner import catch_up
from service.reports.figures import board_report, school_report
from service.reports.national import NATIONAL_CSV
from service.reports.table import ReportTable
from service.reports.tables import board_tables, school_tables
from tests.conftest import Clock
from workflows.enums import ExemptionGround, KeepReason
from workflows.scale import SchoolAdvice, TestAdvice

LABEL_AT_STEP = {
    0: "pro",
    2: "vmbo-bb",
    3: "vmbo-bb/vmbo-kb",
    4: "vmbo-kb",
    5: "vmbo-kb/vmbo-gt",
    6: "vmbo-gt",
    7: "vmbo-gt/havo",
    8: "havo",
    9: "havo/vwo",
    10: "vwo",
}
OFF_SCALE = {
    SchoolAdvice.VSO: "vso",
    SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK: "geen specifiek advies mogelijk",
}
ROWS = [*LABEL_AT_STEP.values(), *OFF_SCALE.values()]
TEST_COLUMNS = ["pro/vmbo-bb", "vmbo-bb/vmbo-kb", "vmbo-kb/vmbo-gt", "vmbo-gt/havo"]
TEST_COLUMNS += ["havo/vwo", "vwo"]
Ids = set[str]


def level(advice: SchoolAdvice) -> str:
    return OFF_SCALE.get(advice) or LABEL_AT_STEP[SCHOOL_STEP[advice]]


def toets_label(test: TestAdvice | None) -> str:
    return test.label if test is not None else "geen toetsadvies"


def ids(paths: Sequence[PupilPath], keep: Callable[[PupilPath], bool]) -> Ids:
    return {p.pupil_id for p in paths if keep(p)}


def pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class Expected:
    """Every cell of every table, counted from the paths of `paths` (the pupils of one school,
    or of the board) — None for a cell this test does not know (the test then fails)."""

    def __init__(self, paths: Sequence[PupilPath], year: GeneratedYear) -> None:
        self.all = list(paths)
        self.staying = [p for p in paths if not p.left]
        self.year = year

    def check(self, table: ReportTable) -> None:
        method = getattr(self, f"_{table.key}")
        expected_rows = method(None, None)
        assert [row[0] for row in table.rows] == expected_rows, table.key
        for r, row in enumerate(table.rows):
            for c, value in enumerate(row[1:], start=1):
                want = method(row[0], table.columns[c])
                if isinstance(want, set):
                    assert value == len(want), (table.key, row[0], table.columns[c])
                    assert set(table.pupils.get((r, c), ())) == want, (table.key, row[0], c)
                else:
                    assert value == want, (table.key, row[0], table.columns[c], value, want)

    # -- one method per table: (None, None) gives the row labels in order ------------------
    def _overzicht(self, row: str | None, column: str | None) -> object:
        s = self.staying
        rows = {
            "groep 8 (op school)": ids(s, lambda p: True),
            "vertrokken": ids(self.all, lambda p: p.left),
            "vrijgesteld van de doorstroomtoets": ids(s, lambda p: p.exemption is not None),
            "voorlopig advies gegeven": ids(s, lambda p: p.provisional is not None),
            "toetsadvies ontvangen": ids(s, lambda p: p.test is not None),
            "definitief advies gegeven": ids(s, lambda p: p.final is not None),
        }
        return list(rows) if row is None else rows[row]

    def _cross(self, row: str | None, column: str | None, final: bool) -> object:
        if row is None:
            return [*ROWS, "totaal"]
        given = [p for p in self.staying if (p.final if final else p.provisional) is not None]
        in_row = [
            p
            for p in given
            if row == "totaal" or level(p.final if final else p.provisional) == row  # type: ignore[arg-type]
        ]
        if column == "totaal":
            return ids(in_row, lambda p: True)
        return ids(in_row, lambda p: toets_label(p.test) == column)

    def _kruistabel_voorlopig(self, row: str | None, column: str | None) -> object:
        return self._cross(row, column, final=False)

    def _kruistabel_definitief(self, row: str | None, column: str | None) -> object:
        return self._cross(row, column, final=True)

    def _heroverwegingen(self, row: str | None, column: str | None) -> object:
        hero = [p for p in self.staying if p.hero]
        rows = {
            "heroverweging nodig": ids(hero, lambda p: True),
            "volledig bijgesteld": ids(hero, lambda p: p.outcome == "raised_fully"),
            "gedeeltelijk bijgesteld": ids(hero, lambda p: p.outcome == "raised_partly"),
            "gehandhaafd": ids(hero, lambda p: p.outcome == "kept"),
            "nog niet beslist": ids(hero, lambda p: p.outcome is None),
        }
        if row is None:
            return list(rows)
        return rows[row] if column == "Aantal" else pct(len(rows[row]), len(hero))

    def _redenen(self, row: str | None, column: str | None) -> object:
        if row is None:
            return [r.label for r in KeepReason]
        reason = next(r for r in KeepReason if r.label == row)
        outcomes = {"gehandhaafd": {"kept"}, "gedeeltelijk bijgesteld": {"raised_partly"}}
        wanted = outcomes.get(column or "", {"kept", "raised_partly"})
        return ids(self.staying, lambda p: p.reason is reason and p.outcome in wanted)

    def _naleving(self, row: str | None, column: str | None) -> object:
        s = self.staying
        rows = {
            "voorlopig advies vóór de wettelijke periode": (
                ids(s, lambda p: p.provisional_when == "early"),
                "10-31 januari",
            ),
            "voorlopig advies te laat": (
                ids(s, lambda p: p.provisional_when == "late"),
                "uiterlijk 31 januari",
            ),
            "besluit heroverweging na 24 maart": (
                ids(s, lambda p: p.outcome is not None and p.decision_late),
                "uiterlijk 24 maart",
            ),
            "definitief advies na 24 maart": (ids(s, lambda p: p.final_late), "uiterlijk 24 maart"),
            "heroverweging beslist zonder gesprek met ouders": (
                ids(s, lambda p: p.outcome is not None and p.talk is None),
                "gesprek gevoerd of ouders zien ervan af",
            ),
            "voorlopig advies niet aan DUO geleverd": (
                ids(s, lambda p: p.provisional is not None and not p.registered_provisional),
                "geen",
            ),
            "definitief advies niet aan DUO geleverd": (
                ids(s, lambda p: p.final is not None and not p.registered_final),
                "geen",
            ),
        }
        if row is None:
            return list(rows)
        return rows[row][0] if column == "Leerlingen" else rows[row][1]

    def _open_punten(self, row: str | None, column: str | None) -> object:
        s = self.staying

        def waiting(p: PupilPath) -> bool:
            return p.provisional is not None and p.exemption is None and not p.no_result

        hero_open = [p for p in s if p.hero and p.final is None]
        items = [
            ("voorlopig schooladvies geven", "leerkracht groep 8", "31-01-2026",
             ids(s, lambda p: p.provisional is None)),
            ("toetsuitslag ontvangen, inhaaltoets plannen of vastleggen dat er geen komt",
             "intern begeleider", "15-03-2026", ids(s, lambda p: waiting(p) and p.test is None)),
            ("heroverwegingsgesprek met ouders en leerling voeren, dan beslissen",
             "leerkracht groep 8", "24-03-2026",
             ids(hero_open, lambda p: p.outcome is None and p.talk is None)),
            ("heroverweging beslissen", "leerkracht groep 8", "24-03-2026",
             ids(hero_open, lambda p: p.outcome is None and p.talk is not None)),
            ("definitief advies vastleggen na het besluit", "leerkracht groep 8", "24-03-2026",
             ids(hero_open, lambda p: p.outcome is not None)),
            ("toetsuitslag beoordelen en definitief advies geven (vso of geen specifiek advies)",
             "leerkracht groep 8 met intern begeleider", "24-03-2026",
             ids(s, lambda p: p.review and p.final is None)),
            ("voorlopig advies aan DUO leveren", "directie (administratie)",
             "binnen twee weken na het advies",
             ids(s, lambda p: p.provisional is not None and not p.registered_provisional)),
            ("definitief advies aan DUO leveren", "directie (administratie)",
             "binnen twee weken na het advies",
             ids(s, lambda p: p.final is not None and not p.registered_final)),
        ]  # fmt: skip
        present = {label: (who, due, pupils) for label, who, due, pupils in items if pupils}
        if row is None:
            return list(present)
        who, due, pupils = present[row]
        dated = due[0].isdigit()
        return {
            "Wie moet handelen": who,
            "Uiterlijk": due,
            "Leerlingen": pupils,
            # the report's day (3 April) is after every dated deadline
            "Termijn verstreken": "ja" if dated else None,
        }[column or ""]

    def _distribution(self, row: str | None, column: str | None, final: bool) -> object:
        classes = sorted({p.class_name for p in self.staying})
        if row is None:
            return [*classes, "totaal"]
        mine = [p for p in self.staying if row in ("totaal", p.class_name)]
        if column == "totaal":
            return ids(mine, lambda p: True)

        def column_of(p: PupilPath) -> str:
            advice = p.final if final else p.provisional
            return level(advice) if advice is not None else "nog geen"

        return ids(mine, lambda p: column_of(p) == column)

    def _verdeling_voorlopig(self, row: str | None, column: str | None) -> object:
        return self._distribution(row, column, final=False)

    def _verdeling_definitief(self, row: str | None, column: str | None) -> object:
        return self._distribution(row, column, final=True)

    def groups(self) -> dict[str, list[PupilPath]]:
        s = self.staying
        found = {"alle leerlingen": s}
        if any(p.sex is not None for p in s):
            found["jongens"] = [p for p in s if p.sex == 1]
            found["meisjes"] = [p for p in s if p.sex == 2]
            found["geslacht anders of onbekend"] = [p for p in s if p.sex == 9]
            found["geslacht niet vastgelegd"] = [p for p in s if p.sex is None]
        found["nieuwkomers (korter dan vier jaar in Nederland)"] = [
            p for p in s if p.exemption is ExemptionGround.NEWCOMER
        ]
        return found

    def _gelijke_kansen(self, row: str | None, column: str | None) -> object:
        groups = self.groups()
        if row is None:
            return list(groups)
        group = groups[row]
        if len(group) < 5:
            return "< 5"
        tested = [p for p in group if p.test is not None]
        higher = [p for p in tested if is_higher(p.test, p.provisional)]  # type: ignore[arg-type]
        raised = [p for p in higher if p.outcome in ("raised_fully", "raised_partly")]
        gaps = [
            TEST_STEP[p.test] - SCHOOL_STEP[p.provisional]  # type: ignore[index]
            for p in tested
            if p.provisional in SCHOOL_STEP
        ]

        def shown(pupils: list[PupilPath]) -> object:
            return "< 5" if len(pupils) < 5 else {p.pupil_id for p in pupils}

        def share(part: list[PupilPath], whole: list[PupilPath]) -> object:
            return "< 5" if min(len(part), len(whole)) < 5 else pct(len(part), len(whole))

        return {
            "Leerlingen": {p.pupil_id for p in group},
            "Met toetsadvies": shown(tested),
            "Toetsadvies hoger": shown(higher),
            "% hoger": share(higher, tested),
            "Bijgesteld": shown(raised),
            "% bijgesteld": share(raised, higher),
            "Gem. verschil toets − voorlopig (halve stappen)": (
                "< 5" if len(gaps) < 5 else round(sum(gaps) / len(gaps), 2)
            ),
        }[column or ""]

    def _landelijk(self, row: str | None, column: str | None) -> object:
        with NATIONAL_CSV.open(encoding="utf-8", newline="") as f:
            national = list(csv.DictReader(f, delimiter=";"))
        if row is None:
            return [n["indicator"] for n in national]
        found = next(n for n in national if n["indicator"] == row)
        # indicators repeat (per group): the page shows them in the file's order, see below
        return {
            "Groep": None,
            "Landelijk": None,
            "Jaar": int(found["year"]),
            "Benadering": None,
            "Bron": None,
        }[column or ""]


def check_national(table: ReportTable) -> None:
    with NATIONAL_CSV.open(encoding="utf-8", newline="") as f:
        national = list(csv.DictReader(f, delimiter=";"))
    assert [list(r) for r in table.rows] == [
        [n["indicator"], n["group"], n["value"], int(n["year"]), n["approximate"], n["source"]]
        for n in national
    ]
    assert any("1 op 6" in n["value"] for n in national)


def check_tables(tables: Sequence[ReportTable], expected: Expected) -> int:
    checked = 0
    for table in tables:
        if table.key == "landelijk":
            check_national(table)
        else:
            expected.check(table)
        checked += sum(len(r) - 1 for r in table.rows)
    return checked


@pytest.fixture
def generated(container: Container, clock: Clock) -> GeneratedYear:
    def set_clock(moment: datetime) -> None:
        clock.now = moment

    def worker_half_way(phase: int) -> None:
        if phase == TALKS:  # the read model holds the first half; the reports fold the rest
            catch_up(container.engine, CATCH_UP["report_facts"])

    return generate(
        container,
        set_clock,
        schools=3,
        pupils_per_school=170,
        seed=15,
        after_phase=worker_half_way,
    )


def test_every_figure_of_the_school_and_board_reports_equals_the_generated_years_own_count(
    container: Container, generated: GeneratedYear
) -> None:
    paths = generated.paths
    assert len(paths) >= 500
    # every path the issue names is in the year
    assert any(p.outcome == "raised_fully" for p in paths)
    assert any(p.outcome == "raised_partly" for p in paths)
    assert any(p.outcome == "kept" for p in paths)
    assert any(p.decision_late for p in paths)
    assert any(p.final_late for p in paths)
    assert any(p.provisional_when == "late" for p in paths)
    assert any(p.provisional_when == "early" for p in paths)
    assert any(p.exemption is ExemptionGround.NEWCOMER for p in paths)
    assert any(p.left for p in paths)
    assert any(p.no_result for p in paths)
    assert any(p.review for p in paths)
    assert any(p.outcome and p.talk is None for p in paths)  # the school without the talk
    assert any(p.final and not p.registered_final for p in paths)

    checked = 0
    for school in generated.schools:
        report = school_report(container.engine, school.id, "2025-2026", today=generated.today)
        mine = [p for p in paths if p.school_id == school.id]
        assert report.school_name == school.name
        checked += check_tables(school_tables(report), Expected(mine, generated))

    ids_ = [s.id for s in generated.schools]
    board = board_report(container.engine, ids_, "2025-2026", today=generated.today)
    tables = board_tables(board)
    comparison, rolled_up = tables[0], tables[1:]
    checked += check_tables(rolled_up, Expected(paths, generated))
    for k, school in enumerate(generated.schools):
        alone = school_report(container.engine, school.id, "2025-2026", today=generated.today)
        assert board.schools[k] == alone
        assert comparison.columns[k + 1] == school.name
    assert comparison.columns[-1] == "totaal"
    groups = [[p for p in paths if p.school_id == s.id] for s in generated.schools] + [paths]
    assert [row[0] for row in comparison.rows] == list(KEY_FIGURES)
    for r, row in enumerate(comparison.rows):  # every school's column, and the board's
        for c, mine in enumerate(groups, start=1):
            want = KEY_FIGURES[str(row[0])](mine)
            assert row[c] == len(want), (row[0], comparison.columns[c])
            assert set(comparison.pupils.get((r, c), ())) == want
    assert checked > 1500


def _staying(paths: Sequence[PupilPath], keep: Callable[[PupilPath], bool]) -> Ids:
    return ids([p for p in paths if not p.left], keep)


KEY_FIGURES: dict[str, Callable[[Sequence[PupilPath]], Ids]] = {
    "groep 8 (op school)": lambda ps: _staying(ps, lambda p: True),
    "vertrokken": lambda ps: ids(ps, lambda p: p.left),
    "vrijgesteld": lambda ps: _staying(ps, lambda p: p.exemption is not None),
    "voorlopig advies gegeven": lambda ps: _staying(ps, lambda p: p.provisional is not None),
    "toetsadvies ontvangen": lambda ps: _staying(ps, lambda p: p.test is not None),
    "toetsadvies hoger dan voorlopig": lambda ps: _staying(
        ps,
        lambda p: p.test is not None and is_higher(p.test, p.provisional),  # type: ignore[arg-type]
    ),
    "heroverweging nodig": lambda ps: _staying(ps, lambda p: p.hero),
    "volledig bijgesteld": lambda ps: _staying(ps, lambda p: p.outcome == "raised_fully"),
    "gedeeltelijk bijgesteld": lambda ps: _staying(ps, lambda p: p.outcome == "raised_partly"),
    "gehandhaafd": lambda ps: _staying(ps, lambda p: p.outcome == "kept"),
    "nog niet beslist": lambda ps: _staying(ps, lambda p: p.hero and p.outcome is None),
    "definitief advies gegeven": lambda ps: _staying(ps, lambda p: p.final is not None),
    "voorlopig advies vóór de wettelijke periode": lambda ps: _staying(
        ps, lambda p: p.provisional_when == "early"
    ),
    "voorlopig advies te laat": lambda ps: _staying(ps, lambda p: p.provisional_when == "late"),
    "besluit heroverweging na 24 maart": lambda ps: _staying(
        ps, lambda p: p.outcome is not None and p.decision_late
    ),
    "definitief advies na 24 maart": lambda ps: _staying(ps, lambda p: p.final_late),
    "heroverweging beslist zonder gesprek met ouders": lambda ps: _staying(
        ps, lambda p: p.outcome is not None and p.talk is None
    ),
    "voorlopig advies niet aan DUO geleverd": lambda ps: _staying(
        ps, lambda p: p.provisional is not None and not p.registered_provisional
    ),
    "definitief advies niet aan DUO geleverd": lambda ps: _staying(
        ps, lambda p: p.final is not None and not p.registered_final
    ),
}


def test_the_reports_are_the_same_whether_the_read_model_is_behind_caught_up_or_rebuilt(
    container: Container, generated: GeneratedYear
) -> None:
    ids_ = [s.id for s in generated.schools]
    behind = board_report(container.engine, ids_, "2025-2026", today=generated.today)
    assert behind.total.heroverwegingen.required.count > 0
    assert catch_up(container.engine, CATCH_UP["report_facts"]) > 0
    caught_up = board_report(container.engine, ids_, "2025-2026", today=generated.today)
    assert caught_up == behind
    rebuild(container.engine, "report_facts")
    assert board_report(container.engine, ids_, "2025-2026", today=generated.today) == behind
