"""Turning delivered results into the pupil's events: the heroverweging trigger.

For each pending delivery the worker finds the pupil (the LAS-key we gave the provider is our
pupil id; the pupil must be at the school the delivery was addressed to), reads the toetsadvies
and the referentieniveaus, and decides `ReceiveTestResult` in a batch (`service.advice.batch`). The
domain does the rest: a higher toetsadvies is "heroverweging required" in the same transaction,
an identical re-delivery changes nothing, a corrected one replaces the previous result.
A batch of deliveries is settled in the transaction that stores their events, so a worker that
dies half-way leaves them pending and repeats nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from service.advice.batch import BatchItem, BatchOutcome
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container
from service.intake.inbox import PROCESSED, REFUSED, UNKNOWN_PUPIL, Delivery
from workflows.commands import ReceiveTestResult
from workflows.errors import DomainError
from workflows.events import ReferenceLevel
from workflows.scale import parse_test_advice


def process_pending(container: Container, limit: int = 500) -> int:
    """Settle up to `limit` pending deliveries in one transaction; how many were settled.

    The log is locked, the deliveries still pending are re-read under the lock (two workers never
    settle one twice), every pupil's stream is read in one statement, and the events, read-model
    rows and the deliveries' new states are committed together: a delivery is `processed` exactly
    when its events are stored.
    """
    candidates = container.inbox.pending(limit)
    if not candidates:
        return 0
    with container.trajectories.batch() as batch:
        io = batch.io
        still = io.pending_deliveries([d.id for d in candidates])
        deliveries = [d for d in candidates if d.id in still]
        schools = io.schools_of_pupils(_uuids(d.pupil_ref for d in deliveries))
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
}


def _settled(outcome: BatchOutcome, pupil: str) -> tuple[str, str, str | None]:
    if outcome.error is not None:
        message = getattr(outcome.error, "message", str(outcome.error))
        return REFUSED, message, pupil
    if not outcome.event_types:
        return PROCESSED, "dezelfde uitslag als eerder geleverd: niets veranderd", pupil
    said = [OUTCOME_LABELS.get(t, t) for t in outcome.event_types]
    return PROCESSED, "verwerkt: " + ", ".join(said), pupil
