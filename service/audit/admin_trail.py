"""The administration trail: who changed which account, API token, machine client or school,
when, how (web page or command line), and the account's role, schools, classes and state before
and after.

The person is an account: the one signed in on the web, the one named with `--as` (or
ADVIESTRAJECT_ACTOR) on the command line. The single exception is the command line of an
installation without an active beheer account (a fresh one, until its first beheer account is
made): no account can be named, so the row names the operating system's user, as such.

The table is append-only (database triggers reject UPDATE and DELETE); each row names the
schools it concerns, so that directie reads the rows about its own school and beheer all.

A row is written in the same transaction as the change it records: the capability that makes
the change (`Accounts`, `MachineClients`, `Register`, `add_school`) takes the `Actor` and calls
`write` inside its own transaction, so a change is stored with its row or not at all (a row that
cannot be written undoes the change). Callers pass the actor and record nothing themselves.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Select, func, select

from service.accounts.roles import Role
from service.store.engine import single_statements
from service.store.schema import admin_trail, admin_trail_schools
from service.trail import ACTIONS, API, CLI, WEB, Actor, snapshot, write, write_account

# the write side lives in `service.trail` (accounts and schools write there); named here too, for
# the pages and command lines that read and write
__all__ = [
    "ACTIONS",
    "API",
    "CLI",
    "WEB",
    "Actor",
    "TrailRow",
    "count",
    "describe",
    "entries",
    "snapshot",
    "to_csv",
    "write",
    "write_account",
]
DUTCH = ZoneInfo("Europe/Amsterdam")
COLUMNS = ("Wanneer", "Wie", "Via", "Wat", "Betreft", "Voor", "Na")
EXPORT_LIMIT = 100_000
_VIA = {WEB: "website", CLI: "opdrachtregel", API: "API"}


@dataclass(frozen=True)
class TrailRow:
    id: int
    at: datetime
    actor: str
    actor_role: str | None
    via: str
    action: str
    subject_id: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def cells(self, brins: Mapping[str, str]) -> tuple[str, ...]:
        """The row as the page and the CSV show it; `brins` names schools by their id."""
        when = self.at.astimezone(DUTCH).strftime("%d-%m-%Y %H:%M:%S")
        role = f" ({_role(self.actor_role)})" if self.actor_role else ""
        via = _VIA.get(self.via, self.via)
        return (
            when,
            self.actor + role,
            via,
            ACTIONS.get(self.action, self.action),
            self.subject,
            describe(self.before, brins),
            describe(self.after, brins),
        )


def _role(value: str) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value


def describe(state: Mapping[str, Any] | None, brins: Mapping[str, str]) -> str:
    """A snapshot in words: "leerkracht; 01AA/8A, 01AA/8B; actief"."""
    if not state:
        return "–"
    parts = []
    if "role" in state:
        parts.append(_role(str(state["role"])))
    if "scopes" in state:
        where = [
            "/".join(filter(None, (brins.get(school, school), class_name)))
            for school, class_name in state["scopes"]
        ]
        parts.append(", ".join(where) or "geen school")
    if "active" in state:
        parts.append("actief" if state["active"] else "uitgeschakeld")
    parts.extend(f"{key}: {value}" for key, value in sorted(state.items()) if key not in _SHOWN)
    return "; ".join(parts)


_SHOWN = frozenset({"role", "scopes", "active"})


def _query(
    school_ids: Collection[str] | None, subject_id: str | None, *columns: Any
) -> Select[Any]:
    query = select(*columns).select_from(admin_trail)
    if school_ids is not None:
        concerned = select(admin_trail_schools.c.entry_id).where(
            admin_trail_schools.c.school_id.in_(sorted(school_ids))
        )
        query = query.where(admin_trail.c.id.in_(concerned))
    if subject_id is not None:
        query = query.where(admin_trail.c.subject_id == subject_id)
    return query


def entries(
    engine: Engine,
    school_ids: Collection[str] | None,
    *,
    subject_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[TrailRow]:
    """The rows, newest first: every row (`school_ids` None, for beheer) or those concerning
    one of `school_ids`; only those about `subject_id` when given."""
    if school_ids is not None and not school_ids:
        return []
    query = (
        _query(school_ids, subject_id, admin_trail)
        .order_by(admin_trail.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    with single_statements(engine).connect() as conn:
        rows = conn.execute(query).all()
    return [
        TrailRow(
            r.id,
            r.at,
            r.actor,
            r.actor_role,
            r.via,
            r.action,
            r.subject_id,
            r.subject,
            r.before,
            r.after,
        )
        for r in rows
    ]


def count(engine: Engine, school_ids: Collection[str] | None) -> int:
    if school_ids is not None and not school_ids:
        return 0
    with single_statements(engine).connect() as conn:
        return int(conn.execute(_query(school_ids, None, func.count())).scalar_one())


def to_csv(rows: Sequence[TrailRow], brins: Mapping[str, str]) -> str:
    """Semicolon-separated with a header, as the access log's CSV."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.cells(brins) for row in rows)
    return out.getvalue()
