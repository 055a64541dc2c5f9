"""`talk_requested` v2 names whom the school's setting asked for but nobody could name
(`unknown_attendees`); a v1 request, stored before, upcasts to none and encodes back as v2."""

from __future__ import annotations

import json
from pathlib import Path

from workflows.conversations import TALK_CODEC, TalkRequested

GOLDEN = Path(__file__).parents[1] / "golden" / "talk_v1.json"


def test_a_stored_v1_request_named_everyone_it_asked_for() -> None:
    stored = json.loads(GOLDEN.read_text(encoding="utf-8"))["events"][0]
    assert (stored["event_type"], stored["schema_version"]) == ("talk_requested", 1)
    request = TALK_CODEC.decode("talk_requested", 1, stored["data"])
    assert isinstance(request, TalkRequested)
    assert request.unknown_attendees == ()
    event_type, version, data = TALK_CODEC.encode(request)
    assert (event_type, version, data["unknown_attendees"]) == ("talk_requested", 2, [])
    again = TALK_CODEC.decode(event_type, version, data)
    assert again == request
