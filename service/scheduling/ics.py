"""The iCalendar invitation of a talk (RFC 5545, with the iTIP methods of RFC 5546).

A talk is one VEVENT whose UID (`talk-<talk_id>@adviestraject`) never changes, so a calendar
that received the first invitation updates that same appointment when the talk moves (the same
UID with a higher SEQUENCE, METHOD:REQUEST) and removes it when it is cancelled (METHOD:CANCEL,
STATUS:CANCELLED). Never PUBLISH: a published event cannot be answered and is not updated by a
later one in every client. Times are written in Europe/Amsterdam with its VTIMEZONE, so an
agenda shows the wall-clock time the school chose, also across a change to or from summer time.
The summary names the parent's own child only (the caller gives the first name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

DUTCH = ZoneInfo("Europe/Amsterdam")
PRODUCT_ID = "-//adviestraject//gesprekken//NL"


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class CalendarTalk:
    """What the calendar needs of one talk, for one e-mail."""

    talk_id: str
    sequence: int  # 0 with the first plan, one up on every move and on the cancellation
    start: datetime  # aware
    end: datetime  # aware
    location: str  # the room, or "online"
    child_first_name: str
    organizer: Person  # the school's mail sender, with the teacher's or school's name
    attendees: tuple[Person, ...]  # the invited parents
    cancelled: bool = False
    description: str = ""
    url: str = ""  # the parents' page


def uid_of(talk_id: str) -> str:
    return f"talk-{talk_id}@adviestraject"


def summary_of(child_first_name: str) -> str:
    return f"Gesprek over het schooladvies van {child_first_name}"


def _address(person: Person, *, attendee: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = vText(person.name)
    if attendee:
        address.params["ROLE"] = vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
    return address


def talk_calendar(talk: CalendarTalk, stamp: datetime) -> bytes:
    """The VCALENDAR of the talk as sent at `stamp` (DTSTAMP): REQUEST, or CANCEL."""
    if talk.start.tzinfo is None or talk.end.tzinfo is None or stamp.tzinfo is None:
        raise ValueError("the talk's times and the stamp must be aware datetimes")
    method = "CANCEL" if talk.cancelled else "REQUEST"
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid_of(talk.talk_id))
    event.add("sequence", talk.sequence)
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    event.add("dtstart", talk.start.astimezone(DUTCH))
    event.add("dtend", talk.end.astimezone(DUTCH))
    event.add("summary", summary_of(talk.child_first_name))
    event.add("location", talk.location)
    if talk.description:
        event.add("description", talk.description)
    if talk.url:
        event.add("url", talk.url)
    event.add("organizer", _address(talk.organizer, attendee=False))
    for parent in talk.attendees:
        event.add("attendee", _address(parent, attendee=True), encode=False)
    event.add("status", "CANCELLED" if talk.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    # the zone's rules around the talk only (the default spans 1970-2038: 4 kB of RDATEs)
    first = date(talk.start.year - 1, 1, 1)
    calendar.add_missing_timezones(first_date=first, last_date=date(talk.end.year + 2, 1, 1))
    ical: bytes = calendar.to_ical()
    return ical
