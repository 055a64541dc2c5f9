"""The national figures the equal-chances report stands beside, read from the sourced data file
`data/national.csv` (its sources and how exact each figure is: `data/SOURCE.md`)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

NATIONAL_CSV = Path(__file__).parent / "data" / "national.csv"


@dataclass(frozen=True)
class NationalFigure:
    key: str
    indicator: str
    group: str
    value: str
    """As the source says it ("meer dan 1 op 5")."""
    share: float | None
    year: int
    approximate: str
    source: str


@cache
def national_figures() -> tuple[NationalFigure, ...]:
    with NATIONAL_CSV.open(encoding="utf-8", newline="") as f:
        return tuple(
            NationalFigure(
                key=row["key"],
                indicator=row["indicator"],
                group=row["group"],
                value=row["value"],
                share=float(row["share"]) if row["share"] else None,
                year=int(row["year"]),
                approximate=row["approximate"],
                source=row["source"],
            )
            for row in csv.DictReader(f, delimiter=";")
        )
