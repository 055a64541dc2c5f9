"""The canonical JSON every hash is computed over stays the text the chain was defined with.

The store serialises with orjson for speed; the hash chain was specified (docs/event-store.md) as
`json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`. These tests keep the two
byte-for-byte equal over every JSON shape an event can hold, so a log written by either verifies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from service.store.hashing import canonical, content_hash, parse

MAX_INT = 2**63 - 1
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_INT, max_value=MAX_INT)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), children, max_size=4)
    ),
    max_leaves=20,
)


def reference(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@settings(max_examples=400)
@given(json_values)
def test_the_canonical_text_equals_the_reference_serialisation(value: object) -> None:
    assert canonical(value) == reference(value)
    assert parse(canonical(value)) == value


def test_every_unicode_code_point_serialises_as_in_the_reference() -> None:
    text = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    assert canonical({"motivation": text, "ü": ["\n", "\u2028", "\x7f"]}) == reference(
        {"motivation": text, "ü": ["\n", "\u2028", "\x7f"]}
    )


def test_the_content_hash_does_not_depend_on_the_order_of_keys() -> None:
    moment = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)

    def digest(data: dict[str, object], metadata: dict[str, object]) -> str:
        return content_hash(
            stream_id="trajectory-x",
            stream_version=1,
            event_type="pupil_enrolled",
            schema_version=1,
            data=data,
            metadata=metadata,
            recorded_at=moment,
        )

    first = digest({"a": 1, "b": "é"}, {"actor": "t", "role": "r"})
    assert first == digest({"b": "é", "a": 1}, {"role": "r", "actor": "t"})
    assert first != digest({"a": 2, "b": "é"}, {"actor": "t", "role": "r"})
