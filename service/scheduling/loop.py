"""The worker's round over the talks (`Loop("talks", ...)` in `service.worker`).

Every round, with the injected clock:
1. **Plan** the open requests (requested, or parents asked another time) per school and round,
   when something the planner sees changed since its last try in this process (new availability
   published, a request or booking more or less): `Talks.plan_open`.
2. **Escalate** (`TalkEscalated`, once per cause per talk; the event's outbox message warns the
   school's directie, `service.scheduling.escalation`) when
   - `no_slot_before_deadline`: the planner cannot place the talk before its latest end although
     everyone who must attend published availability, or no time is left before it at all;
   - `no_proposal_in_time`: a working day after the request no time was proposed;
   - `no_answer`: the parents did not answer a proposal within the setting's
     `answer_within_days`.
3. **Remind** (`ReminderSent`, once per invitation sequence; topic `talk_reminder`) the
   setting's `reminder_days_before` days before a proposed or accepted talk — not when the
   invitation itself went out within those days (it would arrive with the invitation).
A talk that changed meanwhile refuses the step (a `DomainError`): it is left for the next round.
The round's answer is how much it did, so the worker waits only after a round with nothing.

Incremental (`service.scheduling.following`): the first round of a process reads every
unsettled talk once; after that a round reads only what the log says changed since the round
before (the talks, and the schools whose availability or settings changed), re-plans only those
schools, and looks only at the talks whose next moment (`_look_at`: the earliest a reminder or
escalation can fall due, from the same conditions as `_due`) has come. An idle round is one
read of the log's positions. A round that fails forgets all this and starts over as after a
restart; the steps themselves are idempotent (once per cause, once per sequence).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.scheduling import following, views
from service.scheduling.manager import PLANNER
from service.scheduling.requests import working_days_after
from service.scheduling.talks import Talks
from service.shared.context import CommandContext
from workflows import planning
from workflows.calendar import SchoolYear
from workflows.conversations import EscalateTalk, SendReminder, TalkCommand, TalkKind, TalkStatus
from workflows.errors import DomainError
from workflows.policy import TalkSettings

log = logging.getLogger("adviestraject.scheduling")

IDLE = 30.0  # seconds the worker waits after a round that did nothing
NO_SLOT = "no_slot_before_deadline"
NO_PROPOSAL = "no_proposal_in_time"
NO_ANSWER = "no_answer"


@dataclass
class TalkRounds:
    talks: Talks
    _tried: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _followed: int | None = None
    """The log position the last round read up to; None before the first round."""
    _watch: following.Watch = field(default_factory=following.Watch, repr=False)

    @property
    def _context(self) -> CommandContext:
        return CommandContext(PLANNER)

    def __call__(self) -> int:
        try:
            return self._round()
        except BaseException:
            self._followed, self._watch = None, following.Watch()  # start over next round
            raise

    def _round(self) -> int:
        engine = self.talks.engine
        if self._followed is None:
            head = following.head(engine)
            done = self._plan(None)
            now = self.talks.clock()
            self._watch = following.Watch()
            loaded = self._follow(views.unsettled(engine), now)
        else:
            changed = following.changes(engine, self._followed)
            head = changed.head
            schools = changed.availability | {
                r.school_id for r in following.rows(engine, changed.talk_ids)
            }
            done = self._plan(schools) if schools else 0
            now = self.talks.clock()
            for school in sorted(changed.settings):
                _refresh(self.talks.policies, school)
            again = changed.talk_ids | {
                t for school in changed.settings for t in self._watch.of_school(school)
            }
            for talk_id in changed.talk_ids:
                self._watch.drop(talk_id)  # settled ones are not read back
            loaded = self._follow(following.rows(engine, again), now)
        due = self._watch.due(now)
        rows = [loaded[t] for t in due if t in loaded]
        rows += following.rows(engine, [t for t in due if t not in loaded])
        for row in sorted(rows, key=lambda r: (r.school_id, r.requested_on, r.talk_id)):
            settings = self._settings(row)
            for command in _due(row, settings, now):
                done += self._decide(row, command)
            self._watch.put(row.talk_id, row.school_id, _look_at(row, settings, now))
        self._followed = head
        return done

    def _follow(self, rows: Iterable[views.TalkRow], now: datetime) -> dict[str, views.TalkRow]:
        """Watch these (fresh) rows: the unsettled ones by their next moment; the rows by id."""
        found = {}
        for row in rows:
            if row.status not in views.UNSETTLED:
                self._watch.drop(row.talk_id)
                continue
            found[row.talk_id] = row
            self._watch.put(row.talk_id, row.school_id, _look_at(row, self._settings(row), now))
        return found

    # -- planning ---------------------------------------------------------------------------------

    def _plan(self, schools: set[str] | None) -> int:
        """Plan the open requests of these schools (every school with None)."""
        engine, now = self.talks.engine, self.talks.clock()
        found = (
            views.open_requests(engine) if schools is None else following.open_in(engine, schools)
        )
        groups: dict[tuple[str, str], list[views.TalkRow]] = {}
        for row in found:
            groups.setdefault((row.school_id, row.round_key), []).append(row)
        done = 0
        for (school, round_key), members in groups.items():
            availability = list(self.talks.availability(school, round_key))
            booked = views.booked(engine, school, now)
            seen = hash(
                (
                    tuple(availability),
                    tuple((m.talk_id, m.version) for m in members),
                    tuple((b.talk_id, b.version) for b in booked),
                )
            )
            if self._tried.get((school, round_key)) == seen:
                continue
            self._tried[(school, round_key)] = seen
            report = self.talks.plan_open(
                school, self._context, talk_ids=[m.talk_id for m in members]
            )
            done += len(report.planned)
            if availability:
                published = {a.person for a in availability if a.windows}
                done += self._no_slot(members, report.unplaced, published)
        return done

    def _no_slot(
        self,
        members: list[views.TalkRow],
        unplaced: list[planning.Unplaced],
        published: set[str],
    ) -> int:
        """Escalate the talks the planner cannot place although everyone who must attend has
        published (someone who has not yet may still publish: `no_proposal_in_time` covers
        that after a working day)."""
        by_id = {m.talk_id: m for m in members}
        done = 0
        for reason in unplaced:
            row = by_id.get(reason.request_id)
            if row is None or NO_SLOT in row.escalations:
                continue
            everyone = all(p in published for p in row.requested_staff) and all(
                published & set(group) for group in row.requested_staff_any
            )
            if everyone:
                done += self._decide(row, EscalateTalk(code=NO_SLOT, message=reason.message))
        return done

    # -- one talk ---------------------------------------------------------------------------------

    def _settings(self, row: views.TalkRow) -> TalkSettings:
        policy = self.talks.policies.policy_for(row.school_id, SchoolYear.parse(row.school_year))
        if row.kind is TalkKind.RECONSIDERATION:
            return policy.reconsideration_talk
        chosen = next((r for r in policy.rounds if r.name == row.round_key), None)
        return chosen.talk if chosen is not None else TalkSettings()

    def _decide(self, row: views.TalkRow, command: TalkCommand) -> int:
        try:
            after = self.talks.decide(row.talk_id, command, self._context)
        except DomainError as error:  # changed meanwhile: the next round sees it as it is now
            log.info("talk %s: %s left for the next round (%s)", row.talk_id, command, error.code)
            return 0
        return 1 if after.version > row.version else 0


def _due(row: views.TalkRow, settings: TalkSettings, now: datetime) -> list[TalkCommand]:
    """What the talk needs now: escalations not yet made, and its reminder."""
    due: list[TalkCommand] = []

    def escalate(code: str, message: str) -> None:
        if code not in row.escalations:
            due.append(EscalateTalk(code=code, message=message))

    minutes = timedelta(minutes=row.minutes)
    if row.status in views.OPEN and now + minutes > row.latest_end:
        escalate(NO_SLOT, "Er is geen tijd meer om het gesprek vóór de uiterste datum te voeren.")
    if row.status is TalkStatus.REQUESTED and now >= working_days_after(row.requested_on, 1):
        escalate(
            NO_PROPOSAL,
            "Binnen een werkdag na de aanvraag kon geen tijd worden voorgesteld"
            + (f": {row.at_risk_reason}" if row.at_risk_reason else "")
            + ". Is er genoeg beschikbaarheid gepubliceerd?",
        )
    waited = timedelta(days=settings.answer_within_days)
    if (
        row.status is TalkStatus.PROPOSED
        and row.proposed_on is not None
        and row.start is not None
        and now >= row.proposed_on + waited
        and now < row.start
    ):
        escalate(
            NO_ANSWER,
            f"De ouders hebben {settings.answer_within_days} dagen na de uitnodiging nog niet "
            "gereageerd.",
        )
    before = timedelta(days=settings.reminder_days_before)
    if (
        row.status in (TalkStatus.PROPOSED, TalkStatus.ACCEPTED)
        and row.start is not None
        and not row.reminded
        and row.start - before <= now < row.start
        # an invitation sent inside the reminder's days is its own reminder: no second e-mail
        and (row.proposed_on is None or row.proposed_on < row.start - before)
    ):
        due.append(SendReminder())
    return due


def talk_rounds(talks: Talks) -> Callable[[], int]:
    """The loop's step: one round over the talks (keeps what the planner last tried)."""
    return TalkRounds(talks)


def _look_at(row: views.TalkRow, settings: TalkSettings, now: datetime) -> datetime | None:
    """The earliest moment `_due` can ask something of the talk, from its conditions as moments
    (each cause from when it holds until when it no longer can: `now < start`); `now` or
    earlier when something is due; None when nothing is left to wait for."""
    windows: list[tuple[datetime, datetime | None]] = []
    if row.status in views.OPEN and NO_SLOT not in row.escalations:
        windows.append((row.latest_end - timedelta(minutes=row.minutes), None))
    if row.status is TalkStatus.REQUESTED and NO_PROPOSAL not in row.escalations:
        windows.append((working_days_after(row.requested_on, 1), None))
    if (
        row.status is TalkStatus.PROPOSED
        and NO_ANSWER not in row.escalations
        and row.proposed_on is not None
        and row.start is not None
    ):
        windows.append((row.proposed_on + timedelta(days=settings.answer_within_days), row.start))
    before = timedelta(days=settings.reminder_days_before)
    if (
        row.status in (TalkStatus.PROPOSED, TalkStatus.ACCEPTED)
        and row.start is not None
        and not row.reminded
        and (row.proposed_on is None or row.proposed_on < row.start - before)
    ):
        windows.append((row.start - before, row.start))
    moments = [f for f, until in windows if until is None or (now < until and f < until)]
    return min(moments, default=None)


def _refresh(policies: object, school_id: str) -> None:
    """Read the school's settings again now (they changed in the log): `SchoolPolicies` would
    otherwise trust its cached entry for a few seconds more."""
    settings = getattr(policies, "settings", None)
    if callable(settings):
        settings(school_id, fresh=True)
