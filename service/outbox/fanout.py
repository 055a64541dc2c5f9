"""One message's fan-out into per-recipient outbox messages, written once however often it runs.

A notice or an e-mail to several people goes in two steps: the event's message writes one
message per person on a follow-up topic, and each of those sends one e-mail. `insert_once`
writes the follow-up messages in one transaction, keyed on the event (its position and stream)
and the topic: a second run (a message tried again, or two workers holding it after an expired
lease; on PostgreSQL they take turns on the message's row) finds them there and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from service.outbox.outbox import Message
from service.store.schema import outbox


def insert_once(
    engine: Engine,
    message: Message,
    topic: str,
    payloads: Sequence[dict[str, Any]],
    now: datetime,
) -> bool:
    """Write `payloads` as messages of `topic` for `message`'s event, unless they exist; True
    when they were written now."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # two workers that both hold the message (an expired lease) fan out one at a time
            conn.execute(select(outbox.c.id).where(outbox.c.id == message.id).with_for_update())
        done = conn.execute(
            select(outbox.c.id).where(
                outbox.c.topic == topic,
                outbox.c.position == message.position,
                outbox.c.stream_id == message.stream_id,
            )
        ).first()
        if done is not None:
            return False
        conn.execute(
            insert(outbox),
            [
                {
                    "position": message.position,
                    "stream_id": message.stream_id,
                    "topic": topic,
                    "payload": payload,
                    "created_at": now,
                    "available_at": now,
                    "attempts": 0,
                }
                for payload in payloads
            ],
        )
    return True
