"""The talk page's forms that record how a talk ended: held (the day, who attended, notes) or
cancelled (the reason). Parsing only: what the teacher typed, checked before `Talks.hold` /
`Talks.cancel` decide (the domain's own refusals are shown beside the field `FORM_FIELDS`
names); service/web/talks.py runs the forms.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflows.enums import ConversationParty

PARTIES = tuple((p.value, p.label) for p in ConversationParty)
MAX_NOTES = 4000
MAX_REASON = 500
# the domain's fields named by a refusal, and the form's field beside which it is shown
FORM_FIELDS = {
    "held_on": "gevoerd_op",
    "attendees": "aanwezig",
    "notes": "notities",
    "reason": "afzegreden",
}


def parse_held(
    values: dict[str, Any],
) -> tuple[date | None, list[ConversationParty], dict[str, str]]:
    """The day the talk was held, who attended, and the fields' complaints."""
    errors: dict[str, str] = {}
    held_on = None
    try:
        held_on = date.fromisoformat(values["gevoerd_op"])
    except ValueError:
        errors["gevoerd_op"] = (
            "Geef een geldige datum."
            if values["gevoerd_op"]
            else "Vul de datum van het gesprek in."
        )
    known = {p.value for p in ConversationParty}
    attendees = [ConversationParty(v) for v in dict.fromkeys(values["aanwezig"]) if v in known]
    if not attendees or len(attendees) != len(set(values["aanwezig"])):
        errors["aanwezig"] = "Kies wie er bij het gesprek waren."
    if len(values["notities"]) > MAX_NOTES:
        errors["notities"] = f"Gebruik hoogstens {MAX_NOTES} tekens."
    return held_on, attendees, errors


def parse_cancel(values: dict[str, Any]) -> dict[str, str]:
    reason = values["afzegreden"]
    if not reason:
        return {"afzegreden": "Schrijf waarom het gesprek niet doorgaat."}
    if len(reason) > MAX_REASON:
        return {"afzegreden": f"Gebruik hoogstens {MAX_REASON} tekens."}
    return {}
