"""Integrity as routine: every full check of the hash chain is stored, and every page, report,
export and PDF shows the last one ("Keten geverifieerd tot en met positie N op …", or that the
chain is broken at position N).

`check_now(container)` runs `verify` (with the anchors of the anchor file, when there is one)
and stores the result in `integrity_checks`; the worker does so daily (`check_if_due`), and
`adviestraject verify` stores what it found too (`record`). `status(engine)` reads the last
stored check with one indexed SELECT. A check that read no anchor file on purpose
(`verify --no-anchor`) is stored as not full: it can show a chain as broken, never clear one —
a broken chain stays broken until a later full check passes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, or_, select
from sqlalchemy.engine import Row

from service.audit.anchors import Anchor, Log, anchor_file
from service.audit.verify import VerifyReport, verify
from service.settings import Settings
from service.store.engine import single_statements
from service.store.schema import integrity_checks

log = logging.getLogger("adviestraject.integrity")

DAILY = timedelta(hours=24)
_DUTCH = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class IntegrityStatus:
    """The chain's status as the last stored check found it.

    `ok` is False only when a check found the chain broken; before any check it is True with
    `checked_at` None (`checked` False), and the pages say the chain is not yet checked."""

    ok: bool
    verified_to: int
    checked_at: datetime | None
    first_bad_position: int | None
    message: str

    @property
    def checked(self) -> bool:
        return self.checked_at is not None

    @property
    def broken(self) -> bool:
        return not self.ok

    @property
    def summary(self) -> str:
        """The status in plain Dutch for a teacher; `message` keeps the technical line (chain,
        position) for the privacy officer, the exports and the PDF."""
        if self.checked_at is None:
            return "De geschiedenis is nog niet gecontroleerd."
        if self.ok:
            return f"Geschiedenis gecontroleerd op {_when(self.checked_at)}: ongewijzigd."
        return (
            f"Bij de controle op {_when(self.checked_at)} bleek de geschiedenis achteraf "
            "gewijzigd: wat hier staat, kan niet als bewijs gelden."
        )


UNCHECKED_MESSAGE = "De keten is nog niet gecontroleerd."


def _when(moment: datetime) -> str:
    return moment.astimezone(_DUTCH).strftime("%d-%m-%Y om %H:%M")


def _status(row: Row[Any] | None) -> IntegrityStatus:
    if row is None:
        return IntegrityStatus(True, 0, None, None, UNCHECKED_MESSAGE)
    if row.ok:
        message = (
            f"Keten geverifieerd tot en met positie {row.verified_to} op {_when(row.checked_at)}"
        )
        return IntegrityStatus(True, row.verified_to, row.checked_at, None, message)
    message = (
        f"De keten is verbroken bij positie {row.first_bad_position} — een vastgelegd feit is "
        "achteraf gewijzigd, verwijderd of ingevoegd; wat vanaf daar getoond wordt, kan niet als "
        f"bewijs gelden. Vastgesteld op {_when(row.checked_at)}; de beheerder is gewaarschuwd "
        "('adviestraject verify')."
    )
    return IntegrityStatus(False, row.verified_to, row.checked_at, row.first_bad_position, message)


def status(engine: Engine) -> IntegrityStatus:
    """The last full check, or a later check that found the chain broken (one SELECT on the
    primary key, newest first)."""
    query = (
        select(integrity_checks)
        .where(or_(integrity_checks.c.full, integrity_checks.c.ok.is_(False)))
        .order_by(integrity_checks.c.id.desc())
        .limit(1)
    )
    with single_statements(engine).connect() as conn:
        return _status(conn.execute(query).first())


def record(
    engine: Engine, report: VerifyReport, at: datetime, *, full: bool, source: str
) -> IntegrityStatus:
    """Store what `verify` found; the status it gives the pages from now on."""
    breach = report.breach
    row = {
        "checked_at": at,
        "ok": breach is None,
        "full": full,
        "events": report.events,
        "verified_to": report.head_position if breach is None else max(breach.position - 1, 0),
        "first_bad_position": None if breach is None else breach.position,
        "stream_id": None if breach is None else breach.stream_id,
        "reason": None if breach is None else breach.reason[:2000],
        "anchors_checked": report.anchors_checked,
        "source": source[:20],
    }
    with engine.begin() as conn:
        conn.execute(insert(integrity_checks), row)
    if breach is not None:
        log.error(
            "the hash chain is broken at position %s: %s; run 'adviestraject verify'",
            breach.position,
            breach.reason,
        )
    return status(engine)


class Wired(Protocol):
    """What of the composition root's container a check needs."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def store(self) -> Log: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...


def check_now(container: Wired, *, source: str = "worker") -> IntegrityStatus:
    """Verify the whole chain against the anchor file's anchors, store the result, return the
    status. An anchor file that cannot be read makes the check not full (it is logged)."""
    file = anchor_file(container.settings, container.engine.url)
    anchors: tuple[Anchor, ...] = ()
    full = True
    if file.exists():
        try:
            anchors = file.read().anchors
        except OSError:
            log.exception("cannot read the anchor file %s; checking without anchors", file.path)
            full = False
    report = verify(container.store, anchors=anchors)
    return record(container.engine, report, container.clock(), full=full, source=source)


def check_if_due(container: Wired, every: timedelta = DAILY) -> IntegrityStatus | None:
    """The worker's step: a full check when the last one the status rests on is older than
    `every` (by the container's clock); None when none was due."""
    last = status(container.engine).checked_at  # a --no-anchor pass does not count
    if last is not None and container.clock() - last < every:
        return None
    return check_now(container, source="worker")
