"""The life cycle drawn as Mermaid state diagrams, generated from the same data as the machines.

`docs/state-machine.md` holds the output; a test fails when it is stale, so every workflow change
shows up as a diff of the diagram (`make diagram` or `adviestraject diagram` rewrites it).
"""

from __future__ import annotations

from collections import defaultdict
from enum import Enum
from typing import Any

from workflows.lifecycle import CONVERSATION_TRANSITIONS, TRANSITIONS, ConversationStatus, Status


def _label(transition: dict[str, Any]) -> str:
    guards = transition.get("conditions", ())
    return f"{transition['trigger']} [{', '.join(guards)}]" if guards else transition["trigger"]


def _state_diagram(
    transitions: list[dict[str, Any]], initial: Enum, states: type[Enum]
) -> list[str]:
    lines = ["stateDiagram-v2", f"    [*] --> {initial.value}"]
    lines += [f"    {s.value}: {s.value}<br/><i>{getattr(s, 'label', '')}</i>" for s in states]
    loops: dict[str, list[str]] = defaultdict(list)
    for t in transitions:
        source, dest = t["source"].value, t["dest"].value
        if source == dest:
            loops[source].append(_label(t))
        else:
            lines.append(f"    {source} --> {dest}: {_label(t)}")
    for state, labels in loops.items():
        lines.append(f"    {state} --> {state}: {' / '.join(labels)}")
    return lines


def mermaid_document() -> str:
    main = _state_diagram(TRANSITIONS, Status.NOT_ENROLLED, Status)
    conversation = _state_diagram(
        CONVERSATION_TRANSITIONS, ConversationStatus.NONE, ConversationStatus
    )
    return "\n".join(
        [
            "# The trajectory's state machines",
            "",
            "Generated from `workflows/lifecycle.py` by `make diagram`; do not edit by hand.",
            "Guards are shown in brackets; a self-loop records a fact without changing state.",
            "",
            "## The advice trajectory",
            "",
            "```mermaid",
            *main,
            "```",
            "",
            "## The heroverweging conversation (runs beside `reconsideration_required`)",
            "",
            "```mermaid",
            *conversation,
            "```",
            "",
        ]
    )
