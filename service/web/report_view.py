"""What the report pages show, built from the report's `ReportTable`s: sections with a chart
(server-rendered SVG, `service.reports.charts`) beside each table, every cell as text in Dutch
(a decimal comma, "–" for not applicable) and, where the page may name pupils, a link from each
figure to the pupils behind it (`/rapportage/leerlingen?...`). Shared by the school report
(`/rapportage`), the board's (`/bestuur`) and their print versions (the PDF).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode

from markupsafe import Markup, escape

from service.reports import charts
from service.reports.national import national_figures
from service.reports.table import SUPPRESSED, ReportTable, Value

HEROVERWEGING_OUTCOMES = (
    "volledig bijgesteld",
    "gedeeltelijk bijgesteld",
    "gehandhaafd",
    "nog niet beslist",
)


def breakable(text: str) -> Markup:
    """A label that may wrap after a slash but never at a hyphen: "vmbo-bb/vmbo-kb" breaks as
    "vmbo-bb/" + "vmbo-kb", not "vmbo-" + "bb/vmbo-kb" (the text itself stays the same)."""
    if "-" not in text and "/" not in text:
        return escape(text)
    words = []
    for word in text.split(" "):
        parts = [
            Markup('<span class="v-nobreak">{}</span>').format(part)
            if "-" in part
            else escape(part)
            for part in word.split("/")
        ]
        words.append(Markup("/<wbr>").join(parts))
    return Markup(" ").join(words)


class Cell(NamedTuple):
    """One cell as shown (a named tuple: a board's page shows about a thousand)."""

    text: str
    href: str | None = None
    header: bool = False
    number: bool = False

    @property
    def label(self) -> Markup:
        return breakable(self.text)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    note: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    csv_href: str
    numeric: tuple[bool, ...] = ()
    """Per column: only numbers in it (right-aligned, its head too)."""

    @property
    def heads(self) -> tuple[Markup, ...]:
        """The column heads, each allowed to wrap after a slash only (`breakable`)."""
        return tuple(breakable(column) for column in self.columns)


@dataclass(frozen=True)
class Item:
    table: Table
    chart: Markup | None = None
    chart_title: str = ""
    empty: str = ""
    """Said instead of a chart that would have nothing in it."""

    @property
    def beside(self) -> bool:
        """A narrow table goes beside its chart on a wide screen; a wide one below it."""
        return self.chart is not None and len(self.table.columns) <= 4


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    intro: str = ""
    items: list[Item] = field(default_factory=list)


def text_of(value: Value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


Drill = Callable[[ReportTable, int, int], str] | None


def view_table(table: ReportTable, drill: Drill, csv_href: str) -> Table:
    """The table as the page shows it; a figure with pupils behind it links to them (`drill`)."""
    numeric = tuple(
        c > 0
        and all(
            isinstance(row[c], int | float) or row[c] in (None, SUPPRESSED) for row in table.rows
        )
        for c in range(len(table.columns))
    )
    pupils = table.pupils
    rows = []
    for r, row in enumerate(table.rows):
        cells = [Cell(text_of(row[0]), None, True, numeric[0])]
        for c in range(1, len(row)):
            href = drill(table, r, c) if drill is not None and pupils.get((r, c)) else None
            cells.append(Cell(text_of(row[c]), href, False, numeric[c]))
        rows.append(tuple(cells))
    return Table(table.key, table.title, table.note, table.columns, tuple(rows), csv_href, numeric)


def drill_href(base: str, params: dict[str, str]) -> Drill:
    def href(table: ReportTable, r: int, c: int) -> str:
        query = {**params, "tabel": table.key, "rij": str(r), "kolom": str(c)}
        return f"{base}?{urlencode(query)}"

    return href


EMPTY = {
    "kruistabel_definitief": "Nog geen definitieve adviezen in dit schooljaar.",
    "kruistabel_voorlopig": "Nog geen voorlopige adviezen in dit schooljaar.",
}


def _empty(key: str, table: ReportTable) -> str:
    """The sentence shown instead of a cross table's chart when nobody counts in it yet."""
    if key not in EMPTY:
        return ""
    inner = range(1, len(table.columns) - 1)
    counted = any(
        isinstance(row[c], int) and row[c]
        for row in table.rows
        if row[0] != "totaal"
        for c in inner
    )
    return "" if counted else EMPTY[key]


def _chart(key: str, table: ReportTable) -> tuple[str, Markup | None]:
    """The chart (its title, its SVG) drawn beside a table, for the tables that have one."""
    if key.startswith("kruistabel"):
        return table.title, charts.cross_grid(
            f"grafiek-{key}",
            table,
            intro="Elk vak telt de leerlingen met dit advies en dit toetsadvies; "
            "donkerder is meer.",
        )
    if key == "heroverwegingen":
        title = "Uitkomst van de heroverwegingen"
        return title, charts.rows_chart(
            "grafiek-heroverwegingen",
            title,
            table,
            HEROVERWEGING_OUTCOMES,
            intro="Leerlingen per uitkomst van de heroverweging.",
        )
    if key.startswith("verdeling"):
        title = f"{table.title.replace(' per klas', '')}, alle klassen samen"
        return title, charts.total_row_chart(
            f"grafiek-{key}",
            title,
            table,
            intro="Leerlingen per adviesniveau, alle klassen samen.",
        )
    if key == "vergelijking":
        title = "Uitkomst van de heroverwegingen per school"
        return title, charts.side_by_side_chart(
            "grafiek-vergelijking",
            title,
            table,
            HEROVERWEGING_OUTCOMES,
            intro="Per school het aantal leerlingen per uitkomst van de heroverweging.",
        )
    if key == "gelijke_kansen" and "% bijgesteld" in table.columns:
        column = table.columns.index("% bijgesteld")
        national = {n.key: n.share for n in national_figures()}.get("raised_after_higher_test")
        title = "Advies bijgesteld na een hoger toetsadvies, per groep"
        return title, charts.share_chart(
            "grafiek-gelijke-kansen",
            title,
            [(str(row[0]), row[column]) for row in table.rows],
            reference=("landelijk", 100 * national) if national is not None else None,
            intro="Per groep het deel van de leerlingen met een hoger toetsadvies bij wie het "
            "advies werd bijgesteld; groepen onder 5 leerlingen worden niet getoond.",
        )
    if key == "jaren":
        title = "Heroverwegingen per schooljaar"
        return title, charts.side_by_side_chart(
            "grafiek-jaren",
            title,
            table,
            ("heroverweging nodig", *HEROVERWEGING_OUTCOMES),
            intro="Per schooljaar het aantal leerlingen met een heroverweging en de uitkomst.",
        )
    return "", None


# (section id, heading, intro, table keys) in page order
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "vergelijking",
        "Scholen naast elkaar",
        "De kerncijfers van de gekozen scholen, en alle gekozen scholen samen.",
        ("vergelijking",),
    ),
    ("overzicht", "Overzicht", "", ("overzicht",)),
    (
        "kruistabel",
        "Advies en toetsadvies",
        "Hoe het schooladvies en het toetsadvies zich tot elkaar verhouden.",
        ("kruistabel_definitief", "kruistabel_voorlopig"),
    ),
    (
        "heroverwegingen",
        "Heroverwegingen",
        "Wat de school besloot als het toetsadvies hoger uitviel, met de redenen.",
        ("heroverwegingen", "redenen"),
    ),
    (
        "naleving",
        "Naleving en open punten",
        "Wat niet op tijd of niet volledig gebeurde, en wat vóór 24 maart nog moet (met wie "
        "moet handelen).",
        ("naleving", "open_punten"),
    ),
    (
        "verdeling",
        "Verdeling van het advies per klas",
        "",
        ("verdeling_definitief", "verdeling_voorlopig"),
    ),
    (
        "gelijke-kansen",
        "Gelijke kansen",
        "Per groep leerlingen: hoe vaak het toetsadvies hoger was en het advies werd "
        "bijgesteld. Groepen van minder dan vijf leerlingen staan er als “< 5”.",
        ("gelijke_kansen", "landelijk"),
    ),
    (
        "jaren",
        "Over de jaren",
        "De kerncijfers en het definitief advies per schooljaar.",
        ("jaren", "jaren_definitief"),
    ),
)


def sections(
    tables: Sequence[ReportTable],
    drill: Drill,
    csv_href: Callable[[str], str],
    *,
    with_charts: bool = True,
) -> list[Section]:
    """The page's sections holding these tables (a section none of them is in is left out)."""
    by_key = {t.key: t for t in tables}
    found = []
    for sid, heading, intro, keys in SECTIONS:
        items = []
        for k in (k for k in keys if k in by_key):
            empty = _empty(k, by_key[k]) if with_charts else ""
            title, chart = _chart(k, by_key[k]) if with_charts and not empty else ("", None)
            items.append(Item(view_table(by_key[k], drill, csv_href(k)), chart, title, empty))
        if items:
            found.append(Section(sid, heading, intro, items))
    return found
