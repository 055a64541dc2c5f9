"""Each school's policy per school year, stored as events and answered from a cache.

A change of settings is one `school_settings_changed` event on the school's own stream
(`school-settings-<school_id>`) in the event store: append-only, hash-chained with every other
event, with who (the user's id, role and name in its metadata) and when (its `recorded_at`).
The event holds the whole policy of that school year and what changed, so reading a school's
settings is folding its few events (`workflows.settings.SettingsHistory`).

`SchoolPolicies.policy_for(school_id, school_year)` is what every decision asks (the command
handler's `Decider`, and through it the API, the CSV imports and the intake worker) and what the
class overview's deadlines are computed with. Answers come from a per-school cache: a change made
through this object replaces the entry at once; another process's change (the worker beside the
server, `serve --workers N`) is seen within `refresh_after` seconds, when the entry's stream
version is compared with the store's again (one indexed read per school at most that often).
A school that never set anything gets the legal minimum, `SchoolPolicy()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from service.store import log
from service.store.driver import Driver
from service.store.engine import single_statements
from service.store.events import ConcurrencyError, NewEvent, StoredEvent
from service.store.port import Append, EventStore, UnitOfWork
from service.store.sql import driver_of
from workflows.calendar import SchoolYear
from workflows.policy import SchoolPolicy
from workflows.settings import (
    EVENT_TYPE,
    SCHEMA_VERSION,
    InForce,
    SettingsChanged,
    SettingsHistory,
    change_settings,
    event_data,
    event_from_data,
)

Clock = Callable[[], datetime]
PolicyLookup = Callable[[str, SchoolYear], SchoolPolicy]
REFRESH_AFTER = 2.0  # seconds a cached school is trusted before its stream version is compared


def settings_stream(school_id: str) -> str:
    return f"school-settings-{school_id}"


@dataclass(frozen=True)
class SchoolSettings:
    """A school's settings as stored: every change, and the stream version they end at."""

    school_id: str
    version: int
    history: SettingsHistory

    def in_force(self, year: SchoolYear) -> InForce:
        return self.history.in_force(year)

    @property
    def last_changed_by(self) -> str:
        return self.history.changes[-1].changed_by_name if self.history.changes else ""


class SettingsStaleError(Exception):
    """Someone changed the school's settings after the form was loaded: nothing was stored."""

    def __init__(self, fresh: SchoolSettings) -> None:
        super().__init__(f"settings of {fresh.school_id} are at version {fresh.version}")
        self.fresh = fresh


class SchoolPolicies:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        refresh_after: float = REFRESH_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._refresh_after = refresh_after
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, SchoolSettings]] = {}
        self._lock = threading.Lock()

    def __call__(self, school_id: str, school_year: SchoolYear) -> SchoolPolicy:
        return self.policy_for(school_id, school_year)

    def policy_for(
        self, school_id: str, school_year: SchoolYear | str, *, driver: Driver | None = None
    ) -> SchoolPolicy:
        """The policy in force at `school_id` in `school_year`; the legal minimum when the
        school set nothing. `driver`: a connection the caller holds, to read on when the cache
        must be checked (a decision in a store session reads on its own transaction)."""
        year = SchoolYear.parse(school_year) if isinstance(school_year, str) else school_year
        return self.settings(school_id, driver=driver).history.policy_for(year)

    def settings(
        self, school_id: str, *, fresh: bool = False, driver: Driver | None = None
    ) -> SchoolSettings:
        """The school's settings (from the cache unless `fresh`, or too old to trust)."""
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(school_id)
        if cached is not None and not fresh and now - cached[0] < self._refresh_after:
            return cached[1]
        stream = settings_stream(school_id)
        version = (
            log.stream_version(driver, stream)
            if driver is not None
            else self._store.stream_version(stream)
        )
        if cached is not None and version == cached[1].version:
            found = cached[1]
        else:
            found = self._read(school_id, driver)
        with self._lock:
            self._cache[school_id] = (now, found)
        return found

    def _read(self, school_id: str, driver: Driver | None = None) -> SchoolSettings:
        stream = settings_stream(school_id)
        stored = (
            log.read_stream(driver, stream)
            if driver is not None
            else self._store.read_stream(stream)
        )
        history = SettingsHistory.of(_decode(e) for e in stored if e.event_type == EVENT_TYPE)
        return SchoolSettings(school_id, stored[-1].stream_version if stored else 0, history)

    def change(
        self,
        school_id: str,
        year: SchoolYear,
        policy: SchoolPolicy,
        *,
        user_id: str,
        user_name: str,
        role: str,
        expected_version: int,
        request_id: str | None = None,
    ) -> SettingsChanged | None:
        """Set `policy` for `year`, after `expected_version` of the school's settings (what the
        form showed); None when nothing changed. `SettingsStaleError` with the fresh settings
        when someone else changed them since."""
        stream = settings_stream(school_id)
        now = self._clock()
        stale = False
        with self._store.session() as session:
            stored = session.load([stream]).stream(stream)
            version = stored[-1].stream_version if stored else 0
            event = None
            if version != expected_version:
                stale = True
            else:
                history = SettingsHistory.of(
                    _decode(e) for e in stored if e.event_type == EVENT_TYPE
                )
                event = change_settings(
                    history.policy_for(year),
                    policy,
                    school_id=school_id,
                    year=year,
                    changed_by=user_id,
                    changed_by_name=user_name,
                    now=now,
                )
            if event is not None:
                metadata = {"actor": user_id, "role": role, "actor_name": user_name}
                if request_id is not None:
                    metadata["request_id"] = request_id
                new = NewEvent(EVENT_TYPE, SCHEMA_VERSION, event_data(event), metadata)
                try:
                    session.commit(UnitOfWork(now, [Append(stream, version, [new])]))
                except ConcurrencyError:
                    stale = True
        if stale:
            raise SettingsStaleError(self.settings(school_id, fresh=True))
        if event is not None:
            self.settings(school_id, fresh=True)  # this process sees its own change at once
        return event


def read_settings(engine: Engine, school_id: str) -> SettingsHistory:
    """A school's settings read on `engine` directly (one statement), for readers that have no
    `SchoolPolicies` at hand."""
    with single_statements(engine).connect() as conn:
        stored = log.read_stream(driver_of(conn), settings_stream(school_id))
    return SettingsHistory.of(_decode(e) for e in stored if e.event_type == EVENT_TYPE)


def _decode(stored: StoredEvent) -> SettingsChanged:
    metadata = stored.metadata
    return event_from_data(
        stored.data,
        str(metadata.get("actor", "")),
        str(metadata.get("actor_name", "")),
        stored.recorded_at,
    )
