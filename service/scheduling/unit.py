"""The one write path of a talk: load its stream, decide, commit one unit of work.

`TalkUnit.run` loads the talk's stream (`conversation-<talk_id>`; free text opened with the
pupil's key), lets the caller's decision make the talk's events with the injected clock, and
commits them with the `talks` read-model row, the outbox rows of their topics and — for a
heroverweging talk — the pupil's trajectory event (the link's mapping, or exactly the command an
API call gave, `PupilCall`), decided by the trajectory's rules with the school's policy and
appended after the version read (If-Match and Idempotency-Key of the trajectory, for the API).
A writer in between means deciding again on the fresh streams, the last attempt under the log's
lock; with an expected version it is the caller's 409 — unless all that came in between is the
system's bookkeeping (an e-mail sent, a reminder, an escalation). Nothing is written on a refusal.
A heroverweging talk with other parents' talks beside it (`separate_parents`) decides under the
log's lock, with those talks read in the same transaction, so two parents' talks settled at the
same moment cannot both miss that they were the last (`link`). A pupil call that records nothing
on the trajectory (one parent's talk of two held) still remembers its Idempotency-Key there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from service.advice.batch import Decider
from service.outbox.outbox import OUTBOX
from service.projections import talks as rows
from service.projections import trajectories as trajectory_rows
from service.scheduling import link, sealing
from service.scheduling.requests import heroverweging_siblings, heroverwegingen
from service.shared.context import CommandContext, CommandResult
from service.store import personal
from service.store.events import ConcurrencyError, IdempotencyConflictError, StoredEvent
from service.store.port import Append, EventStore, KeyTakenError, Session, UnitOfWork
from service.store.streams import trajectory_stream
from workflows.codec import Event
from workflows.commands import (
    CancelConversation,
    Command,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.conversations import (
    ParentsDeclined,
    RequestTalk,
    Talk,
    TalkCancelled,
    TalkHeld,
    TalkKind,
    TalkMoved,
    TalkPlanned,
    decide_on_talk,
    fold_talk,
    talk_stream,
)
from workflows.trajectory import Trajectory

Clock = Callable[[], datetime]
Decision = Callable[[Talk, datetime, Session], list[Event]]
"""What a use case decides on the talk (as loaded, at `now`, in the session): its new events."""
MAX_ATTEMPTS = 3
_BOOKKEEPING = frozenset({"talk_invitation_sent", "talk_reminder_sent", "talk_escalated"})
"""What the system records on a talk without changing it: a form based on the version before
these (the page opened before the e-mail went out) is not stale."""
_ECHOED = (TalkPlanned, TalkMoved, TalkCancelled, TalkHeld, ParentsDeclined)
_OUTCOMES = (RecordConversationHeld, RecordConversationDeclined)
_SHARED = (*_OUTCOMES, CancelConversation)


class _NeedsLockError(Exception):
    """The decision reads other parents' talks: decide again under the log's lock."""


class TalkNotFoundError(LookupError):
    def __init__(self, talk_id: str) -> None:
        super().__init__(f"no talk {talk_id}")
        self.talk_id = talk_id


class TalkUnit:
    def __init__(self, store: EventStore, clock: Clock, decider: Decider) -> None:
        self._store = store
        self._clock = clock
        self._decider = decider

    def run(
        self,
        talk_id: str,
        decide: Decision,
        context: CommandContext,
        expected_version: int | None = None,
        *,
        exclusive: bool = False,
        call: PupilCall | None = None,
    ) -> Done:
        stream = talk_stream(talk_id)
        pinned = expected_version is not None or (call and call.expected_version is not None)
        for attempt in range(MAX_ATTEMPTS):
            last = attempt == MAX_ATTEMPTS - 1
            locked = exclusive or last
            try:
                with self._store.session(exclusive=locked) as session:
                    return self._once(
                        session, talk_id, stream, decide, context, expected_version, call, locked
                    )
            except _NeedsLockError:
                exclusive = True
                continue
            except ConcurrencyError:
                if not pinned and not last:
                    continue
                raise
            except KeyTakenError:  # the same key in a race: its answer is read next time
                if last:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        session: Session,
        talk_id: str,
        stream: str,
        decide: Decision,
        context: CommandContext,
        expected_version: int | None,
        call: PupilCall | None,
        locked: bool,
    ) -> Done:
        loaded = session.load([stream])
        stored = loaded.stream(stream)
        version = loaded.version(stream)
        if expected_version is not None and expected_version != version:
            later = [e for e in stored if e.stream_version > expected_version]
            if expected_version > version or not all(e.event_type in _BOOKKEEPING for e in later):
                raise ConcurrencyError(stream, expected_version, version)
        now = self._clock()
        requested: list[Event] = []
        if stored:
            pupil = str(stored[0].data["pupil_id"])
            key = session.pupil_key(pupil) if sealing.needs_key(stored) else None
            talk = fold_talk(sealing.open_events(stored, key))
        elif call is not None and call.pending is not None:  # requested with this change
            pupil = call.pending.pupil_id
            requested = decide_on_talk(Talk(), call.pending, now)
            talk = fold_talk(requested)
        else:
            raise TalkNotFoundError(talk_id)
        trajectory = _TrajectoryPart.load(session, pupil, call)
        if trajectory.replay is not None:
            return Done(talk, trajectory.replay)
        decided = decide(talk, now, session)
        if not decided:
            return Done(talk, None)
        events = requested + decided
        after = fold_talk(decided, start=talk)
        metadata = context.metadata()
        appends = [
            Append(
                stream, version, sealing.encode(events, metadata, lambda: session.pupil_key(pupil))
            )
        ]
        if talk.requested.kind is TalkKind.RECONSIDERATION:
            commands = _echo(session, talk_id, talk, events, now, trajectory, call, locked)
            if commands or call is not None:
                appends.append(
                    trajectory.append(session, self._decider, commands, now, metadata, call)
                )
        saved = session.commit(
            UnitOfWork(
                now,
                appends,
                read_model=trajectory_rows.TRAJECTORIES,
                outbox=OUTBOX,
                joined=[rows.joined({talk_id: after})],
            )
        )
        return Done(after, trajectory.result(saved, call))


@dataclass(frozen=True)
class PupilCall:
    """A command on the pupil's heroverweging conversation as the API and the pupil page give it
    (`Talks.conversation`): the trajectory command itself (its own dates and notes are what the
    trajectory records), the trajectory's If-Match version and the Idempotency-Key."""

    command: Command
    expected_version: int | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""
    field: str = "planned_at"
    """The input a refused time is reported on."""
    pending: RequestTalk | None = None
    """The talk's request when it has none yet: stored with the change, or not at all."""
    siblings: tuple[str, ...] = ()
    """The other parents' talks of the heroverweging (requested after this call, if not yet)."""


@dataclass(frozen=True)
class Done:
    talk: Talk
    trajectory: CommandResult | None
    """What the pupil's trajectory recorded with it (None: nothing)."""


@dataclass
class _TrajectoryPart:
    """The pupil's trajectory in a talk's unit of work: loaded in the session, decided with the
    school's policy, appended after the version read."""

    stream: str
    pupil: str
    state: Trajectory
    version: int
    entered: int = 0
    """How often the trajectory entered a heroverweging (which one the talks are of)."""
    replay: CommandResult | None = None

    @classmethod
    def load(cls, session: Session, pupil: str, call: PupilCall | None) -> _TrajectoryPart:
        stream = trajectory_stream(pupil)
        key = call.idempotency_key if call is not None else None
        loaded = session.load([stream], [key] if key else [], [pupil])
        stored = loaded.stream(stream)
        secret = loaded.keys.get(pupil) if personal.needs_key(stored) else None
        state, entered = heroverwegingen(personal.open_events(stored, secret))
        part = cls(stream, pupil, state, loaded.version(stream), entered)
        if call is None:
            return part
        if key and key in loaded.remembered:
            fingerprint, response = loaded.remembered[key]
            if fingerprint != call.fingerprint:
                raise IdempotencyConflictError(key)
            part.replay = CommandResult.replay(response)
            return part
        if call.expected_version is not None and call.expected_version != part.version:
            raise ConcurrencyError(stream, call.expected_version, part.version)
        return part

    def append(
        self,
        session: Session,
        decider: Decider,
        commands: list[Command],
        now: datetime,
        metadata: dict[str, object],
        call: PupilCall | None,
    ) -> Append:
        key = call.idempotency_key if call is not None else None
        remember = (key, call.fingerprint) if key and call else None
        if not commands:  # the call's answer: nothing recorded, the version as it stands
            return Append(self.stream, self.version, [], None, remember)
        decided, after = decider(self.state, commands, now, session.driver)
        pupil = self.pupil
        new = personal.encode(decided, dict(metadata), lambda: session.pupil_key(pupil))
        row = trajectory_rows.row(self.stream, after, 0)
        return Append(self.stream, self.version, new, row, remember)

    def result(self, saved: list[StoredEvent], call: PupilCall | None) -> CommandResult | None:
        mine = [e for e in saved if e.stream_id == self.stream]
        if not mine:
            return None if call is None else CommandResult(self.version, [], [])
        return CommandResult(
            mine[-1].stream_version, [e.event_type for e in mine], [e.position for e in mine]
        )


def _echo(
    session: Session,
    talk_id: str,
    talk: Talk,
    events: list[Event],
    now: datetime,
    trajectory: _TrajectoryPart,
    call: PupilCall | None,
    locked: bool,
) -> list[Command]:
    """The trajectory commands of a heroverweging talk's new events: exactly the call's, or the
    link's echo (over the other parents' talks too, which are read under the log's lock)."""
    others: list[link.Other] = []
    if any(isinstance(e, _ECHOED) for e in events):
        others = _others(session, talk_id, talk, trajectory.entered, call)
    if others and not locked:
        raise _NeedsLockError
    # with other parents' talks an outcome or a cancel is the link's: a cancel of the talk the
    # trajectory shows, while another parent's still stands, plans the trajectory at that one
    if call is not None and not (others and isinstance(call.command, _SHARED)):
        return [call.command]
    return link.trajectory_commands(trajectory.state, talk.requested, events, now, talk, others)


def _others(
    session: Session, talk_id: str, talk: Talk, entered: int, call: PupilCall | None
) -> list[link.Other]:
    """The other parents' talks of this heroverweging, read in the session (a sibling the call
    names that is not requested yet: open)."""
    candidates = heroverweging_siblings(talk_id, talk.requested, entered)
    if not candidates:
        return []
    streams = {talk_stream(i): i for i in candidates}
    loaded = session.load(list(streams))
    named = set(call.siblings) if call is not None else set()
    others = []
    for stream, other_id in streams.items():
        stored = loaded.stream(stream)
        if stored:
            key = session.pupil_key(talk.requested.pupil_id) if sealing.needs_key(stored) else None
            others.append(link.Other.of(sealing.open_events(stored, key)))
        elif other_id in named:
            others.append(link.Other(Talk()))
    return others
