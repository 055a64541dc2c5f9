"""The administration trail's write side: one append-only row per change to an account, API
token, machine client or school, written by the capability that makes the change inside its own
transaction (`write`), so a change is stored with its row or not at all.

This package imports only the store: accounts and schools both write here, and the reading side
(`service.audit.admin_trail`: the page, the CSV) reads here, without an import cycle between
them. An account is taken by its shape (`_Account`), not by the accounts package's types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, insert

from service.store.schema import admin_trail, admin_trail_schools

WEB, CLI, API = "web", "cli", "api"
# the stable action codes, and how the page says them
ACTIONS = {
    "account.added": "account aangemaakt",
    "account.invited": "uitgenodigd",
    "account.link": "nieuwe link gestuurd",
    "account.password": "wachtwoord ingesteld",
    "account.disabled": "uitgeschakeld",
    "account.enabled": "ingeschakeld",
    "account.scopes": "school en klassen gewijzigd",
    "token.issued": "API-token gemaakt",
    "token.revoked": "API-token ingetrokken",
    "client.added": "koppeling toegevoegd",
    "client.secret": "nieuwe sleutel koppeling",
    "client.revoked": "koppeling ingetrokken",
    "school.added": "school toegevoegd",
    "school.routing": "ketenroutering ingesteld",
    "school.chain": "ketengegevens ingesteld",
}


class _Valued(Protocol):
    @property
    def value(self) -> str: ...


class _Scope(Protocol):
    @property
    def school_id(self) -> str: ...
    @property
    def class_name(self) -> str: ...


class _Account(Protocol):
    """An account as the trail names it (`service.accounts.roles.Principal` has this shape)."""

    @property
    def user_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> _Valued: ...
    @property
    def school_ids(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the trail keeps it (a snapshot: a later rename does not alter it)."""

    user_id: str | None
    label: str
    role: str | None
    via: str

    @classmethod
    def of(cls, who: _Account, via: str) -> Actor:
        return cls(who.user_id, f"{who.name} <{who.email}>", who.role.value, via)

    @classmethod
    def bootstrap(cls, os_user: str) -> Actor:
        """The command line of an installation without an active beheer account (a fresh one,
        until its first beheer account is made): no account can be named, the OS user is."""
        return cls(None, f"installatie zonder beheeraccount (OS-gebruiker {os_user})", None, CLI)


def snapshot(
    role: _Valued, scopes: Iterable[_Scope], active: bool | None = None, **extra: Any
) -> dict[str, Any]:
    """An account's role, schools and classes (and state) as a trail row keeps them."""
    found: dict[str, Any] = {
        "role": role.value,
        "scopes": sorted([s.school_id, s.class_name] for s in scopes),
    }
    if active is not None:
        found["active"] = active
    return {**found, **extra}


def write(
    conn: Connection,
    actor: Actor,
    action: str,
    at: datetime,
    *,
    subject_id: str,
    subject: str,
    schools: Iterable[str] = (),
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> int:
    """Append one row (and the schools it concerns) in the caller's transaction; its id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown trail action {action!r}")
    inserted = conn.execute(
        insert(admin_trail).values(
            at=at,
            actor_id=actor.user_id,
            actor=actor.label[:400],
            actor_role=actor.role,
            via=actor.via,
            action=action,
            subject_id=subject_id[:64],
            subject=subject[:400],
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
        )
    )
    # one row inserted: its key is there (SQLAlchemy types it as maybe None)
    entry_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
    concerned = sorted(set(schools))
    if concerned:
        conn.execute(
            insert(admin_trail_schools),
            [{"entry_id": entry_id, "school_id": s} for s in concerned],
        )
    return entry_id


def write_account(
    conn: Connection,
    actor: Actor,
    action: str,
    at: datetime,
    account: _Account,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    *,
    schools: Iterable[str] | None = None,
) -> int:
    """A row about an account, concerning its schools (or `schools`), in the caller's
    transaction."""
    return write(
        conn,
        actor,
        action,
        at,
        subject_id=account.user_id,
        subject=f"{account.name} <{account.email}>",
        schools=account.school_ids if schools is None else schools,
        before=before,
        after=after,
    )
