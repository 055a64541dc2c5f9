"""The committed state diagram is the one the machine definition generates."""

from __future__ import annotations

from pathlib import Path

from workflows.diagram import mermaid_document
from workflows.lifecycle import TRANSITIONS, Status

DOC = Path(__file__).parents[2] / "docs" / "state-machine.md"


def test_the_committed_state_diagram_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == mermaid_document(), (
        "docs/state-machine.md is stale: run `make diagram` and commit it"
    )


def test_the_diagram_shows_every_state_and_every_guard() -> None:
    document = mermaid_document()
    for status in Status:
        assert f"    {status.value}:" in document
    for transition in TRANSITIONS:
        for guard in transition.get("conditions", ()):
            assert guard in document
