"""Turning delivered results into the pupil's events: the heroverweging trigger.

For each pending delivery the worker finds the pupil (the LAS-key we gave the provider is our
pupil id; the pupil must be at the school the delivery was addressed to), reads the toetsadvies
and the referentieniveaus, and runs `ReceiveTestResult` through the one command handler. The
domain does the rest: a higher toetsadvies is "heroverweging required" in the same transaction,
an identical re-delivery changes nothing, a corrected one replaces the previous result.
The idempotency key is the delivery's id, so a worker that dies half-way repeats nothing.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container
from service.intake.inbox import PROCESSED, REFUSED, UNKNOWN_PUPIL, Delivery
from service.store.events import ConcurrencyError
from workflows.commands import ReceiveTestResult
from workflows.errors import DomainError
from workflows.events import ReferenceLevel
from workflows.scale import parse_test_advice

log = logging.getLogger("adviestraject.intake")


def process_pending(container: Container, limit: int = 500) -> int:
    """Settle up to `limit` pending deliveries; how many were settled."""
    settled = 0
    inbox = container.inbox
    for delivery in inbox.pending(limit):
        try:
            state, outcome, pupil_id = _process(container, delivery)
        except ConcurrencyError:
            continue  # a teacher wrote at the same moment: the next round tries again
        inbox.settle(delivery.id, state, outcome, pupil_id)
        settled += 1
    return settled


def _process(container: Container, delivery: Delivery) -> tuple[str, str, str | None]:
    pupil = _pupil(container, delivery)
    if pupil is None:
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
    try:
        result = container.trajectories.execute(
            uuid.UUID(pupil), command, context, idempotency_key=f"delivery-{delivery.id}"
        )
    except DomainError as error:
        return REFUSED, error.message, pupil
    if not result.event_types:
        return PROCESSED, "dezelfde uitslag als eerder geleverd: niets veranderd", pupil
    return PROCESSED, "verwerkt: " + ", ".join(result.event_types), pupil


def _pupil(container: Container, delivery: Delivery) -> str | None:
    try:
        pupil_id = str(uuid.UUID(delivery.pupil_ref))
    except ValueError:
        return None
    pupil = container.register.pupil(pupil_id)
    if pupil is None or pupil.school_id != delivery.school_id:
        return None
    return pupil_id
