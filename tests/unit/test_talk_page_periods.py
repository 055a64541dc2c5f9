"""The times the parents cannot, as the talk's page writes them: one Tuesday afternoon as its
date, the same afternoon every week (what the parents' page's "dinsdagmiddag" stores) as one
line "elke dinsdag …", not a line per week."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from service.web.talks import _periods
from workflows.conversations import Period

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def afternoon(day: datetime) -> Period:
    return Period(start=day.replace(hour=12), end=day.replace(hour=17))


def test_every_tuesday_afternoon_until_the_deadline_is_one_line() -> None:
    first = datetime(2026, 12, 8, tzinfo=AMSTERDAM)
    tuesdays = [afternoon(first + timedelta(weeks=n)) for n in range(16)]
    one_thursday = afternoon(datetime(2027, 3, 18, tzinfo=AMSTERDAM))
    assert _periods([*tuesdays, one_thursday]) == (
        "elke dinsdag 12:00–17:00 (08-12-2026 t/m 23-03-2027)",
        "donderdag 18-03-2027 12:00–17:00",
    )


def test_a_single_afternoon_and_weeks_with_a_gap_keep_their_dates() -> None:
    one = afternoon(datetime(2026, 3, 17, tzinfo=AMSTERDAM))
    later = afternoon(datetime(2026, 3, 31, tzinfo=AMSTERDAM))
    assert _periods([one]) == ("dinsdag 17-03-2026 12:00–17:00",)
    assert _periods([later, one]) == (
        "dinsdag 17-03-2026 12:00–17:00",
        "dinsdag 31-03-2026 12:00–17:00",
    )
