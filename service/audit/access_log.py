"""The access log: every read of a pupil's data, with who, when, what and the request id.

Parents may ask who looked at their child's dossier; directie audits it. The log is written in
its own short transaction before the data is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select

from service.accounts.roles import Principal
from service.store.engine import single_statements
from service.store.schema import access_log, users


def record_reads(
    engine: Engine,
    who: Principal,
    pupil_ids: Sequence[str],
    what: str,
    at: datetime,
    request_id: str | None = None,
) -> None:
    """One row per pupil whose data was shown (an overview shows many at once)."""
    if not pupil_ids:
        return
    rows = [
        {
            "at": at,
            "user_id": who.user_id,
            "role": who.role.value,
            "pupil_id": pupil_id,
            "what": what,
            "request_id": request_id,
        }
        for pupil_id in pupil_ids
    ]
    # executemany: SQLAlchemy sends it as multi-row INSERTs from one cached compilation (a
    # `.values([...])` statement is compiled anew each time: 4x slower for a page of 50).
    # Autocommit on PostgreSQL: the rows are independent facts, and it saves two round trips.
    with single_statements(engine).begin() as conn:
        conn.execute(insert(access_log), rows)


def reads_of(engine: Engine, pupil_id: str) -> list[tuple[datetime, str, str, str]]:
    """(when, user id, role, what) for every recorded read of a pupil, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(access_log.c.at, access_log.c.user_id, access_log.c.role, access_log.c.what)
            .where(access_log.c.pupil_id == pupil_id)
            .order_by(access_log.c.id)
        ).all()
    return [(r.at, r.user_id, r.role, r.what) for r in rows]


@dataclass(frozen=True)
class Read:
    id: int
    at: datetime
    user_id: str
    user_name: str
    user_email: str
    role: str
    what: str
    request_id: str | None


def reads_page(engine: Engine, pupil_id: str, after: int, limit: int) -> list[Read]:
    """The reads of a pupil's data after log id `after`, oldest first, with who read."""
    with single_statements(engine).connect() as conn:
        rows = conn.execute(
            select(access_log, users.c.name, users.c.email)
            .outerjoin(users, users.c.id == access_log.c.user_id)
            .where(access_log.c.pupil_id == pupil_id, access_log.c.id > after)
            .order_by(access_log.c.id)
            .limit(limit)
        ).all()
    return [
        Read(r.id, r.at, r.user_id, r.name or "", r.email or "", r.role, r.what, r.request_id)
        for r in rows
    ]
