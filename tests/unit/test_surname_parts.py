"""A surname's voorvoegsel and achternaam (NEN 1888): the school's own voorvoegsel when it gave
one, else the surname's leading voorvoegsel words, never more than the chain's 10 characters."""

from __future__ import annotations

import pytest

from service.schools.register import split_surname, surname_parts, surname_sort_key


@pytest.mark.parametrize(
    ("family_name", "parts"),
    [
        ("van het Hof", ("van het", "Hof")),
        ("uit den Bogaard", ("uit den", "Bogaard")),
        ("van der Berg", ("van der", "Berg")),
        ("Van  der  Berg", ("Van der", "Berg")),
        ("in 't Veld", ("in 't", "Veld")),
        ("op ten Noort", ("op ten", "Noort")),
        ("de Vries", ("de", "Vries")),
        ("Vries", ("", "Vries")),
        ("El Amrani", ("", "El Amrani")),
        ("Van", ("", "Van")),
        ("van de van der Berg", ("", "van de van der Berg")),  # 14 characters: not a voorvoegsel
    ],
)
def test_the_leading_voorvoegsel_words_are_split_off_when_the_school_gave_none(
    family_name: str, parts: tuple[str, str]
) -> None:
    assert split_surname(family_name) == parts
    assert surname_parts(family_name, None) == parts


def test_the_voorvoegsel_the_school_gave_wins_over_any_reading() -> None:
    assert surname_parts("van het Hof", "van het") == ("van het", "Hof")
    assert surname_parts("Van Dijk", "") == ("", "Van Dijk"), "the school says: none"
    assert surname_parts("ter Horst", "ter") == ("ter", "Horst")
    assert surname_parts("Horst", "ter") == ("ter", "Horst"), "stored without it"


def test_class_lists_sort_on_the_achternaam_with_the_schools_voorvoegsel() -> None:
    pupils = [("Van Dijk", ""), ("van het Hof", "van het"), ("Bakker", None)]
    ordered = sorted(pupils, key=lambda p: surname_sort_key(*p))
    assert ordered == [("Bakker", None), ("van het Hof", "van het"), ("Van Dijk", "")]
