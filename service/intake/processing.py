"""Turning delivered results into the pupil's events: the heroverweging trigger.

For each pending delivery the worker finds the pupil (the LAS-key we gave the provider is our
pupil id; the pupil must be at the school the delivery was addressed to), reads the toetsadvies
and the referentieniveaus, and decides `ReceiveTestResult` in a batch (`service.advice.batch`). The
domain does the rest: a higher toetsadvies is "heroverweging required" in the same transaction,
an identical re-delivery changes nothing, a corrected one replaces the previous result.
A batch of deliveries is settled in the transaction that stores their events, so a worker that
dies half-way leaves them pending and repeats nothing. A batch that fails (not because the
database is away) is settled again one delivery at a time, so one poison delivery cannot hold
up the others; a delivery that keeps failing on its own is refused after `MAX_ATTEMPTS` with the
error as its outcome, for the school and the operators to see.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import update

from service.advice.batch import BatchItem, BatchOutcome
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container
from service.dbfaults import outage
from service.intake.inbox import (
    PENDING,
    PROCESSED,
    REFUSED,
    UNKNOWN_PUPIL,
    Delivery,
    pending_deliveries,
)
from service.schools.register import schools_of_pupils
from service.store.schema import result_deliveries
from workflows.commands import ReceiveTestResult
from workflows.errors import DomainError
from workflows.events import ReferenceLevel
from workflows.scale import parse_test_advice

log = logging.getLogger("adviestraject.intake")

MAX_ATTEMPTS = 3  # failures of one delivery on its own before it is refused


class Attempts:
    """Failed attempts per delivery id, kept by one worker process (a restart starts afresh:
    a poison delivery then costs MAX_ATTEMPTS more rounds, never a lost result)."""

    def __init__(self, on_failure: Callable[[int, Exception], None] | None = None) -> None:
        self._failed: dict[int, int] = {}
        self._on_failure = on_failure

    def failed(self, delivery_id: int, error: Exception) -> int:
        self._failed[delivery_id] = self._failed.get(delivery_id, 0) + 1
        if self._on_failure is not None:
            self._on_failure(delivery_id, error)
        return self._failed[delivery_id]

    def forget(self, delivery_id: int) -> None:
        self._failed.pop(delivery_id, None)


def process_pending(
    container: Container, limit: int = 500, *, attempts: Attempts | None = None
) -> int:
    """Settle up to `limit` pending deliveries; how many were handled (settled, or tried alone
    and failed). Database outages are raised to the caller, which waits and comes back."""
    candidates = container.inbox.pending(limit)
    if not candidates:
        return 0
    try:
        return _settle(container, candidates)
    except Exception as error:
        if outage(error) is not None:
            raise
        if len(candidates) == 1:
            return _failed_alone(container, candidates[0], error, attempts or Attempts())
        log.warning(
            "a batch of %d deliveries (ids %d-%d) failed; settling them one at a time",
            len(candidates),
            candidates[0].id,
            candidates[-1].id,
            exc_info=True,
        )
    attempts = attempts or Attempts()
    handled = 0
    for delivery in candidates:
        try:
            handled += _settle(container, [delivery])
        except Exception as error:
            if outage(error) is not None:
                raise
            handled += _failed_alone(container, delivery, error, attempts)
        else:
            attempts.forget(delivery.id)
    return handled


def _failed_alone(
    container: Container, delivery: Delivery, error: Exception, attempts: Attempts
) -> int:
    """Count a failure of `delivery` on its own; refuse it at the last attempt. Returns 1."""
    tried = attempts.failed(delivery.id, error)
    log.error(
        "delivery %d failed (attempt %d of %d)",
        delivery.id,
        tried,
        MAX_ATTEMPTS,
        exc_info=error,
        extra={"delivery_id": delivery.id},
    )
    if tried >= MAX_ATTEMPTS:
        _refuse_after_failures(container, delivery.id, error, tried)
        attempts.forget(delivery.id)
    return 1


def _refuse_after_failures(
    container: Container, delivery_id: int, error: Exception, tried: int
) -> None:
    reason = f"{type(error).__name__}: {error}".strip()[:300]
    with container.engine.begin() as conn:
        conn.execute(
            update(result_deliveries)
            .where(result_deliveries.c.id == delivery_id, result_deliveries.c.state == PENDING)
            .values(
                state=REFUSED,
                outcome=f"niet verwerkt door een technische fout ({tried} pogingen): {reason}",
                processed_at=container.clock(),
            )
        )
    log.error("delivery %d refused after %d failed attempts: %s", delivery_id, tried, reason)


def _settle(container: Container, candidates: list[Delivery]) -> int:
    """Settle `candidates` in one transaction; how many were settled.

    The log is locked, the deliveries still pending are re-read under the lock (two workers never
    settle one twice), every pupil's stream is read in one statement, and the events, read-model
    rows and the deliveries' new states are committed together: a delivery is `processed` exactly
    when its events are stored.
    """
    with container.trajectories.batch() as batch:
        io = batch.io
        still = pending_deliveries(io, [d.id for d in candidates])
        deliveries = [d for d in candidates if d.id in still]
        schools = schools_of_pupils(io, _uuids(d.pupil_ref for d in deliveries))
        settled: dict[int, tuple[str, str, str | None]] = {}
        items: list[BatchItem] = []
        for delivery in deliveries:
            planned = _plan(delivery, schools)
            if isinstance(planned, BatchItem):
                items.append(planned)
            else:
                settled[delivery.id] = planned
        for item, outcome in zip(items, batch.execute(items), strict=True):
            delivery_id = int(str(item.context.extra["delivery"]))
            settled[delivery_id] = _settled(outcome, str(item.pupil_id))
        now = io.time_in(batch.now)
        io.run_many(
            "UPDATE result_deliveries SET state = ?, outcome = ?, pupil_id = ?, processed_at = ? "
            "WHERE id = ?",
            [(st, outcome, pupil, now, d) for d, (st, outcome, pupil) in settled.items()],
        )
    return len(settled)


def _uuids(refs: Iterable[str]) -> list[str]:
    ids = []
    for ref in refs:
        try:
            ids.append(str(uuid.UUID(ref)))
        except ValueError:
            continue
    return ids


def _plan(delivery: Delivery, schools: dict[str, str]) -> BatchItem | tuple[str, str, str | None]:
    """The command a delivery asks for, or its final state when there is nothing to decide."""
    try:
        pupil = str(uuid.UUID(delivery.pupil_ref))
    except ValueError:
        pupil = ""
    if schools.get(pupil) != delivery.school_id:
        return (
            UNKNOWN_PUPIL,
            f"geen leerling met LAS-key {delivery.pupil_ref!r} op deze school",
            None,
        )
    scores: dict[str, Any] = delivery.message["resultatenscores"]
    results = scores["resultaten"]["resultaten"]
    advice_texts = [
        r["waarde"] for r in results if r["label"] == "Toetsadvies" and not r.get("toetseenheid")
    ]
    if not advice_texts:
        return REFUSED, "de levering bevat geen toetsadvies voor de hele toets", pupil
    try:
        test_advice = parse_test_advice(advice_texts[0])
    except DomainError as error:
        return REFUSED, error.message, pupil
    levels = tuple(
        ReferenceLevel(domain=r["toetseenheid"].lower(), level=r["waarde"])
        for r in results
        if r["label"] == "Referentieniveau" and r.get("toetseenheid")
    )
    command = ReceiveTestResult(
        provider=scores["toetsdefinitie"],
        # the standard does not forbid an empty id; then the content names the delivery, so
        # an identical re-delivery is still recognised as one
        delivery_id=str(scores["id"]).strip() or "inhoud-" + delivery.payload_hash[:16],
        test_advice=test_advice,
        received_on=delivery.received_at.date(),
        reference_levels=levels,
    )
    context = CommandContext(
        actor=Actor(delivery.sender, "toetsaanbieder"), extra={"delivery": delivery.id}
    )
    return BatchItem(uuid.UUID(pupil), [command], context)


# what a delivery's events mean, for the school's list of deliveries (Dutch)
OUTCOME_LABELS = {
    "test_result_received": "toetsuitslag vastgelegd",
    "reconsideration_required": "heroverweging nodig",
    "reconsideration_lapsed": "heroverweging vervallen (gecorrigeerde uitslag)",
    "result_review_required": "uitslag beoordelen",
    "final_advice_given": "definitief advies vastgesteld",
    "automatic_final_advice_withdrawn": "automatisch definitief advies ingetrokken",
}


def _settled(outcome: BatchOutcome, pupil: str) -> tuple[str, str, str | None]:
    if outcome.error is not None:
        message = getattr(outcome.error, "message", str(outcome.error))
        return REFUSED, message, pupil
    if not outcome.event_types:
        return PROCESSED, "dezelfde uitslag als eerder geleverd: niets veranderd", pupil
    said = [OUTCOME_LABELS.get(t, t) for t in outcome.event_types]
    return PROCESSED, "verwerkt: " + ", ".join(said), pupil
