"""The outbox: messages written in the append's transaction and delivered at least once.

The store writes the rows (`insert_rows`, for the events `ROUTES` names) inside the commit of their
events, so a message exists exactly when its event does. `OutboxWorker`
claims a batch under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share the
queue without taking the same message; SQLite serialises writers anyway), runs each message's
handler, and marks it done. A worker that dies mid-batch leaves its claims to expire; another worker
takes them again, so handlers must be idempotent (they key their effect on the message id). A
failing handler is retried with exponential backoff; after `max_attempts` the message is marked
failed with its last error, visible to operators and never silently dropped. A failing message
never blocks the others: its next attempt waits until `available_at` while the queue goes on.
When the database itself is away the error goes up to the worker loop instead, which waits and
tries again: an outage does not use up a message's attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from service.dbfaults import outage
from service.shared.delivery import GiveUpError
from service.store.driver import Driver
from service.store.port import Outbox
from service.store.schema import outbox

__all__ = ["GiveUpError"]

log = logging.getLogger("adviestraject.outbox")

# Which facts need something to happen outside the log, under which topic.
ROUTES: dict[str, str] = {
    "reconsideration_required": "notify_reconsideration_required",
    # a groep 8 pupil is registered with the school's test provider (Deelnemerslijst) ...
    "pupil_enrolled": "chain_participant",
    "pupil_entered_groep_8": "chain_participant",
    # ... and the voorlopig advies follows (Schooladviezenlijst)
    "provisional_advice_given": "chain_provisional_advice",
    "provisional_advice_corrected": "chain_provisional_advice",
    # a talk with parents (service/scheduling): the invitation, its update or its cancellation
    # to the parents (iMIP), the reminder, and the warning to directie
    "talk_planned": "talk_invitation",
    "talk_moved": "talk_invitation",
    "talk_cancelled": "talk_invitation",
    "talk_reminder_sent": "talk_reminder",
    "talk_escalated": "talk_escalation",
    # a heroverweging that lapsed, or a pupil who left: the open talks are cancelled
    "reconsideration_lapsed": "talks_cancelled_by_trajectory",
    "pupil_left_school": "talks_cancelled_by_trajectory",
}


@dataclass(frozen=True)
class Message:
    id: int
    position: int
    stream_id: str
    topic: str
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[Message], None]


def insert_rows(driver: Driver, rows: list[dict[str, Any]]) -> None:
    """The outbox's own insert, run by the store inside a unit of work."""
    driver.run_many(
        "INSERT INTO outbox (position, stream_id, topic, payload, created_at, available_at, "
        "attempts) VALUES (?, ?, ?, ?, ?, ?, 0)",
        [
            (
                r["position"],
                r["stream_id"],
                r["topic"],
                driver.json_in(r["payload"]),
                driver.time_in(r["created_at"]),
                driver.time_in(r["available_at"]),
            )
            for r in rows
        ],
    )


OUTBOX = Outbox(ROUTES, insert_rows)


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    done: int
    failed: int


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        handlers: Mapping[str, Handler],
        clock: Callable[[], datetime],
        *,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        backoff: timedelta = timedelta(seconds=5),
    ) -> None:
        self._engine = engine
        self._handlers = handlers
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._on_failure: Callable[[Message, Exception], None] | None = None

    def report_failures_to(self, callback: Callable[[Message, Exception], None]) -> None:
        """Tell `callback` of every failed attempt (the worker's status board)."""
        self._on_failure = callback

    def claim(self, limit: int) -> list[Message]:
        now = self._clock()
        ready = and_(
            outbox.c.done_at.is_(None),
            outbox.c.failed_at.is_(None),
            outbox.c.available_at <= now,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        query = select(outbox).where(ready).order_by(outbox.c.id).limit(limit)
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([r.id for r in rows]))
                    .values(claimed_until=now + self._lease)
                )
        return [
            Message(r.id, r.position, r.stream_id, r.topic, r.payload, r.attempts) for r in rows
        ]

    def run_once(self, limit: int = 20) -> int:
        """Claim and handle one batch; the number of messages handled (successfully or not)."""
        messages = self.claim(limit)
        for message in messages:
            self._handle(message)
        return len(messages)

    def _handle(self, message: Message) -> None:
        handler = self._handlers.get(message.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for topic {message.topic!r}")
            handler(message)
        except Exception as error:
            if outage(error) is not None:
                raise  # not the message's fault; its claim expires and it is tried again
            self._failed(message, error)
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == message.id)
                .values(done_at=self._clock(), claimed_until=None)
            )

    def _failed(self, message: Message, error: Exception) -> None:
        attempts = message.attempts + 1
        now = self._clock()
        values: dict[str, Any] = {
            "attempts": attempts,
            "claimed_until": None,
            "last_error": f"{type(error).__name__}: {error}"[:2000],
            "available_at": now + self._backoff * (2 ** (attempts - 1)),
        }
        where = {"message_id": message.id, "topic": message.topic}
        if attempts >= self._max_attempts or isinstance(error, GiveUpError):
            values["failed_at"] = now
            log.error(
                "outbox message %s (%s) failed for good after %s attempts: %s",
                message.id,
                message.topic,
                attempts,
                error,
                exc_info=error,
                extra=where,
            )
        else:
            log.warning(
                "outbox message %s (%s) failed, attempt %s of %s, next at %s: %s",
                message.id,
                message.topic,
                attempts,
                self._max_attempts,
                values["available_at"].isoformat(timespec="seconds"),
                error,
                exc_info=error,
                extra=where,
            )
        if self._on_failure is not None:
            self._on_failure(message, error)
        with self._engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message.id).values(**values))

    def failed(self) -> list[tuple[int, str, int, str]]:
        """Messages that failed for good: id, topic, attempts, last error."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.attempts, outbox.c.last_error)
                .where(outbox.c.failed_at.is_not(None))
                .order_by(outbox.c.id)
            ).all()
        return [(r.id, r.topic, r.attempts, r.last_error or "") for r in rows]

    def retry_failed(self) -> int:
        """Give failed messages a fresh set of attempts (after the cause was fixed)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.failed_at.is_not(None))
                .values(failed_at=None, attempts=0, available_at=self._clock(), claimed_until=None)
            )
            return int(result.rowcount)

    def status(self) -> OutboxStatus:
        with self._engine.connect() as conn:

            def count(*where: Any) -> int:
                value: int = conn.execute(
                    select(func.count()).select_from(outbox).where(*where)
                ).scalar_one()
                return value

            return OutboxStatus(
                pending=count(outbox.c.done_at.is_(None), outbox.c.failed_at.is_(None)),
                done=count(outbox.c.done_at.is_not(None)),
                failed=count(outbox.c.failed_at.is_not(None)),
            )
