"""Machine clients: a test provider's system, with credentials of its own (not a person's).

A client is an account of role `toetsaanbieder` scoped to the schools that mandated the
provider, without a password (it cannot use the website), plus a client id and a secret (256
random bits, shown once, stored as sha256). It trades them at the token endpoint (OAuth 2.0
client credentials, RFC 6749 §4.4) for a short-lived bearer token; revoking the client refuses
every further exchange, and the tokens it already has expire within the hour.

Adding a client, renewing its secret and revoking it are each one transaction, together with the
administration trail's row when made for an `actor` (`service/audit/admin_trail.py`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, select, update

from service.accounts.accounts import (
    AccountError,
    Accounts,
    IssuedToken,
    check_new_user,
    insert_user,
    issue_token_for,
    normalise_email,
    principal_from_rows,
    principal_select,
)
from service.accounts.roles import Principal, Role, Scope
from service.accounts.secrets import token_digest
from service.store.schema import client_credentials, users
from service.trail import Actor, snapshot, write_account

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
CLIENT_PREFIX = "cl_"
_UNKNOWN_SECRET = token_digest(secrets.token_urlsafe(32))  # compared with when no client matches


@dataclass(frozen=True)
class IssuedClient:
    client_id: str
    client_secret: str  # the only time it is seen in plain text


class MachineClients:
    def __init__(self, engine: Engine, accounts: Accounts, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._accounts = accounts
        self._clock = clock

    def add(
        self,
        contact_email: str,
        name: str,
        school_ids: Sequence[str],
        *,
        actor: Actor | None = None,
    ) -> IssuedClient:
        """A new client for a provider's system at these schools; `contact_email` is whom the
        school's IT reaches about it (it is also the account's name in `user list`)."""
        new = check_new_user(
            contact_email, name, Role.TOETSAANBIEDER, [Scope(s) for s in school_ids], None
        )
        now = self._clock()
        with self._engine.begin() as conn:
            who = insert_user(conn, new, now)
            issued = _credential(conn, who.user_id, now)
            if actor is not None:
                _record(conn, actor, "client.added", now, who, issued)
        return issued

    def new_secret(self, contact_email: str, *, actor: Actor | None = None) -> IssuedClient:
        """Fresh credentials for an existing client (the old ones stop working)."""
        now = self._clock()
        with self._engine.begin() as conn:
            rows = conn.execute(
                principal_select().where(
                    users.c.email == normalise_email(contact_email),
                    users.c.role == Role.TOETSAANBIEDER.value,
                )
            ).all()
            if not rows:
                raise AccountError(
                    "client_unknown", f"geen toetsaanbieder-koppeling {contact_email}"
                )
            who = principal_from_rows(rows)
            _revoke(conn, client_credentials.c.user_id == who.user_id, now)
            issued = _credential(conn, who.user_id, now)
            if actor is not None:
                _record(conn, actor, "client.secret", now, who, issued)
        return issued

    def revoke(self, client_id: str, *, actor: Actor | None = None) -> None:
        now = self._clock()
        with self._engine.begin() as conn:
            if not _revoke(conn, client_credentials.c.client_id == client_id, now):
                raise AccountError("client_unknown", f"geen geldige koppeling met id {client_id}")
            if actor is not None:  # about the client's account: its schools see it
                owner = select(client_credentials.c.user_id).where(
                    client_credentials.c.client_id == client_id
                )
                rows = conn.execute(principal_select().where(users.c.id.in_(owner))).all()
                after = {"koppeling": client_id}
                write_account(
                    conn, actor, "client.revoked", now, principal_from_rows(rows), after=after
                )

    def exchange(self, client_id: str, client_secret: str) -> IssuedToken | None:
        """A short-lived access token for valid, unrevoked credentials of an active client."""
        now = self._clock()
        with self._engine.begin() as conn:
            row = conn.execute(
                select(client_credentials.c.secret_hash, users.c.id, users.c.active)
                .join(users, users.c.id == client_credentials.c.user_id)
                .where(
                    client_credentials.c.client_id == client_id,
                    client_credentials.c.revoked_at.is_(None),
                )
            ).first()
            # the same comparison for an unknown client as for a known one
            stored = row.secret_hash if row is not None else _UNKNOWN_SECRET
            if not hmac.compare_digest(stored, token_digest(client_secret)):
                return None
            if row is None or not row.active:
                return None
            return issue_token_for(
                conn,
                row.id,
                "client_credentials",
                now,
                ACCESS_TOKEN_LIFETIME,
                issued_by=f"client:{client_id}",
            )


def _credential(conn: Connection, user_id: str, now: datetime) -> IssuedClient:
    issued = IssuedClient(CLIENT_PREFIX + secrets.token_hex(16), "adm_" + secrets.token_urlsafe(32))
    conn.execute(
        client_credentials.insert().values(
            client_id=issued.client_id,
            user_id=user_id,
            secret_hash=token_digest(issued.client_secret),
            created_at=now,
        )
    )
    return issued


def _revoke(conn: Connection, which: ColumnElement[bool], now: datetime) -> int:
    done = conn.execute(
        update(client_credentials)
        .where(which, client_credentials.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    return int(done)


def _record(
    conn: Connection,
    actor: Actor,
    action: str,
    now: datetime,
    client: Principal,
    issued: IssuedClient,
) -> None:
    after = {**snapshot(client.role, client.scopes), "client_id": issued.client_id}
    write_account(conn, actor, action, now, client, after=after)
