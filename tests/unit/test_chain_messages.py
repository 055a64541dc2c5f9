"""The Deelnemerslijst built from register data, without a database: group ids and surnames,
checked against the standard's own schema by `participants_list` itself."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from service.chain.messages import ChainPupil, ChainSchool, participants_list

NOW = datetime(2026, 1, 12, 9, tzinfo=UTC)
CODES: dict[str, str | None] = {
    "vestigingscode": "00",
    "onderwijsaanbiedercode": "123A123",
    "onderwijslocatiecode": "123X123",
    "administratienr": "99",
}


def school(school_id: str) -> ChainSchool:
    return ChainSchool(school_id, "01AA", "De Eerste School", None, None, CODES, None)


def pupil(
    pupil_id: str, class_name: str, family_name: str = "Jansen", prefix: str | None = None
) -> ChainPupil:
    return ChainPupil(
        id=pupil_id,
        given_name="Noor",
        family_name=family_name,
        class_name=class_name,
        groep=8,
        initials=None,
        birth_date=date(2013, 5, 12),
        sex=2,
        provisional_advice=None,
        surname_prefix=prefix,
    )


def groups(school_id: str, year: str, *pupils: ChainPupil) -> dict[str, str]:
    """Class name -> group id, as the message sends them; every pupil points at a listed group."""
    message: Any
    message, _ = participants_list(school(school_id), list(pupils), year, NOW)
    listed = {g["omschrijving"]: g["id"] for g in message["groepen"]}
    assert len(listed) == len(set(listed.values())) == len(message["groepen"])
    assert {p["groep"] for p in message["deelnemers"]} <= set(listed.values())
    return listed


def test_a_group_id_is_stable_within_the_school_year_and_unique_across_schools_and_years() -> None:
    first = groups("school-1", "2025-2026", pupil("p1", "8A"), pupil("p2", "8B"))
    again = groups("school-1", "2025-2026", pupil("p3", "8A"))
    assert again["8A"] == first["8A"], "another list of the same year: the same group"
    assert first["8A"] != first["8B"]
    assert groups("school-2", "2025-2026", pupil("p4", "8A"))["8A"] != first["8A"]
    assert groups("school-1", "2026-2027", pupil("p5", "8A"))["8A"] != first["8A"]


def test_a_group_id_says_nothing_about_the_class() -> None:
    listed = groups("school-1", "2025-2026", pupil("p1", "8A"), pupil("p2", ""))
    assert set(listed) == {"8A", "zonder klas"}
    for gid in listed.values():
        assert str(uuid.UUID(gid)) == gid, "an opaque uuid, not a class name"


def test_the_same_class_written_in_another_case_is_one_group() -> None:
    message: Any
    message, _ = participants_list(
        school("school-1"), [pupil("p1", "8A"), pupil("p2", "8a ")], "2025-2026", NOW
    )
    assert len(message["groepen"]) == 1
    assert message["deelnemers"][0]["groep"] == message["deelnemers"][1]["groep"]


def names(*pupils: ChainPupil) -> list[tuple[str | None, str]]:
    message: Any
    message, _ = participants_list(school("school-1"), list(pupils), "2025-2026", NOW)
    return [(p.get("voorvoegsel"), p["achternaam"]) for p in message["deelnemers"]]


def test_the_voorvoegsel_the_school_gave_is_sent_as_the_standards_own_field() -> None:
    assert names(
        pupil("p1", "8A", "van het Hof", prefix="van het"),
        pupil("p2", "8A", "uit den Bogaard", prefix="uit den"),
        pupil("p3", "8A", "Van Dijk", prefix=""),  # the school says: none
        pupil("p4", "8A", "Smit", prefix="de"),  # stored without it: still sent apart
    ) == [("van het", "Hof"), ("uit den", "Bogaard"), (None, "Van Dijk"), ("de", "Smit")]


def test_without_a_voorvoegsel_from_the_school_the_surnames_leading_words_are_read() -> None:
    assert names(
        pupil("p1", "8A", "van het Hof"),
        pupil("p2", "8A", "uit den Bogaard"),
        pupil("p3", "8A", "in \u2019t Veld"),
        pupil("p4", "8A", "El Amrani"),
        pupil("p5", "8A", "Van"),
    ) == [
        ("van het", "Hof"),
        ("uit den", "Bogaard"),
        ("in \u2019t", "Veld"),
        (None, "El Amrani"),
        (None, "Van"),
    ]
