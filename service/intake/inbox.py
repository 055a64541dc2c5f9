"""The inbox of result deliveries: every Leerlingresultaat as received, and what became of it.

A delivery is committed before the provider hears 202 (durable), then waits as `pending` until
the worker has turned it into domain events. Its final state says what happened: `processed`
(the pupil's trajectory has the result, or already had this very result), `unknown_pupil` (no
such pupil at this school: kept for the school to resolve) or `refused` (the domain said no, e.g.
no voorlopig advies yet, or a toetsadvies that cannot be mapped). Nothing is deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from service.store.driver import Driver
from service.store.engine import single_statements
from service.store.hashing import canonical, parse
from service.store.schema import result_deliveries

PENDING, PROCESSED, UNKNOWN_PUPIL, REFUSED = "pending", "processed", "unknown_pupil", "refused"


@dataclass(frozen=True)
class Delivery:
    id: int
    received_at: datetime
    school_id: str
    sender: str
    provider: str
    pupil_ref: str
    message: dict[str, Any]
    payload_hash: str
    state: str
    outcome: str | None
    pupil_id: str | None


class Inbox:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def accept(self, school_id: str, sender: str, message: dict[str, Any]) -> int:
        """Store a validated Leerlingresultaat; committed when this returns."""
        text = canonical(message)
        scores = message["resultatenscores"]
        refs = scores["deelnemerref"]
        by_kind = {ref["label"]: ref["onderwijsdeelnemerID"] for ref in refs}
        # one INSERT, committed on its own (autocommit on PostgreSQL) before the 202
        with single_statements(self._engine).begin() as conn:
            delivery_id: int = conn.execute(
                insert(result_deliveries)
                .values(
                    received_at=self._clock(),
                    school_id=school_id,
                    sender=sender,
                    provider=scores["toetsdefinitie"],
                    pupil_ref=(by_kind.get("LAS-key") or by_kind.get("ECK-iD") or "")[:256],
                    payload=text,
                    payload_hash=hashlib.sha256(text.encode()).hexdigest(),
                    state=PENDING,
                )
                .returning(result_deliveries.c.id)
            ).scalar_one()
        return delivery_id

    def pending(self, limit: int = 500) -> list[Delivery]:
        return self._select(result_deliveries.c.state == PENDING, limit)

    def of_school(
        self, school_id: str, *, state: str | None = None, limit: int = 1000
    ) -> list[Delivery]:
        """The school's newest `limit` deliveries, oldest first."""
        where = result_deliveries.c.school_id == school_id
        if state is not None:
            where = where & (result_deliveries.c.state == state)
        return self._select(where, limit, newest=True)

    def _select(self, where: Any, limit: int, *, newest: bool = False) -> list[Delivery]:
        order = result_deliveries.c.id.desc() if newest else result_deliveries.c.id
        with self._engine.connect() as conn:
            query = select(result_deliveries).where(where).order_by(order).limit(limit)
            rows = list(conn.execute(query).all())
        if newest:
            rows.reverse()
        return [
            Delivery(
                id=r.id,
                received_at=r.received_at,
                school_id=r.school_id,
                sender=r.sender,
                provider=r.provider,
                pupil_ref=r.pupil_ref,
                message=parse(r.payload),
                payload_hash=r.payload_hash,
                state=r.state,
                outcome=r.outcome,
                pupil_id=r.pupil_id,
            )
            for r in rows
        ]


def pending_deliveries(driver: Driver, delivery_ids: list[int]) -> set[int]:
    """Which of these deliveries are still pending (re-read under the worker's lock)."""
    where, ids = driver.any_of("id", delivery_ids)
    rows = driver.all(
        f"SELECT id FROM result_deliveries WHERE {where} AND state = 'pending'",  # noqa: S608
        (ids,),
    )
    return {int(r[0]) for r in rows}
