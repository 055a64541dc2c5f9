"""The chain standard the service validates against is the published one, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.intake.standard import DOCUMENT, errors_in, example

PUBLISHED = Path(__file__).parents[3] / "shared" / "standards" / DOCUMENT.name


def test_the_kept_copy_is_byte_for_byte_the_published_standard() -> None:
    if not PUBLISHED.exists():
        pytest.skip(f"the standard is not beside this checkout ({PUBLISHED})")
    assert DOCUMENT.read_bytes() == PUBLISHED.read_bytes()


def test_the_standards_examples_pass_its_schemas_with_numeric_scores_allowed() -> None:
    message = example("/leerlingresultaat", "Leerlingresultaat")
    assert isinstance(message["resultatenscores"]["scores"]["scores"][0]["waarde"], int)
    assert errors_in("Leerlingresultaat", message) == []
    message["resultatenscores"]["scores"]["scores"][0]["waarde"] = [100]
    assert [e["field"] for e in errors_in("Leerlingresultaat", message)] == [
        "resultatenscores.scores.scores.0.waarde"
    ]
