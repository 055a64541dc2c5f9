"""Staff availability as a teacher types it: rows of a day, a time range and a room become
windows in Europe/Amsterdam, or Dutch errors per field; a weekday gives every such day of the
round still to come; the last publication of a person for a round replaces the earlier one; the
event survives the codec."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from workflows.availability import (
    AMSTERDAM,
    CODEC,
    RECONSIDERATION,
    AvailabilityInvalidError,
    AvailabilityPublished,
    Period,
    PublishedWindow,
    RowInput,
    describe_window,
    latest,
    next_week,
    parse_rows,
    periods,
    rows_of,
    slots,
    weekly,
)
from workflows.calendar import SchoolYear
from workflows.cycles import ConversationRound, MonthDay, RoundKind
from workflows.policy import SchoolPolicy, TalkSettings

MARCH = Period(
    RECONSIDERATION, "Heroverweging", date(2026, 3, 16), date(2026, 3, 24), TalkSettings()
)
NOW = datetime(2026, 3, 12, 9, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=AMSTERDAM)


def errors_of(*rows: RowInput, period: Period = MARCH, now: datetime = NOW) -> dict[str, str]:
    with pytest.raises(AvailabilityInvalidError) as invalid:
        parse_rows(rows, period, now)
    return invalid.value.by_field()


@pytest.mark.parametrize(
    "day", ["di 17 mrt", "17-03", "17-03-2026", "2026-03-17", "dinsdag 17 maart", "17/3"]
)
def test_a_day_is_read_the_way_a_teacher_writes_it(day: str) -> None:
    windows = parse_rows([RowInput(day, "13:00", "16.00", " lokaal  8 ")], MARCH, NOW)
    assert windows == (PublishedWindow(at(17, 13), at(17, 16), "lokaal 8"),)


def test_a_weekday_gives_every_such_day_of_the_round_still_to_come() -> None:
    now = datetime(2026, 3, 18, 12, tzinfo=UTC)  # Wednesday: Tuesday the 17th is past
    windows = parse_rows([RowInput("di", "8:30", "12", "lokaal 8")], MARCH, now)
    assert windows == (PublishedWindow(at(24, 8, 30), at(24, 12), "lokaal 8"),)
    both = parse_rows([RowInput("elke ma", "13:00", "15:00", "8")], MARCH, NOW)
    assert [w.start for w in both] == [at(16, 13), at(23, 13)]


def test_duo_rows_on_different_days_and_rooms_are_kept_apart_and_sorted() -> None:
    windows = parse_rows(
        [
            RowInput("do 19-03", "9:00", "11:00", "lokaal 3"),
            RowInput("17-03", "13:00", "15:00", "8"),
        ],
        MARCH,
        NOW,
    )
    assert [(w.start, w.room) for w in windows] == [(at(17, 13), "8"), (at(19, 9), "lokaal 3")]


def test_blank_rows_are_left_out() -> None:
    assert parse_rows([RowInput(), RowInput(" ", "", "", "")], MARCH, NOW) == ()


def test_every_bad_field_gets_its_dutch_error() -> None:
    assert errors_of(
        RowInput("", "13:00", "12:00", "8"),
        RowInput("morgen", "25:00", "", ""),
        RowInput("di 18-03", "6:00", "16:00", "8"),
    ) == {
        "rows-0-day": "vul een dag in, bijvoorbeeld 17-03 of di",
        "rows-0-end": "de eindtijd ligt niet na de begintijd",
        "rows-1-day": "'morgen' is geen dag; schrijf bijvoorbeeld 17-03, di 17 mrt of di",
        "rows-1-start": "'25:00' is geen tijd; schrijf uu:mm",
        "rows-1-end": "vul een eindtijd in, bijvoorbeeld 13:00",
        "rows-1-room": "vul een lokaal in: de gesprekken van deze ronde zijn op school",
        "rows-2-day": "18-03-2026 is een woensdag, geen dinsdag",
        "rows-2-start": "kies een tijd tussen 07:00 en 21:00",
    }


def test_a_day_outside_the_round_on_a_weekend_or_in_the_past_is_refused() -> None:
    assert errors_of(
        RowInput("25-03", "9:00", "10:00", "8"),
        RowInput("21-03", "9:00", "10:00", "8"),
        RowInput("16-03", "9:00", "10:00", "8"),
        now=datetime(2026, 3, 17, 8, tzinfo=UTC),
    ) == {
        "rows-0-day": "25-03-2026 valt buiten de periode (16-03-2026 t/m 24-03-2026)",
        "rows-1-day": "op zaterdag worden geen gesprekken gepland",
        "rows-2-day": "16-03-2026 is al voorbij",
    }


def test_a_time_already_gone_today_is_refused() -> None:
    now = datetime(2026, 3, 17, 14, tzinfo=UTC)  # 15:00 in Amsterdam
    assert errors_of(RowInput("17-03", "9:00", "12:00", "8"), now=now) == {
        "rows-0-day": "die tijd is al voorbij"
    }


def test_a_window_shorter_than_one_talk_is_refused() -> None:
    long_talks = Period("okr", "OKR", MARCH.first, MARCH.last, TalkSettings(minutes=45))
    assert errors_of(RowInput("17-03", "9:00", "9:30", "8"), period=long_talks) == {
        "rows-0-end": "korter dan één gesprek (45 minuten)"
    }


def test_overlapping_rows_are_refused() -> None:
    assert errors_of(
        RowInput("17-03", "9:00", "15:00", "8"),
        RowInput("17-03", "10:00", "11:00", "8"),
        RowInput("17-03", "13:00", "14:00", "9"),
    ) == {
        "rows-1-start": "overlapt met regel 1 (di 17 mrt 09:00–15:00 8)",
        "rows-2-start": "overlapt met regel 1 (di 17 mrt 09:00–15:00 8)",
    }


def test_an_online_round_needs_no_room_and_keeps_none() -> None:
    online = Period("okr", "OKR", MARCH.first, MARCH.last, TalkSettings(online=True))
    windows = parse_rows([RowInput("17-03", "9:00", "10:00", "lokaal 8")], online, NOW)
    assert windows == (PublishedWindow(at(17, 9), at(17, 10), None),)
    assert describe_window(windows[0]) == "di 17 mrt 09:00–10:00 online"


def test_published_windows_come_back_as_rows_that_read_the_same() -> None:
    windows = parse_rows([RowInput("17-03", "13:00", "16:00", "8")], MARCH, NOW)
    rows = rows_of(windows)
    assert rows == [RowInput("di 17-03-2026", "13:00", "16:00", "8")]
    assert parse_rows(rows, MARCH, NOW) == windows


def test_a_row_is_copied_to_the_same_weekday_next_week() -> None:
    today = date(2026, 3, 12)
    assert next_week(RowInput("di 17-03-2026", "13:00", "16:00", "8"), MARCH, today) == RowInput(
        "di 24-03-2026", "13:00", "16:00", "8"
    )
    assert next_week(RowInput("wo 18-03", "13:00", "16:00", "8"), MARCH, today) is None
    assert next_week(RowInput("onzin", "13:00", "16:00", "8"), MARCH, today) is None


def test_the_last_publication_of_a_person_for_a_round_replaces_the_earlier_one() -> None:
    first = AvailabilityPublished(person="juf", round_key="r", windows=(), room=None)
    window = PublishedWindow(at(17, 9), at(17, 10), "8")
    second = AvailabilityPublished(person="juf", round_key="r", windows=(window,), room="8")
    other = AvailabilityPublished(person="meester", round_key="r", windows=(), room=None)
    assert latest([first, other, second]) == {("juf", "r"): second, ("meester", "r"): other}


def test_the_event_survives_the_codec() -> None:
    window = PublishedWindow(at(17, 13), at(17, 16), "lokaal 8")
    event = AvailabilityPublished(person="u1", round_key="r", windows=(window,), room="lokaal 8")
    kind, version, data = CODEC.encode(event)
    assert kind == "availability_published"
    assert data["windows"][0]["start"] == "2026-03-17T13:00:00+01:00"
    assert CODEC.decode(kind, version, data) == event


def test_the_rounds_are_the_heroverweging_period_and_the_groep_8_rounds() -> None:
    policy = SchoolPolicy(
        rounds=(
            ConversationRound(
                "adviesgesprek", RoundKind.PROVISIONAL_ADVICE, 8, MonthDay(1, 12), MonthDay(1, 30)
            ),
            ConversationRound("groep 7", RoundKind.PROGRESS, 7, MonthDay(2, 1), MonthDay(2, 20)),
        )
    )
    found = periods(policy, SchoolYear(2025))
    assert [(p.key, p.first, p.last) for p in found] == [
        ("adviesgesprek", date(2026, 1, 12), date(2026, 1, 30)),
        (RECONSIDERATION, date(2026, 3, 15), date(2026, 3, 24)),
    ]


def test_slots_count_the_talks_that_fit_back_to_back() -> None:
    assert slots(PublishedWindow(at(17, 13), at(17, 16), "8"), 30) == 6
    assert slots(PublishedWindow(at(17, 13), at(17, 14, 40), "8"), 45) == 2


def test_a_weekday_row_is_weekly_and_a_dated_one_is_not() -> None:
    assert weekly("di")
    assert weekly(" Elke  dinsdag ")
    assert not weekly("di 17-03")
    assert not weekly("17-03")
    assert not weekly("")
