"""Accessible SVG charts rendered on the server (no script): a bar chart, grouped bars and a heat
grid, each an `<svg role="img">` labelled by its `<title>` and a `<desc>` that says every figure
in Dutch, with every value written beside its bar or in its cell (never colour alone: the series
of grouped bars also differ by pattern, shown in a legend). Colours are SVG presentation
attributes (`fill="#..."`), which the Content-Security-Policy allows (it forbids `style`), so the
same markup prints in the PDF. Every text is escaped (`markupsafe.escape`); the result is
`Markup`, ready for an autoescaping template. The pages always show the figures' table beside a
chart; the `*_chart` helpers at the end draw from the report's `ReportTable`s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from service.reports.table import ReportTable, Value

INK = "#1a1a1a"
MUTED = "#595959"
GRID = "#bdbdbd"
FONT = 'font-family="sans-serif"'
WRAP = 30
"""Row labels longer than this many characters go on two lines."""
UNIT = 24
"""The most width one pupil takes in grouped bars: a count of 1 is one short bar, not the
whole width (a school with a single pupil in a series)."""
# (colour, pattern) per series: each colour has at least 3:1 against white (WCAG 1.4.11)
SERIES = (
    ("#1f4e79", "solid"),
    ("#2e7d32", "stripes"),
    ("#a04f00", "dots"),
    ("#595959", "lines"),
    ("#6a3d9a", "stripes-back"),
)
# heat grid: (fill, text colour); the text has at least 4.5:1 on its fill
HEAT = (
    ("#ffffff", INK),
    ("#e3edf7", INK),
    ("#c6dbef", INK),
    ("#8fb8de", INK),
    ("#2f6aa3", "#ffffff"),
    ("#1f4e79", "#ffffff"),
)


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[int, ...]


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "grafiek"


def _count(n: int) -> str:
    return f"{n} leerling" if n == 1 else f"{n} leerlingen"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 13,
          fill: str = INK, bold: bool = False) -> str:  # fmt: skip
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{weight}>{escape(content)}</text>'
    )


def _label(x: float, y: float, content: str, *, size: int = 13, bold: bool = False) -> str:
    """A right-aligned row label ending at `x`, its baseline at `y`; a long one (more than
    `WRAP` characters) on two lines in smaller type, so it never runs off the chart."""
    if len(content) <= WRAP or " " not in content:
        return _text(x, y, content, anchor="end", size=size, bold=bold)
    middle = len(content) // 2
    cut = min((i for i, c in enumerate(content) if c == " "), key=lambda i: abs(i - middle))
    first, second = content[:cut], content[cut + 1 :]
    weight = ' font-weight="700"' if bold else ""
    small = size - 2
    return (
        f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="end" font-size="{small}" fill="{INK}"'
        f'{weight}><tspan x="{x:.1f}">{escape(first)}</tspan>'
        f'<tspan x="{x:.1f}" dy="{small + 1}">{escape(second)}</tspan></text>'
    )


def _svg(
    chart_id: str, title: str, desc: str, width: int, height: int, body: str, *, wide: bool = False
) -> Markup:
    cid = _id(chart_id)
    kind = "v-chart__svg v-chart__svg--wide" if wide else "v-chart__svg"
    # every text in it went through escape(); the rest is our own markup
    return Markup(  # noqa: S704
        f'<svg class="{kind}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} data-chart="{cid}">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _patterns(cid: str) -> str:
    """One pattern per series: the colour with white stripes, dots or a cross-hatch on it."""
    marks = {
        "solid": "",
        "stripes": '<path d="M-2 2 L2 -2 M0 8 L8 0 M6 10 L10 6" stroke="#ffffff" '
        'stroke-width="2"/>',
        "stripes-back": '<path d="M-2 6 L2 10 M0 0 L8 8 M6 -2 L10 2" stroke="#ffffff" '
        'stroke-width="2"/>',
        "dots": '<circle cx="4" cy="4" r="1.6" fill="#ffffff"/>',
        "lines": '<path d="M0 4 H8" stroke="#ffffff" stroke-width="2"/>',
    }
    out = []
    for n, (colour, kind) in enumerate(SERIES):
        out.append(
            f'<pattern id="{cid}-p{n}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{colour}"/>{marks[kind]}</pattern>'
        )
    return "<defs>" + "".join(out) + "</defs>"


def bar_chart(
    chart_id: str, title: str, bars: Sequence[tuple[str, int]], *, intro: str = ""
) -> Markup:
    """Horizontal bars, one per (label, count), with the count written after each bar."""
    label_w, bar_w, row_h, top = 230, 250, 26, 8
    width, height = label_w + bar_w + 50, top + row_h * max(len(bars), 1) + 8
    most = max((v for _, v in bars), default=0) or 1
    parts = []
    for n, (label, value) in enumerate(bars):
        y = top + n * row_h
        length = bar_w * value / most
        parts.append(_label(label_w - 8, y + 17, label))
        if value:
            parts.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" '
                f'fill="{SERIES[0][0]}"/>'
            )
        parts.append(_text(label_w + length + 6, y + 17, str(value), bold=True))
    parts.append(
        f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - 8}" stroke="{MUTED}"/>'
    )
    total = sum(v for _, v in bars)
    desc = " ".join(
        filter(
            None,
            [
                intro,
                "; ".join(f"{label}: {_count(value)}" for label, value in bars) + ".",
                f"Samen {_count(total)}.",
            ],
        )
    )
    return _svg(chart_id, title, desc, width, height, "".join(parts))


def grouped_bars(
    chart_id: str,
    title: str,
    groups: Sequence[str],
    series: Sequence[Series],
    *,
    intro: str = "",
) -> Markup:
    """Per group (a school) one bar per series (an outcome), each with its count; the series
    differ in colour and pattern, named in the legend above the bars. A zero is no bar and no
    label (the description and the table beside say it); one pupil is at most `UNIT` wide."""
    cid = _id(chart_id)
    label_w, bar_w, bar_h, gap = 180, 300, 18, 16
    legend_h = 24 * ((len(series) + 1) // 2) + 6
    group_h = bar_h * len(series) + gap
    width = label_w + bar_w + 50
    height = legend_h + group_h * max(len(groups), 1) + 4
    most = max((v for s in series for v in s.values), default=0) or 1
    parts = [_patterns(cid)]
    for n, s in enumerate(series):
        x, y = (n % 2) * 260 + 4, (n // 2) * 24 + 4
        parts.append(
            f'<rect x="{x}" y="{y}" width="16" height="16" fill="url(#{cid}-p{n % len(SERIES)})" '
            f'stroke="{INK}" stroke-width="0.5"/>'
        )
        parts.append(_text(x + 22, y + 13, s.label))
    for g, group in enumerate(groups):
        y0 = legend_h + g * group_h
        parts.append(_label(label_w - 8, y0 + group_h / 2 - 2, group, bold=True))
        for n, s in enumerate(series):
            value = s.values[g]
            y = y0 + n * bar_h
            if not value:
                continue
            length = min(bar_w / most, UNIT) * value
            parts.append(
                f'<rect x="{label_w}" y="{y + 1}" width="{length:.1f}" height="{bar_h - 2}" '
                f'fill="url(#{cid}-p{n % len(SERIES)})"/>'
            )
            parts.append(_text(label_w + length + 5, y + bar_h - 3, str(value), size=12))
        parts.append(
            f'<line x1="{label_w}" y1="{y0}" x2="{label_w}" y2="{y0 + group_h - gap}" '
            f'stroke="{MUTED}"/>'
        )
    said = [
        f"{group}: " + ", ".join(f"{s.label} {s.values[g]}" for s in series)
        for g, group in enumerate(groups)
    ]
    desc = " ".join(filter(None, [intro, "; ".join(said) + "."]))
    return _svg(chart_id, title, desc, width, height, "".join(parts))


def _heat(value: int, most: int) -> tuple[str, str]:
    if value <= 0 or most <= 0:
        return HEAT[0]
    return HEAT[1 + min(len(HEAT) - 2, (len(HEAT) - 1) * (value - 1) // most)]


def _column_head(x: float, label: str) -> str:
    """A column head on two lines, split after its last slash (`vmbo-kb/` `vmbo-gl-tl`)."""
    if "/" in label:
        first, second = label.rsplit("/", 1)
        lines = [first + "/", second]
    else:
        first, _, rest = label.partition(" ")
        # the space starts the second line: read as text (PDF, screen reader) the head stays
        # "geen toetsadvies", not "geentoetsadvies"
        lines = [first, " " + rest] if len(label) > 12 and rest else [label]
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if n == 0 else 13}">{escape(line)}</tspan>'
        for n, line in enumerate(lines)
    )
    y = 14 if len(lines) > 1 else 27
    return (
        f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="11" fill="{INK}">{spans}</text>'
    )


def heat_grid(
    chart_id: str,
    title: str,
    columns: Sequence[str],
    rows: Sequence[tuple[str, Sequence[int]]],
    *,
    intro: str = "",
) -> Markup:
    """A cross table as a grid: each cell shaded by its count (darker is more) and the count
    written in it."""
    label_w, cell_w, cell_h, head_h = 200, 78, 24, 36
    width = label_w + cell_w * len(columns) + 4
    height = head_h + cell_h * max(len(rows), 1) + 4
    most = max((v for _, values in rows for v in values), default=0)
    parts = [_column_head(label_w + cell_w * (c + 0.5), col) for c, col in enumerate(columns)]
    said = []
    for r, (label, values) in enumerate(rows):
        y = head_h + r * cell_h
        parts.append(_label(label_w - 8, y + 16, label, size=12))
        for c, value in enumerate(values):
            fill, ink = _heat(value, most)
            x = label_w + c * cell_w
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}" '
                f'stroke="{GRID}"/>'
            )
            shown = str(value) if value else "0"
            parts.append(
                _text(
                    x + cell_w / 2,
                    y + 16,
                    shown,
                    anchor="middle",
                    size=12,
                    fill=ink if value else MUTED,
                    bold=bool(value),
                )
            )
        cells = [f"{col} {v}" for col, v in zip(columns, values, strict=True) if v]
        if cells:
            said.append(f"{label}: " + ", ".join(cells))
    desc = " ".join(
        filter(
            None,
            [intro, ("; ".join(said) + ".") if said else "Nog geen leerlingen in deze tabel."],
        )
    )
    return _svg(chart_id, title, desc, width, height, "".join(parts), wide=True)


# ---- charts of the report's tables (service.reports.tables) ----


def _ints(row: Sequence[object], columns: range) -> list[int]:
    return [v if isinstance(v, int) else 0 for v in (row[c] for c in columns)]


def total_column_chart(chart_id: str, title: str, table: ReportTable, *, intro: str = "") -> Markup:
    """A bar per row of `table` (not its total row) with the count in its last column."""
    bars = [
        (str(row[0]), row[-1] if isinstance(row[-1], int) else 0)
        for row in table.rows
        if row[0] != "totaal"
    ]
    return bar_chart(chart_id, title, bars, intro=intro)


def cross_grid(chart_id: str, table: ReportTable, *, intro: str = "") -> Markup:
    """The heat grid of a cross table: its rows and columns without the totals; rows in which
    nobody counts are left out (the table beside shows them)."""
    inner = range(1, len(table.columns) - 1)
    rows = [
        (str(row[0]), _ints(row, inner))
        for row in table.rows
        if row[0] != "totaal" and any(_ints(row, inner))
    ]
    columns = [table.columns[c] for c in inner]
    return heat_grid(chart_id, table.title, columns, rows, intro=intro)


def rows_chart(
    chart_id: str,
    title: str,
    table: ReportTable,
    labels: Sequence[str],
    *,
    column: int = 1,
    intro: str = "",
) -> Markup:
    """A bar for each of the rows named `labels`, with its value in `column`."""
    found = {str(row[0]): row[column] for row in table.rows}
    bars = [(label, v if isinstance(v := found.get(label), int) else 0) for label in labels]
    return bar_chart(chart_id, title, bars, intro=intro)


def side_by_side_chart(
    chart_id: str,
    title: str,
    table: ReportTable,
    labels: Sequence[str],
    *,
    intro: str = "",
) -> Markup:
    """Grouped bars of a side-by-side table (first column the figure, a column per school or
    school year, perhaps a last 'totaal' column, left out): per column one bar for each figure
    in `labels`."""
    last = len(table.columns) - (1 if table.columns[-1] == "totaal" else 0)
    schools = range(1, last)
    found = {str(row[0]): row for row in table.rows}
    series = [
        Series(
            label, tuple(_ints(found[label], schools)) if label in found else (0,) * len(schools)
        )
        for label in labels
    ]
    groups = [table.columns[c] for c in schools]
    return grouped_bars(chart_id, title, groups, series, intro=intro)


def total_row_chart(chart_id: str, title: str, table: ReportTable, *, intro: str = "") -> Markup:
    """A bar per column of `table`'s 'totaal' row (its first and last column left out): the
    distribution of an advice over the levels, all classes together."""
    columns = range(1, len(table.columns) - 1)
    row = next((r for r in table.rows if r[0] == "totaal"), None)
    values = _ints(row, columns) if row is not None else [0] * len(columns)
    bars = [(table.columns[c], v) for c, v in zip(columns, values, strict=True)]
    return bar_chart(chart_id, title, bars, intro=intro)


def _percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + " %"


def share_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Value]],
    *,
    reference: tuple[str, float] | None = None,
    intro: str = "",
) -> Markup:
    """Horizontal bars of percentages (0 to 100), each written after its bar; a group whose
    share is not shown (under five pupils: "< 5", or none) gets its text and no bar. A
    `reference` (a label and a percentage, e.g. the national figure) is a dashed line."""
    label_w, bar_w, row_h, top = 230, 250, 26, 24 if reference else 8
    width, height = label_w + bar_w + 70, top + row_h * max(len(rows), 1) + 8
    parts = []
    said = []
    for n, (label, value) in enumerate(rows):
        y = top + n * row_h
        parts.append(_label(label_w - 8, y + 17, label))
        if isinstance(value, int | float):
            length = bar_w * min(float(value), 100.0) / 100
            if value:
                parts.append(
                    f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" '
                    f'fill="{SERIES[0][0]}"/>'
                )
            parts.append(_text(label_w + length + 6, y + 17, _percent(float(value)), bold=True))
            said.append(f"{label}: {_percent(float(value))}")
        else:
            shown = str(value) if value is not None else "–"
            parts.append(_text(label_w + 6, y + 17, shown, fill=MUTED))
            said.append(f"{label}: {'niet getoond (minder dan 5 leerlingen)' if value else 'geen'}")
    parts.append(
        f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - 8}" stroke="{MUTED}"/>'
    )
    if reference is not None:
        name, share = reference
        x = label_w + bar_w * share / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 8}" stroke="{INK}" '
            f'stroke-width="2" stroke-dasharray="5 3"/>'
        )
        parts.append(_text(x, top - 8, f"{name} {_percent(share)}", anchor="middle", size=12))
        said.append(f"{name}: {_percent(share)}")
    desc = " ".join(filter(None, [intro, "; ".join(said) + "."]))
    return _svg(chart_id, title, desc, width, height, "".join(parts))
