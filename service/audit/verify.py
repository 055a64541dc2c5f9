"""`verify`: recompute the whole hash chain and name the first event that breaks it.

Checks, in global order: positions run 1, 2, 3, … without a hole (a deleted event leaves one);
each stream's versions run 1, 2, 3, …; every event's hash is the hash of its stored content and
the previous event's hash (a changed, inserted or reordered event breaks it); and the log ends
exactly at the head row's position and hash (events deleted from the end). An optional anchor — a
position and hash published earlier, e.g. in directie's yearly report — proves the head itself
was not rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from service.store.hashing import GENESIS_HASH, rehash
from service.store.schema import events
from service.store.sql import SqlEventStore, read_page


@dataclass(frozen=True)
class Breach:
    position: int
    stream_id: str | None
    reason: str


@dataclass(frozen=True)
class Anchor:
    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        position, _, digest = text.partition(":")
        if not position.isdigit() or len(digest) != 64:
            raise ValueError("an anchor is POSITION:HASH, e.g. 1200:3fa9…(64 hex characters)")
        return cls(int(position), digest)


@dataclass(frozen=True)
class VerifyReport:
    events: int
    head_position: int
    head_hash: str
    breach: Breach | None

    @property
    def ok(self) -> bool:
        return self.breach is None


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        total: int = conn.execute(select(func.count()).select_from(events)).scalar_one()
        return total


def verify(
    store: SqlEventStore,
    *,
    anchors: tuple[Anchor, ...] = (),
    page: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    head_position, head_hash = store.head()
    previous, expected, seen = GENESIS_HASH, 1, 0
    versions: dict[str, int] = {}
    pending = {a.position: a for a in anchors}

    def report(breach: Breach | None) -> VerifyReport:
        return VerifyReport(seen, head_position, head_hash, breach)

    with store.engine.connect() as conn:
        after = 0
        while batch := read_page(conn, after, page):
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
                anchor = pending.pop(event.position, None)
                if anchor is not None and anchor.hash != event.hash:
                    return report(
                        Breach(event.position, event.stream_id, "differs from the published anchor")
                    )
                versions[event.stream_id] = version
                previous, expected, seen = event.hash, expected + 1, seen + 1
            after = batch[-1].position
            if progress:
                progress(len(batch))
    if pending:
        missing = min(pending)
        return report(Breach(missing, None, "the log ends before a published anchor"))
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
