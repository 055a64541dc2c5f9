"""The talk's iCalendar invitation, parsed back with icalendar: REQUEST for a planned or moved
talk, CANCEL for a cancelled one, one stable UID, the talk's SEQUENCE, Dutch wall-clock times
with their VTIMEZONE, the organiser and each invited parent; and the iMIP e-mail around it."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from service.outbox.mail import calendar_mail
from service.scheduling.ics import CalendarTalk, Person, talk_calendar

DUTCH = ZoneInfo("Europe/Amsterdam")
SCHOOL = Person("noreply@school.nl", "Juf Anna de Wit")
MOTHER = Person("moeder@example.nl", "Fatima el Amrani")
FATHER = Person("vader@example.nl", "Jeroen Bakker")
STAMP = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


def talk(**changes: object) -> CalendarTalk:
    start = datetime(2026, 3, 18, 14, 30, tzinfo=DUTCH)
    values: dict[str, object] = {
        "talk_id": "7f1c0e9a-1d2b-4c3d-9e8f-0a1b2c3d4e5f",
        "sequence": 0,
        "start": start,
        "end": start + timedelta(minutes=30),
        "location": "Lokaal 8A",
        "child_first_name": "Noor",
        "organizer": SCHOOL,
        "attendees": (MOTHER, FATHER),
        "url": "https://school.example/ouders/abc",
    }
    values.update(changes)
    return CalendarTalk(**values)  # type: ignore[arg-type]


def parsed(data: bytes) -> tuple[Any, Any]:
    """The calendar and its one event (typed loosely: icalendar's property types are a union)."""
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_a_planned_talk_is_a_request_with_every_field_an_agenda_needs() -> None:
    calendar, event = parsed(talk_calendar(talk(), STAMP))

    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert event["UID"] == "talk-7f1c0e9a-1d2b-4c3d-9e8f-0a1b2c3d4e5f@adviestraject"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Gesprek over het schooladvies van Noor"
    assert event["LOCATION"] == "Lokaal 8A"
    assert event["URL"] == "https://school.example/ouders/abc"
    assert event["DTSTAMP"].dt == STAMP


def test_the_times_are_dutch_wall_clock_times_with_their_timezone() -> None:
    data = talk_calendar(talk(), STAMP)
    calendar, event = parsed(data)

    assert b"DTSTART;TZID=Europe/Amsterdam:20260318T143000" in data
    assert b"DTEND;TZID=Europe/Amsterdam:20260318T150000" in data
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert (start.hour, start.minute, end.hour, end.minute) == (14, 30, 15, 0)
    assert str(start.tzinfo) == "Europe/Amsterdam"
    assert start.astimezone(UTC) == datetime(2026, 3, 18, 13, 30, tzinfo=UTC)
    zones = calendar.walk("VTIMEZONE")
    assert [z["TZID"] for z in zones] == ["Europe/Amsterdam"]


def test_a_talk_after_the_change_to_summer_time_keeps_its_wall_clock_time() -> None:
    start = datetime(2026, 3, 30, 8, 45, tzinfo=UTC)  # 10:45 CEST
    _, event = parsed(talk_calendar(talk(start=start, end=start + timedelta(minutes=20)), STAMP))

    assert event["DTSTART"].dt.hour == 10
    assert event["DTSTART"].dt.astimezone(UTC) == start


def test_the_organiser_is_the_school_and_every_parent_is_asked_to_answer() -> None:
    _, event = parsed(talk_calendar(talk(), STAMP))

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:noreply@school.nl"
    assert organizer.params["CN"] == "Juf Anna de Wit"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:moeder@example.nl", "mailto:vader@example.nl"]
    assert [a.params["CN"] for a in attendees] == ["Fatima el Amrani", "Jeroen Bakker"]
    for attendee in attendees:
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_a_moved_talk_keeps_its_uid_with_a_higher_sequence() -> None:
    first = parsed(talk_calendar(talk(), STAMP))[1]
    later = datetime(2026, 3, 19, 9, 0, tzinfo=DUTCH)
    calendar, moved = parsed(
        talk_calendar(talk(sequence=1, start=later, end=later + timedelta(minutes=30)), STAMP)
    )

    assert calendar["METHOD"] == "REQUEST"
    assert moved["UID"] == first["UID"]
    assert moved["SEQUENCE"] == 1
    assert moved["DTSTART"].dt == later


def test_a_cancelled_talk_is_a_cancel_of_the_same_uid() -> None:
    calendar, event = parsed(talk_calendar(talk(sequence=2, cancelled=True), STAMP))

    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert event["UID"] == "talk-7f1c0e9a-1d2b-4c3d-9e8f-0a1b2c3d4e5f@adviestraject"


def test_an_online_talk_says_so_as_its_location() -> None:
    _, event = parsed(talk_calendar(talk(location="online"), STAMP))

    assert event["LOCATION"] == "online"


def test_a_talk_is_never_published() -> None:
    for cancelled in (False, True):
        assert b"PUBLISH" not in talk_calendar(talk(cancelled=cancelled), STAMP)


def test_names_with_accents_and_commas_survive_the_round_trip() -> None:
    parent = Person("ouder@example.nl", "Zoë van 't Hof, moeder")
    _, event = parsed(talk_calendar(talk(attendees=(parent,), child_first_name="Anaïs"), STAMP))

    assert event["ATTENDEE"].params["CN"] == "Zoë van 't Hof, moeder"
    assert event["SUMMARY"] == "Gesprek over het schooladvies van Anaïs"


def test_naive_times_are_refused() -> None:
    naive = datetime(2026, 3, 18, 14, 30)  # noqa: DTZ001 (the mistake under test)
    with pytest.raises(ValueError, match="aware"):
        talk_calendar(talk(start=naive), STAMP)


def test_the_invitation_mail_carries_text_and_calendar_as_alternatives_and_an_attachment() -> None:
    data = talk_calendar(talk(child_first_name="Anaïs"), STAMP)
    mail = calendar_mail(
        "moeder@example.nl", "Uitnodiging", "Beste ouder, tot ziens.", data, "REQUEST"
    )
    back = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    assert isinstance(back, EmailMessage)

    assert back.get_content_type() == "multipart/mixed"
    alternative = next(p for p in back.walk() if p.get_content_type() == "multipart/alternative")
    parts = [p.get_content_type() for p in alternative.iter_parts()]
    assert parts == ["text/plain", "text/calendar"]
    calendar_part = list(alternative.iter_parts())[1]
    assert isinstance(calendar_part, EmailMessage)
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert Calendar.from_ical(calendar_part.get_content())["METHOD"] == "REQUEST"
    attachment = next(back.iter_attachments())
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == data


def test_an_invitation_mail_is_request_or_cancel_only() -> None:
    with pytest.raises(ValueError, match="PUBLISH"):
        calendar_mail("a@example.nl", "x", "y", b"", "PUBLISH")
