"""The report over years (issue 15, "per school year and over years"): the same two schools in
2024-2025 and 2025-2026, each year generated through the real command paths; the key figures per
year and the definitief advies per year equal the counts made here from each year's own record,
and one year's pupils never count in the other."""

from __future__ import annotations

from datetime import datetime

from bench.report_year import generate
from service.bootstrap import Container
from service.reports.figures import board_report, years_report
from service.reports.tables import years_tables
from tests.conftest import Clock
from tests.e2e.test_report_figures import level
from workflows.calendar import SchoolYear


def test_the_key_figures_and_the_definitief_advies_per_year_equal_each_years_own_count(
    container: Container, clock: Clock
) -> None:
    def set_clock(moment: datetime) -> None:
        clock.now = moment

    earlier = generate(
        container,
        set_clock,
        schools=2,
        pupils_per_school=40,
        seed=24,
        year=SchoolYear.parse("2024-2025"),
    )
    later = generate(container, set_clock, schools=earlier.schools, pupils_per_school=55, seed=25)
    ids = [s.id for s in earlier.schools]

    reports = years_report(container.engine, ids, ["2025-2026", "2024-2025"], today=later.today)
    key, per_year = years_tables(reports)

    assert [r.school_year for r in reports] == ["2024-2025", "2025-2026"]
    assert key.columns == ("Cijfer", "2024-2025", "2025-2026")
    for column, generated in ((1, earlier), (2, later)):
        staying = [p for p in generated.paths if not p.left]
        figures = {row[0]: row[column] for row in key.rows}
        assert figures["groep 8 (op school)"] == len(staying)
        assert figures["vertrokken"] == sum(p.left for p in generated.paths)
        assert figures["heroverweging nodig"] == sum(p.hero for p in staying)
        assert figures["gehandhaafd"] == sum(p.outcome == "kept" for p in staying)
        assert figures["definitief advies na 24 maart"] == sum(p.final_late for p in staying)
        assert figures["voorlopig advies te laat"] == sum(
            p.provisional_when == "late" for p in staying
        )
        year_row = next(r for r in per_year.rows if r[0] == str(generated.year))
        for c, name in enumerate(per_year.columns[1:-1], start=1):
            expected = [
                p
                for p in staying
                if (level(p.final) if p.final is not None else "nog geen") == name
            ]
            assert year_row[c] == len(expected), (generated.year, name)
        assert year_row[-1] == len(staying)
        # the same figures as that year's own board report
        board = board_report(container.engine, ids, generated.year, today=later.today)
        assert reports[column - 1] == board.total
