"""The dossier says a talk's deadline and the parents' unavailable times as the talk page does:
the last day ("uiterlijk op 23-03-2027", not the stored next midnight) and a weekly part of a
day as one line, not one line per week."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from service.audit.dossier_talks import describe_talk_event
from workflows.conversations.events import ParentsAskedOtherTime, Period, TalkKind, TalkRequested

AMS = ZoneInfo("Europe/Amsterdam")


def test_a_requested_talk_says_the_last_day_it_may_be_held() -> None:
    midnight = datetime(2027, 3, 24, tzinfo=AMS)
    requested = TalkRequested(
        kind=TalkKind.RECONSIDERATION,
        pupil_id="p",
        school_id="s",
        school_year="2026-2027",
        round_key="reconsideration",
        deadline=midnight,
        latest_end=midnight,
        minutes=30,
        staff=("a",),
        staff_any=(),
        with_pupil=False,
        online=False,
        family="f",
        parents=("o",),
        requested_on=datetime(2026, 12, 1, 9, tzinfo=AMS),
    )
    text = describe_talk_event(requested, lambda _: "de ouders")
    assert text.details == ("Te voeren uiterlijk op 23-03-2027.",)


def test_the_parents_weekly_unavailable_afternoon_is_one_line() -> None:
    first = datetime(2026, 12, 8, 12, tzinfo=AMS)
    tuesdays = tuple(
        Period(start=first + timedelta(weeks=n), end=first + timedelta(weeks=n, hours=5))
        for n in range(16)
    )
    asked = ParentsAskedOtherTime(
        parent_id="o",
        on=datetime(2026, 12, 1, 9, tzinfo=AMS),
        message=None,
        unavailable=tuesdays,
        preferred=(),
    )
    text = describe_talk_event(asked, lambda _: "Ouder")
    assert text.details == ("Kan niet: elke dinsdag 12:00–17:00 (08-12-2026 t/m 23-03-2027).",)
