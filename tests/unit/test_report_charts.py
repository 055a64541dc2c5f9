"""The report charts (service/reports/charts.py): well-formed SVG named by its title and a Dutch
description holding every figure, each value written out, series told apart by pattern as well
as colour, text escaped, and no `style` (the Content-Security-Policy forbids inline styles)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # our own markup, not untrusted input

from service.reports.charts import (
    Series,
    bar_chart,
    cross_grid,
    grouped_bars,
    heat_grid,
    share_chart,
    side_by_side_chart,
)
from service.reports.table import Figure, TableBuilder, Value
from service.web.report_view import breakable, sections

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def labelled_by_title_and_description(svg: ET.Element) -> tuple[str, str]:
    assert svg.get("role") == "img"
    title_id, desc_id = (svg.get("aria-labelledby") or "").split()
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    return title.text or "", desc.text or ""


def no_inline_style(svg: ET.Element) -> None:
    assert all("style" not in element.attrib for element in svg.iter())
    assert not list(svg.iter(f"{SVG}style"))


def test_a_bar_chart_names_itself_and_says_every_figure_in_dutch() -> None:
    svg = parse(bar_chart("advies", "Definitief advies", [("havo", 12), ("vwo", 1), ("pro", 0)]))
    title, desc = labelled_by_title_and_description(svg)
    assert title == "Definitief advies"
    assert desc == "havo: 12 leerlingen; vwo: 1 leerling; pro: 0 leerlingen. Samen 13 leerlingen."
    assert texts(svg) == ["havo", "12", "vwo", "1", "pro", "0"]
    assert len(svg.findall(f"{SVG}rect")) == 2  # no bar for zero
    no_inline_style(svg)


def test_the_longest_bar_is_the_largest_count() -> None:
    svg = parse(bar_chart("a", "A", [("x", 5), ("y", 10)]))
    widths = [float(r.get("width", 0)) for r in svg.iter(f"{SVG}rect")]
    assert widths[1] == 2 * widths[0]


def test_text_is_escaped_and_the_svg_stays_well_formed() -> None:
    markup = bar_chart("x", "<b>Titel</b> & zo", [('<script>alert("x")</script>', 3)])
    assert "<script>" not in markup
    assert "<b>" not in markup
    svg = parse(markup)
    title, desc = labelled_by_title_and_description(svg)
    assert title == "<b>Titel</b> & zo"
    assert desc.startswith('<script>alert("x")</script>: 3 leerlingen')


def test_grouped_bars_tell_series_apart_by_pattern_and_a_legend() -> None:
    series = [Series("volledig bijgesteld", (4, 0)), Series("gehandhaafd", (2, 7))]
    svg = parse(grouped_bars("hero", "Heroverwegingen", ["School A", "School B"], series))
    _, desc = labelled_by_title_and_description(svg)
    assert desc == (
        "School A: volledig bijgesteld 4, gehandhaafd 2; School B: volledig bijgesteld 0, "
        "gehandhaafd 7."
    )
    patterns = svg.findall(f".//{SVG}pattern")
    assert len({p.get("id") for p in patterns}) == len(patterns) >= 2
    fills = {
        r.get("fill") for r in svg.iter(f"{SVG}rect") if (r.get("fill") or "").startswith("url")
    }
    assert fills == {"url(#hero-p0)", "url(#hero-p1)"}  # legend and bars use the patterns
    shown = texts(svg)
    assert shown[:2] == ["volledig bijgesteld", "gehandhaafd"]  # the legend first
    assert {"School A", "School B", "4", "2", "7"} <= set(shown)
    assert "0" not in shown  # a zero is no bar and no label
    no_inline_style(svg)


def test_a_heat_grid_writes_each_count_in_its_cell() -> None:
    svg = parse(
        heat_grid("k", "Kruistabel", ["havo/vwo", "vwo"], [("havo", [3, 0]), ("vwo", [1, 9])])
    )
    _, desc = labelled_by_title_and_description(svg)
    assert desc == "havo: havo/vwo 3; vwo: havo/vwo 1, vwo 9."
    assert {"3", "0", "1", "9", "havo/", "vwo"} <= set(texts(svg)) | {
        "".join(s.itertext()) for s in svg.iter(f"{SVG}tspan")
    }
    # darker is more: the cell of 9 is the darkest blue, the empty cell white
    fills = [r.get("fill") for r in svg.iter(f"{SVG}rect")]
    assert fills == ["#c6dbef", "#ffffff", "#e3edf7", "#1f4e79"]
    no_inline_style(svg)


def test_a_cross_tables_grid_leaves_out_totals_and_empty_rows() -> None:
    table = TableBuilder("Advies × toets", ("Advies", "havo/vwo", "vwo", "totaal"), key="k")
    table.add("havo", Figure.of(["a", "b"]), Figure.of([]), Figure.of(["a", "b"]))
    table.add("pro", Figure.of([]), Figure.of([]), Figure.of([]))
    table.add("totaal", Figure.of(["a", "b"]), Figure.of([]), Figure.of(["a", "b"]))
    svg = parse(cross_grid("k", table.build()))
    labels = texts(svg)
    assert "havo" in labels
    assert "pro" not in labels
    assert "totaal" not in labels


def test_schools_side_by_side_become_groups_of_bars() -> None:
    table = TableBuilder("Naast elkaar", ("Cijfer", "De Ark", "De Boog", "totaal"), key="v")
    table.add("gehandhaafd", Figure.of(["a"]), Figure.of(["b", "c"]), Figure.of(["a", "b", "c"]))
    svg = parse(side_by_side_chart("v", "Uitkomsten", table.build(), ["gehandhaafd", "onbekend"]))
    _, desc = labelled_by_title_and_description(svg)
    assert desc == "De Ark: gehandhaafd 1, onbekend 0; De Boog: gehandhaafd 2, onbekend 0."


def test_a_share_chart_shows_suppressed_groups_as_text_and_the_national_line() -> None:
    rows: list[tuple[str, Value]] = [
        ("alle leerlingen", 62.5),
        ("meisjes", "< 5"),
        ("nieuwkomers", None),
    ]
    svg = parse(share_chart("gk", "Bijgesteld", rows, reference=("landelijk", 75.0)))
    _, desc = labelled_by_title_and_description(svg)
    assert desc == (
        "alle leerlingen: 62,5 %; meisjes: niet getoond (minder dan 5 leerlingen); "
        "nieuwkomers: geen; landelijk: 75,0 %."
    )
    assert {"62,5 %", "< 5", "–", "landelijk 75,0 %"} <= set(texts(svg))
    assert len(svg.findall(f"{SVG}rect")) == 1  # a bar only for the share that is shown
    dashed = [line for line in svg.iter(f"{SVG}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 1
    no_inline_style(svg)


def test_a_long_label_goes_on_two_lines_and_keeps_all_its_words() -> None:
    label = "nieuwkomers (korter dan vier jaar in Nederland)"
    svg = parse(bar_chart("w", "W", [(label, 3), ("kort", 1)]))
    wrapped = [t for t in svg.iter(f"{SVG}text") if t.findall(f"{SVG}tspan")]
    assert len(wrapped) == 1
    lines = ["".join(span.itertext()) for span in wrapped[0].iter(f"{SVG}tspan")]
    assert lines == ["nieuwkomers (korter dan", "vier jaar in Nederland)"]
    _, desc = labelled_by_title_and_description(svg)
    assert desc.startswith(f"{label}: 3 leerlingen")


def test_a_cross_table_nobody_counts_in_yet_gets_a_sentence_not_an_empty_chart() -> None:
    columns = ("Definitief advies", "havo", "vwo", "totaal")
    empty = TableBuilder("Definitief advies × toetsadvies", columns, key="kruistabel_definitief")
    empty.add("havo", Figure.of([]), Figure.of([]), Figure.of([]))
    empty.add("totaal", Figure.of([]), Figure.of([]), Figure.of([]))
    full = TableBuilder("Voorlopig advies × toetsadvies", columns, key="kruistabel_voorlopig")
    full.add("havo", Figure.of(["a"]), Figure.of([]), Figure.of(["a"]))
    full.add("totaal", Figure.of(["a"]), Figure.of([]), Figure.of(["a"]))
    (section,) = sections([empty.build(), full.build()], None, lambda key: f"/{key}.csv")
    first, second = section.items
    assert first.chart is None
    assert first.empty == "Nog geen definitieve adviezen in dit schooljaar."
    assert second.chart is not None
    assert second.empty == ""


def test_in_grouped_bars_one_pupil_is_one_short_bar_not_the_whole_width() -> None:
    series = [Series("gehandhaafd", (0, 0)), Series("nog niet beslist", (1, 0))]
    svg = parse(grouped_bars("b", "Uitkomsten", ["School A", "School B"], series))
    legend, bar = (r for r in svg.iter(f"{SVG}rect") if r.get("fill") == "url(#b-p1)")
    assert legend.get("width") == "16"
    assert 0 < float(bar.get("width") or 0) <= 24
    assert [t for t in texts(svg) if t.isdigit()] == ["1"]


def test_a_label_may_wrap_after_a_slash_but_not_at_a_hyphen() -> None:
    shown = str(breakable("vmbo-bb/vmbo-kb"))
    assert shown == (
        '<span class="v-nobreak">vmbo-bb</span>/<wbr><span class="v-nobreak">vmbo-kb</span>'
    )
    assert str(breakable("havo/vwo")) == "havo/<wbr>vwo"
    assert str(breakable("nog <niet>")) == "nog &lt;niet&gt;"
