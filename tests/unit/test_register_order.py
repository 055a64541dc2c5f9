"""Class lists sort the Dutch way: on the surname without its tussenvoegsel."""

from __future__ import annotations

from service.schools.register import surname_sort_key


def test_surnames_sort_without_their_tussenvoegsel() -> None:
    names = ["de Vries", "Bakker", "van der Berg", "El Amrani", "de Boer", "Jansen", "van Dijk"]
    assert sorted(names, key=surname_sort_key) == [
        "Bakker",
        "van der Berg",
        "de Boer",
        "van Dijk",
        "El Amrani",
        "Jansen",
        "de Vries",
    ]
