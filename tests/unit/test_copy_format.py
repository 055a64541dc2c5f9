"""Values written through PostgreSQL's COPY text format come out as the server must read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import IntEnum

from service.store.copyformat import copy_text, copy_value


class Groep(IntEnum):
    ACHT = 8


def test_the_characters_copy_gives_a_meaning_are_escaped() -> None:
    assert copy_text("plain text — één") == "plain text — één"
    assert copy_text("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert copy_text("\\N") == "\\\\N", "a text that looks like NULL stays a text"


def test_each_kind_of_value_has_its_copy_form() -> None:
    assert copy_value(None) == "\\N"
    assert copy_value(True) == "t"
    assert copy_value(8) == "8"
    assert copy_value(Groep.ACHT) == "8"
    assert copy_value(date(2026, 3, 24)) == "2026-03-24"
    assert copy_value(datetime(2026, 3, 24, 9, 30, tzinfo=UTC)) == "2026-03-24T09:30:00+00:00"
    assert copy_value(["late", "x\ty"]) == '["late","x\\\\ty"]'
    assert copy_value({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
