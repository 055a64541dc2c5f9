"""Dutch names of weekdays and months, and dates written out as a teacher or parent reads them
("dinsdag 17 maart", "dinsdag 17 maart 2026"). Pure: the caller puts a moment in its zone."""

from __future__ import annotations

from datetime import date

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
SHORT_WEEKDAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def day_and_month(day: date) -> str:
    """`dinsdag 17 maart` (a datetime: its own wall-clock date)."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def long_date(day: date) -> str:
    """`dinsdag 17 maart 2026`."""
    return f"{day_and_month(day)} {day.year}"
