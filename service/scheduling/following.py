"""What the worker's talks loop (`service.scheduling.loop`) keeps between its rounds, so that a
round in which nothing happened reads (almost) nothing.

- `changes(engine, after)`: what the log says changed after position `after` — the talks
  (`conversation-…` streams), the schools whose staff published availability
  (`availability-…`) and the schools whose settings changed (`school-settings-…`). Only
  positions and stream ids are read, in pages; the log hands out positions in commit order
  (`service.store.log`), so a follower paging by `position > P` never skips an event.
- `Watch`: per unsettled talk, its school and the moment it is next worth a look (a reminder or
  an escalation falls due with time alone, without an event), in a heap: a round takes the talks
  whose moment came and reads only their rows.
- `rows` and `open_in`: the read model's rows of some talks, the open requests of some schools.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select

from service.scheduling import views
from service.store.engine import single_statements
from service.store.schema import events

TALK_PREFIX = "conversation-"
AVAILABILITY_PREFIX = "availability-"
SETTINGS_PREFIX = "school-settings-"
PAGE = 5000


@dataclass
class Changes:
    """What changed in the log after a position, up to `head` (the last position read)."""

    head: int
    talk_ids: set[str] = field(default_factory=set)
    availability: set[str] = field(default_factory=set)
    """Schools whose staff published (or withdrew) availability."""
    settings: set[str] = field(default_factory=set)
    """Schools whose settings changed."""


def head(engine: Engine) -> int:
    """The last position in the log (0 for an empty log)."""
    with single_statements(engine).connect() as conn:
        found: int = conn.execute(
            select(func.coalesce(func.max(events.c.position), 0))
        ).scalar_one()
    return found


def changes(engine: Engine, after: int, *, page: int = PAGE) -> Changes:
    """The talks and schools of the events after `after`, read a page at a time."""
    found = Changes(after)
    with single_statements(engine).connect() as conn:
        while True:
            batch = conn.execute(
                select(events.c.position, events.c.stream_id)
                .where(events.c.position > found.head)
                .order_by(events.c.position)
                .limit(page)
            ).all()
            for _, stream_id in batch:
                if stream_id.startswith(TALK_PREFIX):
                    found.talk_ids.add(stream_id.removeprefix(TALK_PREFIX))
                elif stream_id.startswith(AVAILABILITY_PREFIX):
                    found.availability.add(stream_id.removeprefix(AVAILABILITY_PREFIX))
                elif stream_id.startswith(SETTINGS_PREFIX):
                    found.settings.add(stream_id.removeprefix(SETTINGS_PREFIX))
            if batch:
                found.head = batch[-1].position
            if len(batch) < page:
                return found


def rows(engine: Engine, talk_ids: Iterable[str]) -> list[views.TalkRow]:
    """The read model's rows of these talks (those it has)."""
    return views.rows_of(engine, talk_ids)


def open_in(engine: Engine, school_ids: Iterable[str]) -> list[views.TalkRow]:
    """The open requests of these schools, in `views.open_requests`' order."""
    return views.open_requests_in(engine, school_ids)


@dataclass
class Watch:
    """Per unsettled talk its school and when to look at it next (None: nothing to wait for
    under the current settings); the moments in a heap whose stale entries are skipped."""

    _talks: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    _schools: dict[str, set[str]] = field(default_factory=dict)
    _heap: list[tuple[datetime, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._talks)

    def __contains__(self, talk_id: object) -> bool:
        return talk_id in self._talks

    def put(self, talk_id: str, school_id: str, at: datetime | None) -> None:
        self.drop(talk_id)
        self._talks[talk_id] = (school_id, at)
        self._schools.setdefault(school_id, set()).add(talk_id)
        if at is not None:
            heapq.heappush(self._heap, (at, talk_id))
            if len(self._heap) > 2 * len(self._talks) + 1000:
                self._compact()

    def drop(self, talk_id: str) -> None:
        known = self._talks.pop(talk_id, None)
        if known is not None:
            school = self._schools.get(known[0], set())
            school.discard(talk_id)
            if not school:
                self._schools.pop(known[0], None)

    def of_school(self, school_id: str) -> Sequence[str]:
        return sorted(self._schools.get(school_id, ()))

    def due(self, now: datetime) -> list[str]:
        """The talks whose moment is `now` or earlier, taken off the heap (put them back)."""
        found: dict[str, None] = {}
        while self._heap and self._heap[0][0] <= now:
            at, talk_id = heapq.heappop(self._heap)
            known = self._talks.get(talk_id)
            if known is not None and known[1] == at:
                found[talk_id] = None
        return list(found)

    def _compact(self) -> None:
        self._heap = [(at, t) for t, (_, at) in self._talks.items() if at is not None]
        heapq.heapify(self._heap)
