"""Where talks are requested, planned, moved, cancelled, answered and held (`Container.talks`).

Every use case loads the talk's stream (`conversation-<talk_id>`), lets the pure domain
(`workflows.conversations.decide_talk`) decide with the injected clock, and commits one unit of
work: the talk's events (free text sealed with the pupil's key), the `talks` read-model row, the
outbox rows of its topics and — for a heroverweging talk — the matching event on the pupil's
trajectory, decided by the trajectory's own rules with the school's policy, so that the guard
`conversation_settled` sees it. A time is checked like the planner plans (`fitting.check`:
double booking of a person, room or family, the latest end, the parents' unavailable times,
published availability, school hours); a refusal is `PlanningRefused` with the Dutch reasons and
nothing is written. Plans and moves decide under the log's lock (an exclusive session) and read
the bookings in that transaction, so two plans never pass each other. The write path itself is
`service.scheduling.unit`; the API's and pupil page's heroverweging conversation comes in
through `conversation`, the planner through `plan_open` (`service.scheduling.autoplan`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Engine, select

from service.advice.batch import Decider, PolicySource
from service.outbox.outbox import OUTBOX
from service.projections import talks as rows
from service.scheduling import availability as published
from service.scheduling import fitting, link, requests, sealing, views
from service.scheduling.requests import (
    RECONSIDERATION_ROUND,
    Requests,
    groep_7_of,
    heroverwegingen,
    talk_id_for,
)
from service.scheduling.unit import Done, PupilCall, TalkNotFoundError, TalkUnit
from service.shared.context import Actor, CommandContext, CommandResult
from service.store import personal
from service.store.engine import single_statements
from service.store.events import ConcurrencyError, IdempotencyConflictError, StoredEvent
from service.store.port import Append, EventStore, Session, UnitOfWork
from service.store.schema import user_schools, users
from service.store.streams import trajectory_stream
from workflows import planning
from workflows.calendar import SchoolYear
from workflows.codec import Event
from workflows.commands import (
    CancelConversation,
    Command,
    MoveConversation,
    PlanConversation,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.conversations import (
    AcceptTalk,
    AskOtherTime,
    CancelTalk,
    DeclineTalk,
    GiveView,
    HoldTalk,
    InvitationKind,
    MoveTalk,
    Period,
    PlanTalk,
    RecordInvitation,
    RequestTalk,
    Talk,
    TalkCommand,
    TalkKind,
    decide_on_talk,
    fold_talk,
    talk_stream,
)
from workflows.enums import ConversationParty
from workflows.errors import DomainError
from workflows.lifecycle import Status
from workflows.trajectory import Trajectory, fold

Clock = Callable[[], datetime]
AvailabilityOf = Callable[[str, str], Sequence[planning.Availability]]
"""The staff's published availability of a school for a round key (R's `availability.of`)."""


class PlanningRefused(DomainError):  # noqa: N818 - the name the design gives it
    """The time breaks the planner's hard rules: every reason (`reasons`), in Dutch; `code` is the
    first reason's. A `DomainError`, so every edge answers it as the rules' refusal (422 with
    the reasons, the form's error beside the time). Nothing was written."""

    def __init__(self, reasons: Sequence[planning.Unplaced], *, field: str | None = None) -> None:
        self.reasons = list(reasons)
        code = self.reasons[0].code if self.reasons else "refused"
        super().__init__(code, " ".join(r.message for r in self.reasons), field=field)


@dataclass(frozen=True)
class PlanReport:
    """What `plan_open` did: the talks it planned, and why the others could not be placed."""

    planned: list[str] = field(default_factory=list)
    unplaced: list[planning.Unplaced] = field(default_factory=list)


def no_availability(school_id: str, round_key: str) -> list[planning.Availability]:
    """An `availability` for tests that want nothing published."""
    return []


def _context(actor: Actor | CommandContext) -> CommandContext:
    return actor if isinstance(actor, CommandContext) else CommandContext(actor)


class Talks:
    def __init__(
        self,
        store: EventStore,
        engine: Engine,
        clock: Clock,
        policies: PolicySource,
        availability: AvailabilityOf | None = None,
    ) -> None:
        """`availability`: the staff's published availability per school and round key; by
        default what was published on the school's `availability-<school_id>` stream."""
        self._store = store
        self._engine = engine
        self._clock = clock
        self._policies = policies
        self._decider = Decider(policies)
        self._requests = Requests(engine)
        self._unit = TalkUnit(store, clock, self._decider)
        self.availability = availability or self._published

    # -- requests ---------------------------------------------------------------------------------

    def request(
        self,
        pupil_id: str,
        kind: TalkKind,
        actor: Actor | CommandContext,
        *,
        round_name: str | None = None,
        fallback_staff: tuple[str, ...] = (),
    ) -> str:
        """Request the pupil's talk of `kind` (a round's by its name); the talk's id. Idempotent
        per pupil, kind, school year and round: asked again, the same id and nothing new. With
        the school's `separate_parents` each parent gets a talk: the first one's id."""
        ids = self.request_all(
            pupil_id, kind, actor, round_name=round_name, fallback_staff=fallback_staff
        )
        if not ids:
            raise DomainError("pupil_unknown", "deze leerling staat niet in de administratie")
        return ids[0]

    def request_all(
        self,
        pupil_id: str,
        kind: TalkKind,
        actor: Actor | CommandContext,
        *,
        round_name: str | None = None,
        deadline: date | None = None,
        fallback_staff: tuple[str, ...] = (),
    ) -> list[str]:
        """Every talk requested for the pupil (one, or one per parent); see `request`.
        `fallback_staff` attend when the school's setting finds nobody (the person planning)."""
        wanted = self._requests_for(pupil_id, kind, round_name, deadline, fallback_staff)
        for talk_id, command in wanted:
            self._request_one(talk_id, command, _context(actor))
        return [talk_id for talk_id, _ in wanted]

    def _requests_for(
        self,
        pupil_id: str,
        kind: TalkKind,
        round_name: str | None,
        deadline: date | None,
        fallback_staff: tuple[str, ...],
    ) -> list[tuple[str, RequestTalk]]:
        """The pupil's talk requests with their ids, as the school's settings say (not stored)."""
        pupil_id = str(pupil_id)
        stored = self._store.read_stream(trajectory_stream(pupil_id))
        state, heroverweging = heroverwegingen(self._opened(pupil_id, stored))
        found = self._requests.pupil(pupil_id)
        if found is None:
            return []
        school_id = state.school_id or found[0]
        year = state.school_year or SchoolYear.containing(self._clock().date())
        policy = self._policies.policy_for(school_id, year)
        generation = ""
        if kind is TalkKind.RECONSIDERATION:
            settings, round_key = policy.reconsideration_talk, RECONSIDERATION_ROUND
            generation = requests.generation(heroverweging)
            deadline = deadline or state.reconsideration_deadline
            deadline = deadline or policy.calendar(year).final_advice_deadline
        else:
            chosen = next((r for r in policy.rounds if r.name == round_name), None)
            if chosen is None:
                raise DomainError(
                    "round_unknown", f"de school heeft geen gespreksronde '{round_name}'"
                )
            settings, round_key = chosen.talk, chosen.name
            deadline = deadline or chosen.window(year).last
        commands = self._requests.build(
            pupil_id, kind, str(year), round_key, deadline, settings, groep_7_of(stored)
        )
        return [
            (
                talk_id_for(pupil_id, kind, str(year), round_key + generation, n),
                command
                if command.staff or command.staff_any
                else replace(command, staff=fallback_staff),
            )
            for n, command in enumerate(commands)
        ]

    def _request_one(self, talk_id: str, command: RequestTalk, context: CommandContext) -> None:
        stream = talk_stream(talk_id)
        try:
            with self._store.session() as session:
                if session.load([stream]).version(stream):
                    return
                now = self._clock()
                events = decide_on_talk(Talk(), command, now)
                talk = fold_talk(events)
                pupil = command.pupil_id
                new = sealing.encode(events, context.metadata(), lambda: session.pupil_key(pupil))
                session.commit(
                    UnitOfWork(
                        now,
                        [Append(stream, 0, new)],
                        outbox=OUTBOX,
                        joined=[rows.joined({talk_id: talk})],
                    )
                )
        except ConcurrencyError:
            return  # requested meanwhile by another worker: the same request

    # -- planning ---------------------------------------------------------------------------------

    def plan(
        self,
        talk_id: str,
        start: datetime,
        room: str | None,
        actor: Actor | CommandContext,
        *,
        expected_version: int | None = None,
        by_planner: bool = False,
        staff: tuple[str, ...] | None = None,
    ) -> None:
        """Plan the talk at `start` (its length from the request); `PlanningRefused` with the
        reasons when the time breaks a rule. Manual planning without published availability is
        allowed: then double booking, the latest end, the parents' unavailable times and school
        hours are still checked (`fitting`)."""
        self._place(talk_id, start, room, actor, None, expected_version, by_planner, staff, None)

    def move(
        self,
        talk_id: str,
        start: datetime,
        room: str | None,
        reason: str,
        actor: Actor | CommandContext,
        *,
        expected_version: int | None = None,
        asked_by_parents: bool = False,
        staff: tuple[str, ...] | None = None,
    ) -> None:
        """Move the planned talk to `start`, with the reason; checked as `plan`."""
        move = (reason, asked_by_parents)
        self._place(talk_id, start, room, actor, move, expected_version, False, staff, None)

    def _place(
        self,
        talk_id: str,
        start: datetime,
        room: str | None,
        actor: Actor | CommandContext,
        move: tuple[str, bool] | None,
        expected_version: int | None,
        by_planner: bool,
        staff: tuple[str, ...] | None,
        call: PupilCall | None,
    ) -> Done:
        if call is not None and call.pending is not None:
            school_id, round_key = call.pending.school_id, call.pending.round_key
        else:
            found = views.talk(self._engine, talk_id)
            if found is None:
                raise TalkNotFoundError(talk_id)
            school_id, round_key = found.school_id, found.round_key
        availability = list(self.availability(school_id, round_key))
        names = self.staff_names(school_id)

        def decide(talk: Talk, now: datetime, session: Session) -> list[Event]:
            request = fitting.request_of(talk_id, talk, now)
            if staff is not None:
                request = _with_staff(request, staff)
            driver = session.driver
            assert driver is not None  # noqa: S101 - talks live on a SQL store
            # everyone who may attend (a duo's both teachers too): their talks at other schools
            people = (*request.staff, *(p for group in request.staff_any for p in group))
            booked = rows.booked_on(driver, talk.requested.school_id, people, now)
            bookings = fitting.bookings_of([b for b in booked if b["talk_id"] != talk_id])
            reasons, placement = fitting.check(request, start, room, availability, bookings, names)
            if reasons:
                raise PlanningRefused(reasons, field=call.field if call else "start")
            end = start + request.duration
            command: TalkCommand
            if move is None:
                command = PlanTalk(
                    start=start,
                    end=end,
                    room=placement.room,
                    staff=placement.staff,
                    by_planner=by_planner,
                )
            else:
                command = MoveTalk(
                    start=start,
                    end=end,
                    room=placement.room,
                    staff=placement.staff,
                    reason=move[0],
                    asked_by_parents=move[1],
                )
            return decide_on_talk(talk, command, now)

        return self._unit.run(
            talk_id, decide, _context(actor), expected_version, exclusive=True, call=call
        )

    def plan_open(
        self, school_id: str | None, actor: Actor | CommandContext, *, talk_ids: Sequence[str] = ()
    ) -> PlanReport:
        """Let the planner place the open requests (requested, or parents asked for another
        time) of the school (every school with None; only `talk_ids` when given) against the
        published availability and the bookings already made; each placement is then planned
        (or moved) through the same checked path as a person's (`service.scheduling.autoplan`)."""
        from service.scheduling.autoplan import plan_open  # noqa: PLC0415 - it uses Talks

        return plan_open(self, school_id, actor, talk_ids=talk_ids)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def policies(self) -> PolicySource:
        return self._policies

    def conversation(
        self,
        pupil_id: str,
        command: Command,
        actor: Actor | CommandContext,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        fingerprint: str = "",
    ) -> CommandResult:
        """The heroverweging conversation as the API and the pupil page record it
        (`PlanConversation`, `MoveConversation`, `CancelConversation`, `RecordConversationHeld`,
        `RecordConversationDeclined`), through the pupil's heroverweging talk: requested when
        there is none yet (the person planning attends when the school's setting finds nobody),
        a time checked as `plan` checks it, and the trajectory's own event — exactly the one the
        command gives — in the same unit of work. If-Match (`expected_version`) and the
        Idempotency-Key are the trajectory's, as before; the answer is the trajectory's.

        With the school's `separate_parents` the command is about one parent's talk
        (`_talk_for`); once it is recorded, the other parents' talks are requested (and after
        a plan or move placed by the planner). Held or declined is then recorded on the
        trajectory only with the last open talk (`link`): before that the answer names no event."""
        pupil_id = str(pupil_id)
        context = _context(actor)
        call = PupilCall(command, expected_version, idempotency_key, fingerprint)
        replay = self._remembered(pupil_id, call)
        if replay is not None:
            return replay
        state = fold(self._trajectory_events(pupil_id))
        self._decider(state, [command], self._clock())  # the trajectory's refusals come first
        wanted = self._requests_for(
            pupil_id, TalkKind.RECONSIDERATION, None, None, (context.actor.id,)
        )
        if not wanted:
            raise DomainError("pupil_unknown", "deze leerling staat niet in de administratie")
        talk_id, request = self._talk_for(wanted, command, state)
        rest = [(other, r) for other, r in wanted if other != talk_id]
        call = replace(call, siblings=tuple(other for other, _ in rest))
        if not self._store.stream_version(talk_stream(talk_id)):
            call = replace(call, pending=request)
        done = self._conversation_step(talk_id, command, context, call)
        if rest:  # the other parents' talks (`separate_parents`), once this one is recorded
            for other, other_request in rest:
                self._request_one(other, other_request, context)
            if isinstance(command, PlanConversation | MoveConversation):
                self.plan_open(None, context, talk_ids=[other for other, _ in rest])
        if done.trajectory is not None:
            return done.trajectory
        version = self._store.stream_version(trajectory_stream(pupil_id))
        return CommandResult(version, [], [])

    def _talk_for(
        self, wanted: list[tuple[str, RequestTalk]], command: Command, state: Trajectory
    ) -> tuple[str, RequestTalk]:
        """Which of the pupil's heroverweging talks (one per parent with `separate_parents`) the
        conversation command is about: a plan the first one not planned nor settled, a move or
        cancel the one the trajectory shows (else the first planned), an outcome the open one
        planned earliest (else the first one not settled) — in the order of the parents; the
        first talk when none fits."""
        if len(wanted) == 1:
            return wanted[0]
        talks = {
            talk_id: self.load(talk_id)
            if self._store.stream_version(talk_stream(talk_id))
            else Talk()
            for talk_id, _ in wanted
        }
        fits: list[Callable[[Talk], bool]]
        if isinstance(command, PlanConversation):
            fits = [lambda t: not t.planned and not t.closed]
        elif isinstance(command, MoveConversation | CancelConversation):
            shown = state.conversation_planned_at
            fits = [lambda t: t.planned and t.start == shown, lambda t: t.planned]
        else:
            starts = [t.start for t in talks.values() if t.planned and t.start is not None]
            earliest = min(starts) if starts else None
            fits = [lambda t: t.planned and t.start == earliest, lambda t: not t.closed]
        for fit in fits:
            found = next((w for w in wanted if fit(talks[w[0]])), None)
            if found is not None:
                return found
        return wanted[0]

    def _conversation_step(
        self, talk_id: str, command: Command, context: CommandContext, call: PupilCall
    ) -> Done:
        talk = Talk() if call.pending is not None else self.load(talk_id)
        if isinstance(command, PlanConversation | MoveConversation):
            move = None
            if talk.planned:
                reason = command.reason if isinstance(command, MoveConversation) else None
                move = (reason or link.REPLANNED, False)
            start = command.planned_at
            return self._place(talk_id, start, None, context, move, None, False, None, call)
        talk_command: TalkCommand
        if isinstance(command, CancelConversation):
            talk_command = CancelTalk(reason=command.reason)
        elif isinstance(command, RecordConversationHeld):
            talk_command = HoldTalk(
                held_on=command.held_on, attendees=command.attendees, notes=command.notes
            )
        elif isinstance(command, RecordConversationDeclined):
            talk_command = DeclineTalk(parent_id=None, message=command.notes)
        else:
            raise TypeError(f"not a conversation command: {type(command).__name__}")
        return self._unit.run(
            talk_id,
            lambda t, now, _: decide_on_talk(t, talk_command, now),
            context,
            call=call,
        )

    def _remembered(self, pupil_id: str, call: PupilCall) -> CommandResult | None:
        """The answer remembered under the call's Idempotency-Key (a retried request)."""
        key = call.idempotency_key
        if not key:
            return None
        with self._store.session() as session:
            found = session.load([], [key]).remembered.get(key)
        if found is None:
            return None
        if found[0] != call.fingerprint:
            raise IdempotencyConflictError(key)
        return CommandResult.replay(found[1])

    # -- the rest of the talk's life --------------------------------------------------------------

    def cancel(
        self,
        talk_id: str,
        reason: str,
        actor: Actor | CommandContext,
        *,
        expected_version: int | None = None,
    ) -> None:
        self._decide(talk_id, CancelTalk(reason=reason), actor, expected_version)

    def hold(
        self,
        talk_id: str,
        held_on: date,
        attendees: Sequence[ConversationParty],
        notes: str | None,
        actor: Actor | CommandContext,
        *,
        expected_version: int | None = None,
    ) -> None:
        command = HoldTalk(held_on=held_on, attendees=tuple(attendees), notes=notes)
        self._decide(talk_id, command, actor, expected_version)

    def decline(self, talk_id: str, notes: str | None, actor: Actor | CommandContext) -> None:
        """The school records that the parents declined the talk."""
        self._decide(talk_id, DeclineTalk(parent_id=None, message=notes), actor)

    def parents_accept(self, talk_id: str, parent_id: str, actor: Actor | CommandContext) -> None:
        self._decide(talk_id, AcceptTalk(parent_id=parent_id), actor)

    def parents_decline(
        self, talk_id: str, parent_id: str, message: str | None, actor: Actor | CommandContext
    ) -> None:
        self._decide(talk_id, DeclineTalk(parent_id=parent_id, message=message), actor)

    def parents_other_time(
        self,
        talk_id: str,
        parent_id: str,
        message: str | None,
        unavailable: Sequence[Period],
        preferred: Sequence[Period],
        actor: Actor | CommandContext,
    ) -> None:
        command = AskOtherTime(
            parent_id=parent_id,
            message=message,
            unavailable=tuple(unavailable),
            preferred=tuple(preferred),
        )
        self._decide(talk_id, command, actor)

    def parents_view(
        self, talk_id: str, parent_id: str, text: str, actor: Actor | CommandContext
    ) -> None:
        self._decide(talk_id, GiveView(parent_id=parent_id, text=text), actor)

    def invitation_sent(
        self,
        talk_id: str,
        parent_id: str,
        kind: InvitationKind,
        actor: Actor | CommandContext,
    ) -> None:
        """Record that the invitation (update, cancellation) of the talk's current sequence went
        to the parent (the invitation handler, after sending)."""
        self._decide(talk_id, RecordInvitation(parent_id=parent_id, kind=kind), actor)

    def decide(self, talk_id: str, command: TalkCommand, actor: Actor | CommandContext) -> Talk:
        """Any talk command (reminders and escalations from the worker); the talk after it."""
        return self._decide(talk_id, command, actor)

    def _decide(
        self,
        talk_id: str,
        command: TalkCommand,
        actor: Actor | CommandContext,
        expected_version: int | None = None,
    ) -> Talk:
        done = self._unit.run(
            talk_id,
            lambda talk, now, _: decide_on_talk(talk, command, now),
            _context(actor),
            expected_version,
        )
        return done.talk

    def _published(self, school_id: str, round_key: str) -> list[planning.Availability]:
        return published.of(self._store, school_id, round_key)

    def in_reconsideration(self, pupil_id: str) -> bool:
        """Whether the pupil's heroverweging is open (a talk about it makes sense)."""
        return (
            fold(self._trajectory_events(str(pupil_id))).status is Status.RECONSIDERATION_REQUIRED
        )

    # -- reading ----------------------------------------------------------------------------------

    def load(self, talk_id: str) -> Talk:
        """The talk folded from its stream, free text opened; `TalkNotFoundError` without one."""
        stored = self._store.read_stream(talk_stream(talk_id))
        if not stored:
            raise TalkNotFoundError(talk_id)
        key = None
        if sealing.needs_key(stored):
            pupil = stored[0].data["pupil_id"]
            key = self._store.pupil_keys([pupil]).get(pupil)
        return fold_talk(sealing.open_events(stored, key))

    def history(self, talk_id: str) -> list[Event]:
        stored = self._store.read_stream(talk_stream(talk_id))
        key = None
        if stored and sealing.needs_key(stored):
            pupil = stored[0].data["pupil_id"]
            key = self._store.pupil_keys([pupil]).get(pupil)
        return sealing.open_events(stored, key)

    def staff_names(self, school_id: str) -> dict[str, str]:
        """The names of the school's staff, for the reasons a teacher reads."""
        query = (
            select(users.c.id, users.c.name)
            .join(user_schools, user_schools.c.user_id == users.c.id)
            .where(user_schools.c.school_id == school_id)
        )
        with single_statements(self._engine).connect() as conn:
            return {r.id: r.name for r in conn.execute(query).all()}

    def _trajectory_events(self, pupil_id: str) -> list[Event]:
        return self._opened(pupil_id, self._store.read_stream(trajectory_stream(pupil_id)))

    def _opened(self, pupil_id: str, stored: list[StoredEvent]) -> list[Event]:
        key = None
        if personal.needs_key(stored):
            key = self._store.pupil_keys([pupil_id]).get(pupil_id)
        return personal.open_events(stored, key)


def _with_staff(request: planning.Request, staff: tuple[str, ...]) -> planning.Request:
    """The request with who attends fixed (the planner's choice of the duo teacher)."""
    return replace(request, staff=staff, staff_any=())
