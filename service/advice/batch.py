"""Trajectory commands on a store session: one pupil's command, or many pupils' in one commit.

This is the one command path. A teacher's command is a batch of one on a plain session (decided
on a snapshot; the commit's version check catches a writer in between). A provider's March
delivery or a school's CSV export is a batch of many on an exclusive session: the log is locked
once, every stream is loaded in one statement, the domain decides each item in turn (a refusal is
that item's outcome, not the batch's end), and the events of all items are committed together with
their read-model rows, outbox messages and remembered answers, plus whatever the caller writes on
`io` (settled deliveries, register rows): one commit, so a crash leaves all of it or nothing.

The lock is held while an exclusive batch decides, so a teacher's command at that moment waits (a
few hundred milliseconds for 500 pupils), and no decision is made on a stale stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from service.outbox.outbox import OUTBOX
from service.projections import trajectories as trajectory_rows
from service.shared.context import CommandContext
from service.store import personal
from service.store.driver import Driver
from service.store.events import ConcurrencyError, IdempotencyConflictError
from service.store.port import Append, Loaded, Session, UnitOfWork
from service.store.streams import trajectory_stream
from workflows.calendar import SchoolYear
from workflows.codec import Event
from workflows.commands import Command, EnrolPupil, MoveToGroep8
from workflows.decide import decide_on
from workflows.errors import DomainError
from workflows.policy import SchoolPolicy
from workflows.trajectory import Trajectory, fold

PolicyLookup = Callable[[str, SchoolYear], SchoolPolicy]
"""The policy of a school in a school year (`service.schools.policies.SchoolPolicies`)."""


class PolicySource(Protocol):
    """Each school's policy per school year (`SchoolPolicies`). `driver`: the deciding
    session's own connection, for the rare read a stale cache entry needs, so that a decision
    never waits for a second pooled connection while it holds one."""

    def policy_for(
        self, school_id: str, school_year: SchoolYear, *, driver: Driver | None = None
    ) -> SchoolPolicy: ...


class _Fixed:
    def __init__(self, policy: SchoolPolicy) -> None:
        self._policy = policy

    def policy_for(
        self, school_id: str, school_year: SchoolYear, *, driver: Driver | None = None
    ) -> SchoolPolicy:
        return self._policy


class Decider:
    """The domain's decision for one pupil's commands, in turn, with the policy of the pupil's
    school in the pupil's school year (an enrolment's or move's own school and year)."""

    def __init__(self, policy: SchoolPolicy | PolicySource) -> None:
        self._source = _Fixed(policy) if isinstance(policy, SchoolPolicy) else policy

    def policy_of(
        self, state: Trajectory, command: Command, driver: Driver | None = None
    ) -> SchoolPolicy:
        school, year = state.school_id, state.school_year
        if isinstance(command, EnrolPupil | MoveToGroep8):
            with suppress(DomainError):  # a bad year: the rule refuses it with this error
                year = SchoolYear.parse(command.school_year)
        if isinstance(command, EnrolPupil):
            school = command.school_id
        if school is None or year is None:
            return SchoolPolicy()  # not enrolled: only an enrolment is decided, on the law
        return self._source.policy_for(school, year, driver=driver)

    def __call__(
        self,
        state: Trajectory,
        commands: Sequence[Command],
        now: datetime,
        driver: Driver | None = None,
    ) -> tuple[list[Event], Trajectory]:
        new_events: list[Event] = []
        for command in commands:
            policy = self.policy_of(state, command, driver)
            decided = decide_on(state, command, now, policy=policy)
            new_events += decided
            state = fold(decided, start=state)
        return new_events, state


@dataclass(frozen=True)
class BatchItem:
    """One pupil's commands, decided together: all of them are accepted or none."""

    pupil_id: UUID
    commands: Sequence[Command]
    context: CommandContext
    idempotency_key: str | None = None
    fingerprint: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one item: the new version and event types, or why it was refused."""

    stream_version: int
    event_types: list[str]
    positions: list[int]
    error: DomainError | ConcurrencyError | IdempotencyConflictError | None = None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.error is None


class Batch:
    def __init__(self, session: Session, decide: Decider, now: datetime) -> None:
        self._session = session
        self._decide = decide
        self.now = now
        self._states: dict[str, tuple[Trajectory, int]] = {}
        self._remembered: dict[str, tuple[str, dict[str, object]]] = {}

    @property
    def io(self) -> Driver:
        """The batch's transaction, for the caller's own rows (committed with the events)."""
        driver = self._session.driver
        if driver is None:
            raise RuntimeError("this store has no SQL transaction to join")
        return driver

    def assume(self, item: BatchItem, loaded: Loaded) -> None:
        """Decide `item` on what the caller knows instead of loading it (a new pupil)."""
        stream = trajectory_stream(item.pupil_id)
        self._states[stream] = (fold(personal.open_events(loaded.stream(stream), None)), 0)

    def execute(self, items: Sequence[BatchItem]) -> list[BatchOutcome]:
        """Decide every item and commit them together; an item the domain refuses changes
        nothing."""
        streams = [trajectory_stream(item.pupil_id) for item in items]
        keys = [i.idempotency_key for i in items if i.idempotency_key]
        self._load(items, streams, keys)
        new_keys = [k for k in keys if k not in self._remembered]
        if len(set(new_keys)) != len(new_keys):  # its answer exists only after the commit
            raise ValueError("a new idempotency key comes at most once in one execute")
        appends: list[Append] = []
        planned: list[tuple[int, Append]] = []
        outcomes: list[BatchOutcome | None] = []
        for index, (item, stream) in enumerate(zip(items, streams, strict=True)):
            outcome, append = self._decide_item(item, stream)
            outcomes.append(outcome)
            if append is not None:
                appends.append(append)
                planned.append((index, append))
        stored = self._session.commit(
            UnitOfWork(
                self.now,
                appends,
                read_model=trajectory_rows.TRAJECTORIES,
                outbox=OUTBOX,
            )
        )
        cursor = 0
        for index, append in planned:
            mine = stored[cursor : cursor + len(append.events)]
            cursor += len(append.events)
            outcomes[index] = BatchOutcome(
                append.expected_version + len(mine),
                [e.event_type for e in mine],
                [e.position for e in mine],
            )
            if append.idempotency is not None:
                key, fingerprint = append.idempotency
                outcome = outcomes[index]
                assert outcome is not None  # noqa: S101 - set just above
                self._remembered[key] = (
                    fingerprint,
                    {
                        "stream_version": outcome.stream_version,
                        "event_types": outcome.event_types,
                        "positions": outcome.positions,
                    },
                )
        return [o for o in outcomes if o is not None]

    def _load(self, items: Sequence[BatchItem], streams: list[str], keys: list[str]) -> None:
        wanted = [s for s in dict.fromkeys(streams) if s not in self._states]
        unseen = [k for k in keys if k not in self._remembered]
        if not wanted and not unseen:
            return
        pupil_of = {s: str(i.pupil_id) for s, i in zip(streams, items, strict=True)}
        sealed = [pupil_of[s] for s in wanted]
        loaded = self._session.load(wanted, unseen, sealed)
        self._remembered.update(loaded.remembered)
        for stream in wanted:
            stored = loaded.stream(stream)
            key = loaded.keys.get(pupil_of[stream]) if personal.needs_key(stored) else None
            state = fold(personal.open_events(stored, key))
            self._states[stream] = (state, loaded.version(stream))

    def _decide_item(
        self, item: BatchItem, stream: str
    ) -> tuple[BatchOutcome | None, Append | None]:
        state, version = self._states[stream]
        key = item.idempotency_key
        if key and key in self._remembered:
            fingerprint, response = self._remembered[key]
            if fingerprint != item.fingerprint:
                return _refused(version, IdempotencyConflictError(key)), None
            replayed = BatchOutcome(
                int(str(response["stream_version"])),
                list(response["event_types"]),  # type: ignore[call-overload]
                list(response["positions"]),  # type: ignore[call-overload]
                replayed=True,
            )
            return replayed, None
        if item.expected_version is not None and item.expected_version != version:
            return _refused(version, ConcurrencyError(stream, item.expected_version, version)), None
        try:
            new_events, new_state = self._decide(
                state, item.commands, self.now, self._session.driver
            )
        except DomainError as error:
            return _refused(version, error), None
        if not new_events and not key:
            return BatchOutcome(version, [], []), None
        pupil = str(item.pupil_id)
        new = personal.encode(
            new_events, item.context.metadata(), lambda: self._session.pupil_key(pupil)
        )
        self._states[stream] = (new_state, version + len(new))
        row = trajectory_rows.row(stream, new_state, 0)
        return None, Append(stream, version, new, row, (key, item.fingerprint) if key else None)


def _refused(
    version: int, error: DomainError | ConcurrencyError | IdempotencyConflictError
) -> BatchOutcome:
    return BatchOutcome(version, [], [], error=error)
