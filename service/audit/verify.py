"""`verify`: recompute the whole hash chain and name the first event that breaks it.

Checks, in global order: positions run 1, 2, 3, … without a hole (a deleted event leaves one);
each stream's versions run 1, 2, 3, …; every event's hash is the hash of its stored content and
the previous event's hash (a changed, inserted or reordered event breaks it); and the log ends
exactly at the head row's position and hash (events deleted from the end).

A consistent rewrite (every hash from one event on recomputed, the head too) or a truncated tail
with the head rolled back passes those checks; anchors catch them (`service/audit/anchors.py`):
the event at each anchor's position must carry the anchor's hash — the first anchor that does not
bounds the rewrite between the anchor before it and itself — and the log may not end before an
anchor. The CLI checks the anchor file's anchors by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from service.audit.anchors import Anchor, Log
from service.store.hashing import GENESIS_HASH, rehash
from service.store.schema import events


@dataclass(frozen=True)
class Breach:
    position: int
    stream_id: str | None
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    events: int
    head_position: int
    head_hash: str
    breach: Breach | None
    anchors_checked: int = 0
    """Anchors whose position the walk reached and found carrying their hash."""

    @property
    def ok(self) -> bool:
        return self.breach is None


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        total: int = conn.execute(select(func.count()).select_from(events)).scalar_one()
        return total


def verify(
    store: Log,
    *,
    anchors: tuple[Anchor, ...] = (),
    page: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    head_position, head_hash = store.head()
    previous, expected, seen = GENESIS_HASH, 1, 0
    versions: dict[str, int] = {}
    pending: dict[int, list[Anchor]] = {}
    for each in anchors:
        pending.setdefault(each.position, []).append(each)
    matched = 0  # the position of the last anchor found intact (0: none yet)
    checked = 0

    def report(breach: Breach | None) -> VerifyReport:
        return VerifyReport(seen, head_position, head_hash, breach, checked)

    after = 0
    while batch := store.read_all(after, page):
        for event in batch:
            if event.position != expected:
                reason = (
                    f"position {expected} is missing: an event was deleted"
                    if event.position > expected
                    else "positions out of order"
                )
                return report(Breach(expected, event.stream_id, reason))
            version = versions.get(event.stream_id, 0) + 1
            if event.stream_version != version:
                return report(
                    Breach(
                        event.position,
                        event.stream_id,
                        f"stream version {event.stream_version}, expected "
                        f"{version}: an event of this stream was removed or "
                        "moved",
                    )
                )
            if rehash(event, previous) != event.hash:
                return report(
                    Breach(
                        event.position,
                        event.stream_id,
                        "the hash does not match: the event was changed, inserted or moved",
                    )
                )
            for anchor in pending.pop(event.position, ()):
                if anchor.hash != event.hash:
                    return report(
                        Breach(event.position, event.stream_id, _rewritten(anchor, matched))
                    )
                matched, checked = event.position, checked + 1
            versions[event.stream_id] = version
            previous, expected, seen = event.hash, expected + 1, seen + 1
        after = batch[-1].position
        if progress:
            progress(len(batch))
    if pending:
        beyond = max((a for group in pending.values() for a in group), key=lambda a: a.position)
        last = expected - 1
        gone = (
            f"event {expected} was"
            if expected == beyond.position
            else f"events {expected}–{beyond.position} were"
        )
        head = (
            "the head rolled back"
            if head_position < beyond.position
            else f"the head still says {head_position}"
        )
        return report(
            Breach(
                expected,
                None,
                f"the log ends at position {last} (head {head_position}) but "
                f"{beyond.described()} reaches {beyond.position}: {gone} deleted and {head}",
            )
        )
    if (expected - 1, previous) != (head_position, head_hash):
        return report(
            Breach(
                expected,
                None,
                f"the log ends at position {expected - 1} but the head says "
                f"{head_position}: events at the end were deleted or added",
            )
        )
    return report(None)


def _rewritten(anchor: Anchor, matched: int) -> str:
    since = f"after position {matched}, " if matched else ""
    return (
        f"the hash differs from {anchor.described()}: an event {since}at or before this "
        "position was changed and every later hash recomputed"
    )
