"""User accounts: add, invite, disable, enable and reset users, set passwords, issue and revoke
personal API tokens.

Every refusal is an `AccountError` with a stable code and a Dutch message; nothing is written
then. A token is returned in plain text exactly once, when it is made; afterwards only its hash
exists, so a lost token is revoked and replaced, never shown again. An invitation is the same
kind of secret: a link (256 random bits) that chooses the account's password once, within 72
hours; the database keeps its sha256, who made it, and when it was used or replaced.

A change made for someone (`actor`: the signed-in account, the one named on the command line, the
API token's) goes into the administration trail in the change's own transaction: both are
stored, or neither (`service/audit/admin_trail.py`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    delete,
    insert,
    select,
    update,
)

from service.accounts.access import READERS
from service.accounts.roles import Principal, Role, Scope
from service.accounts.secrets import (
    hash_password,
    new_token,
    password_matches,
    password_problem,
    token_digest,
)
from service.store.engine import single_statements
from service.store.schema import (
    api_tokens,
    invitations,
    schools,
    user_schools,
    users,
    web_sessions,
)
from service.trail import Actor, snapshot, write_account

MAX_TOKEN_DAYS = 365
CLI_ISSUER = "cli"  # `api_tokens.issued_by` of a token made on the server's command line
INVITATION_LIFETIME = timedelta(hours=72)  # a link in an e-mail: long enough for a weekend
# Why a link cannot be used (Dutch, for the person who clicked it), by its state.
INVITATION_REFUSED = {
    "unknown": "deze link kennen wij niet; gebruik de hele link uit de e-mail, of vraag uw "
    "beheerder om een nieuwe uitnodiging",
    "used": "deze link is al gebruikt; log in met het wachtwoord dat u toen koos, of vraag uw "
    "beheerder om een nieuwe link",
    "expired": "deze link is verlopen; vraag uw beheerder om een nieuwe uitnodiging",
    "revoked": "deze link geldt niet meer: er is een nieuwere verstuurd, of het account is "
    "uitgeschakeld; gebruik de nieuwste e-mail of vraag uw beheerder",
}


class AccountError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # the only time it is seen in plain text
    expires_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Account:
    principal: Principal
    active: bool


@dataclass(frozen=True)
class Invited:
    principal: Principal
    token: str  # the link's secret: in the e-mail only, never stored
    expires_at: datetime
    invitation_id: str


@dataclass(frozen=True)
class InvitationState:
    state: str  # open | used | expired | revoked | unknown
    principal: Principal | None
    expires_at: datetime | None


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    role: Role
    scopes: tuple[Scope, ...]
    password: str | None


def check_new_user(
    email: str, name: str, role: Role, scopes: Sequence[Scope], password: str | None
) -> NewUser:
    """The account as it will be stored, or the first `AccountError` that refuses it."""
    email = normalise_email(email)
    if not name.strip():
        raise AccountError("name_missing", "geef de naam van de gebruiker")
    if len(name.strip()) > 200:
        raise AccountError("name_too_long", "een naam heeft hoogstens 200 tekens")
    if role.needs_school and not scopes:
        raise AccountError("school_missing", f"een {role.label} hoort bij een school")
    if role.needs_class and any(not s.class_name for s in scopes):
        raise AccountError("class_missing", "een leerkracht hoort bij een klas (bijv. 8A)")
    if any(len(s.class_name) > 20 for s in scopes):
        raise AccountError("class_too_long", "een klas heeft hoogstens 20 tekens (bijv. 8A)")
    if role is Role.BEHEER and scopes:
        raise AccountError("scope_not_allowed", "beheer hoort niet bij een school")
    if password is not None and (problem := password_problem(password)):
        raise AccountError("password_too_weak", problem)
    return NewUser(email, name.strip(), role, tuple(dict.fromkeys(scopes)), password)


def insert_user(conn: Connection, new: NewUser, now: datetime) -> Principal:
    """The account into the caller's transaction; refused when the address is taken or a
    school is unknown (nothing written then)."""
    user_id = str(uuid.uuid4())
    if conn.execute(select(users.c.id).where(users.c.email == new.email)).first():
        raise AccountError("email_taken", f"er is al een gebruiker met {new.email}")
    known = _known_schools(conn, {s.school_id for s in new.scopes})
    if unknown := sorted({s.school_id for s in new.scopes} - known):
        raise AccountError("school_unknown", f"onbekende school: {', '.join(unknown)}")
    conn.execute(
        insert(users).values(
            id=user_id,
            email=new.email,
            name=new.name,
            role=new.role.value,
            password_hash=hash_password(new.password) if new.password is not None else None,
            active=True,
            created_at=now,
        )
    )
    for scope in new.scopes:
        conn.execute(
            insert(user_schools).values(
                user_id=user_id, school_id=scope.school_id, class_name=scope.class_name
            )
        )
    return Principal(user_id, new.email, new.name, new.role, frozenset(new.scopes))


def scopes_fingerprint(scopes: frozenset[Scope] | Sequence[Scope]) -> str:
    """A short, stable digest of an account's schools and classes (for a form's stale check)."""
    text = "|".join(sorted(f"{s.school_id}/{s.class_name}" for s in scopes))
    return token_digest(text)[:16]


def _new_invitation(
    conn: Connection, user_id: str, now: datetime, lifetime: timedelta, by: Principal | None
) -> tuple[str, datetime, str]:
    token = secrets.token_urlsafe(32)
    invitation_id = str(uuid.uuid4())
    conn.execute(
        insert(invitations).values(
            id=invitation_id,
            user_id=user_id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + lifetime,
            created_by=by.user_id if by is not None else CLI_ISSUER,
        )
    )
    return token, now + lifetime, invitation_id


def _revoke_invitations(conn: Connection, user_id: str, now: datetime) -> None:
    conn.execute(
        update(invitations)
        .where(
            invitations.c.user_id == user_id,
            invitations.c.used_at.is_(None),
            invitations.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def _invitation_row(conn: Connection, token: str) -> Row[Any] | None:
    if not token or len(token) > 200:
        return None
    return conn.execute(
        select(invitations, users.c.active)
        .join(users, users.c.id == invitations.c.user_id)
        .where(invitations.c.token_hash == token_digest(token))
    ).first()


def _link_state(row: Row[Any], now: datetime) -> str:
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None or not row.active:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "open"


class Accounts:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def add_user(
        self,
        email: str,
        name: str,
        role: Role,
        scopes: Sequence[Scope] = (),
        password: str | None = None,
        *,
        actor: Actor | None = None,
    ) -> Principal:
        new = check_new_user(email, name, role, scopes, password)
        now = self._clock()
        with self._engine.begin() as conn:
            added = insert_user(conn, new, now)
            if actor is not None:
                given = "ja" if password is not None else "nee"
                after = snapshot(added.role, added.scopes, True, wachtwoord=given)
                write_account(conn, actor, "account.added", now, added, after=after)
        return added

    def invite(
        self,
        email: str,
        name: str,
        role: Role,
        scopes: Sequence[Scope],
        *,
        invited_by: Principal | None,
        lifetime: timedelta = INVITATION_LIFETIME,
        actor: Actor | None = None,
    ) -> Invited:
        """A new account without a password, and the one-time link with which its owner
        chooses one (`invited_by` None: the server's command line)."""
        new = check_new_user(email, name, role, scopes, None)
        now = self._clock()
        with self._engine.begin() as conn:
            added = insert_user(conn, new, now)
            token, expires_at, link = _new_invitation(
                conn, added.user_id, now, lifetime, invited_by
            )
            if actor is not None:
                after = snapshot(added.role, added.scopes)
                write_account(conn, actor, "account.invited", now, added, after=after)
        return Invited(added, token, expires_at, link)

    def reset(
        self,
        user_id: str,
        *,
        by: Principal | None,
        lifetime: timedelta = INVITATION_LIFETIME,
        actor: Actor | None = None,
    ) -> Invited:
        """A new link for an active account: its password, its web sessions and every earlier
        link stop working at once (API tokens are managed apart and stay)."""
        now = self._clock()
        with self._engine.begin() as conn:
            row = conn.execute(select(users.c.active).where(users.c.id == user_id)).first()
            if row is None:
                raise AccountError("user_unknown", "deze gebruiker bestaat niet")
            if not row.active:
                raise AccountError(
                    "user_disabled", "dit account is uitgeschakeld; schakel het eerst in"
                )
            had = _states(conn, now, user_id).get(user_id, "")
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=None))
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
            _revoke_invitations(conn, user_id, now)
            token, expires_at, link = _new_invitation(conn, user_id, now, lifetime, by)
            rows = conn.execute(principal_select().where(users.c.id == user_id)).all()
            account = principal_from_rows(rows)
            if actor is not None:
                before, after = {"status": had}, {"status": "uitgenodigd"}
                write_account(conn, actor, "account.link", now, account, before, after)
        return Invited(account, token, expires_at, link)

    def invitation(self, token: str) -> InvitationState:
        """What a link is: open (with its account), used, expired, revoked, or unknown."""
        with single_statements(self._engine).connect() as conn:
            found = _invitation_row(conn, token)
            if found is None:
                return InvitationState("unknown", None, None)
            rows = conn.execute(principal_select().where(users.c.id == found.user_id)).all()
        return InvitationState(
            _link_state(found, self._clock()), principal_from_rows(rows), found.expires_at
        )

    def accept_invitation(self, token: str, password: str) -> Principal:
        """Set the password chosen through an open link, and use the link up (once: two
        requests with one link at the same moment set one password, the other is refused)."""
        now = self._clock()
        if problem := password_problem(password):
            raise AccountError("password_too_weak", problem)
        password_hash = hash_password(password)  # ~50 ms of CPU, outside the transaction
        with self._engine.begin() as conn:
            found = _invitation_row(conn, token)
            state = "unknown" if found is None else _link_state(found, now)
            if found is None or state != "open":
                raise AccountError(f"invitation_{state}", INVITATION_REFUSED[state])
            used = conn.execute(  # still open at the moment of writing: a reset, a disable
                # or another use that committed meanwhile wins
                update(invitations)
                .where(
                    invitations.c.id == found.id,
                    invitations.c.used_at.is_(None),
                    invitations.c.revoked_at.is_(None),
                )
                .values(used_at=now)
            ).rowcount
            if not used:
                again = _invitation_row(conn, token)
                state = "unknown" if again is None else _link_state(again, now)
                state = "used" if state == "open" else state
                raise AccountError(f"invitation_{state}", INVITATION_REFUSED[state])
            conn.execute(
                update(users).where(users.c.id == found.user_id).values(password_hash=password_hash)
            )
            _revoke_invitations(conn, found.user_id, now)
            rows = conn.execute(principal_select().where(users.c.id == found.user_id)).all()
        return principal_from_rows(rows)

    def set_scopes(
        self,
        user_id: str,
        scopes: Sequence[Scope],
        *,
        expected: str,
        actor: Actor | None = None,
    ) -> Principal:
        """Replace the account's schools and classes (its role stays). `expected` is
        `scopes_fingerprint` of the scopes the form showed: a change made meanwhile by someone
        else refuses this one (`account_changed`), nothing is overwritten unseen. Sending back
        what was there changes nothing and records nothing."""
        with self._engine.begin() as conn:
            rows = conn.execute(principal_select().where(users.c.id == user_id)).all()
            if not rows:
                raise AccountError("user_unknown", "deze gebruiker bestaat niet")
            current = principal_from_rows(rows)
            if scopes_fingerprint(current.scopes) != expected:
                raise AccountError(
                    "account_changed", "dit account is intussen gewijzigd; bekijk de nieuwe stand"
                )
            new = check_new_user(current.email, current.name, current.role, scopes, None)
            known = _known_schools(conn, {s.school_id for s in new.scopes})
            if unknown := sorted({s.school_id for s in new.scopes} - known):
                raise AccountError("school_unknown", f"onbekende school: {', '.join(unknown)}")
            conn.execute(delete(user_schools).where(user_schools.c.user_id == user_id))
            for scope in new.scopes:
                conn.execute(
                    insert(user_schools).values(
                        user_id=user_id, school_id=scope.school_id, class_name=scope.class_name
                    )
                )
            changed = Principal(
                user_id, current.email, current.name, current.role, frozenset(new.scopes)
            )
            before = snapshot(current.role, current.scopes)
            after = snapshot(changed.role, changed.scopes)
            if actor is not None and before != after:
                # the row concerns the schools before and after (one that lost the account too)
                concerned = current.school_ids | changed.school_ids
                write_account(
                    conn,
                    actor,
                    "account.scopes",
                    self._clock(),
                    current,
                    before,
                    after,
                    schools=concerned,
                )
        return changed

    def enable(self, email: str, *, actor: Actor | None = None) -> None:
        """Switch the account on again (its password works again; earlier links do not)."""
        self._switch(email, on=True, actor=actor)

    def _switch(self, email: str, *, on: bool, actor: Actor | None) -> None:
        now = self._clock()
        with self._engine.begin() as conn:
            rows = conn.execute(
                principal_select().where(users.c.email == normalise_email(email))
            ).all()
            if not rows:
                raise AccountError("user_unknown", f"geen gebruiker {email}")
            account, was = principal_from_rows(rows), bool(rows[0].active)
            conn.execute(update(users).where(users.c.id == account.user_id).values(active=on))
            if not on:
                _revoke_invitations(conn, account.user_id, now)
            if actor is not None:
                before = snapshot(account.role, account.scopes, was)
                after = snapshot(account.role, account.scopes, on)
                action = "account.enabled" if on else "account.disabled"
                write_account(conn, actor, action, now, account, before, after)

    def account_states(self) -> dict[str, str]:
        """Per user id: "actief", "uitgeschakeld", "uitgenodigd" (an open link, no password
        yet) or "zonder wachtwoord" (API only, or a link that expired)."""
        with self._engine.connect() as conn:
            return _states(conn, self._clock())

    def set_password(self, email: str, password: str, *, actor: Actor | None = None) -> None:
        if problem := password_problem(password):
            raise AccountError("password_too_weak", problem)
        password_hash = hash_password(password)  # ~50 ms of CPU, outside the transaction
        now = self._clock()
        with self._engine.begin() as conn:
            rows = conn.execute(
                principal_select().where(users.c.email == normalise_email(email))
            ).all()
            if not rows:
                raise AccountError("user_unknown", f"geen gebruiker {email}")
            account = principal_from_rows(rows)
            conn.execute(
                update(users)
                .where(users.c.id == account.user_id)
                .values(password_hash=password_hash)
            )
            if actor is not None:
                write_account(conn, actor, "account.password", now, account)

    def check_password(self, email: str, password: str) -> Principal | None:
        """The user when the password is theirs and the account is active; None otherwise.

        Every call verifies one argon2 hash (a dummy one for an unknown, disabled or
        password-less account), so the time taken does not tell whether an account exists."""
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == normalise_email(email))).first()
        # no connection is held during the verify: it takes ~50 ms of CPU
        usable = row is not None and row.active and row.password_hash is not None
        matches = password_matches(
            row.password_hash if row is not None and usable else None, password
        )
        if row is None or not matches:
            return None
        with self._engine.connect() as conn:
            return _principal(conn, row)

    def disable(self, email: str, *, actor: Actor | None = None) -> None:
        """Switch the account off: password, sessions, tokens and open links stop working."""
        self._switch(email, on=False, actor=actor)

    def list_users(self) -> list[Principal]:
        return [account.principal for account in self.accounts()]

    def accounts(self, user_id: str | None = None) -> list[Account]:
        """Every account (or the one with `user_id`) with its scopes and whether it is active,
        by e-mail address; one query."""
        query = principal_select().order_by(users.c.email)
        if user_id is not None:
            query = query.where(users.c.id == user_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        by_user: dict[str, list[Row[Any]]] = {}
        for row in rows:
            by_user.setdefault(row.id, []).append(row)
        return [Account(principal_from_rows(group), group[0].active) for group in by_user.values()]

    def issue_token(
        self,
        email: str,
        name: str,
        days: int,
        *,
        issued_by: Principal | None = None,
        actor: Actor | None = None,
    ) -> IssuedToken:
        """A personal token for the account, made by `issued_by` (None: the server's command
        line, whose operator holds the database anyway). Beheer sees no pupils, so it may not
        make a token for an account that does: that would be its key to every pupil."""
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise AccountError(
                "token_days_invalid", f"een token geldt 1 tot {MAX_TOKEN_DAYS} dagen"
            )
        now = self._clock()
        with self._engine.begin() as conn:
            rows = conn.execute(
                principal_select().where(users.c.email == normalise_email(email))
            ).all()
            row = rows[0] if rows else None
            if row is None or not row.active:
                raise AccountError("user_unknown", f"geen actieve gebruiker {email}")
            if issued_by is not None and not may_issue_token(issued_by, Role(row.role)):
                raise AccountError(
                    "token_not_allowed",
                    f"als {issued_by.role.label} maakt u geen token voor een "
                    f"{Role(row.role).label}: met dat token ziet men leerlingen. Het wordt op de "
                    "server gemaakt (adviestraject user token)",
                )
            issuer = issued_by.user_id if issued_by is not None else CLI_ISSUER
            issued = issue_token_for(
                conn, row.id, name, now, timedelta(days=days), issued_by=issuer
            )
            if actor is not None:
                after = {"token": issued.id, "geldig tot": f"{issued.expires_at:%d-%m-%Y}"}
                account = principal_from_rows(rows)
                write_account(conn, actor, "token.issued", now, account, after=after)
            return issued

    def revoke_token(self, token_id: str, *, actor: Actor | None = None) -> None:
        now = self._clock()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            if not done:
                raise AccountError("token_unknown", f"geen geldig token met id {token_id}")
            if actor is not None:  # about the token's account: its schools see it
                owner = select(api_tokens.c.user_id).where(api_tokens.c.id == token_id)
                rows = conn.execute(principal_select().where(users.c.id.in_(owner))).all()
                account = principal_from_rows(rows)
                after = {"token": token_id}
                write_account(conn, actor, "token.revoked", now, account, after=after)

    def tokens_of(self, email: str) -> list[TokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens)
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(users.c.email == normalise_email(email))
                .order_by(api_tokens.c.created_at)
            ).all()
        return [TokenInfo(r.id, r.name, r.created_at, r.expires_at, r.revoked_at) for r in rows]

    def authenticate_token(self, token: str) -> Principal | None:
        """The token's user, if the token exists, is neither revoked nor expired, and the
        account is active. One statement: it runs on every API request."""
        with single_statements(self._engine).connect() as conn:
            rows = conn.execute(
                principal_select(api_tokens.c.expires_at, api_tokens.c.revoked_at)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == token_digest(token))
            ).all()
        if not rows or not token_usable(rows[0], self._clock()):
            return None
        return principal_from_rows(rows)


def may_issue_token(issuer: Principal, for_role: Role) -> bool:
    """Whether `issuer` may make a token for an account of `for_role` (over the API)."""
    return not (issuer.role is Role.BEHEER and for_role in READERS)


def issue_token_for(
    conn: Connection,
    user_id: str,
    name: str,
    now: datetime,
    lifetime: timedelta,
    *,
    issued_by: str,
) -> IssuedToken:
    """A new token for the user, in the caller's transaction; its plain text is returned once.
    `issued_by` is who made it: a user id, `cli`, or `client:<client id>`."""
    token = new_token()
    issued = IssuedToken(str(uuid.uuid4()), token, now + lifetime)
    conn.execute(
        insert(api_tokens).values(
            id=issued.id,
            user_id=user_id,
            name=name.strip() or "token",
            token_hash=token_digest(token),
            created_at=now,
            expires_at=issued.expires_at,
            issued_by=issued_by[:64],
        )
    )
    return issued


def token_usable(row: Row[Any], now: datetime) -> bool:
    """A token row (with `expires_at`, `revoked_at` and the user's `active`) that may be used."""
    return row.revoked_at is None and bool(row.active) and row.expires_at > now


def principal_select(*columns: ColumnElement[Any]) -> Select[Any]:
    """Users with `columns` and one row per scope (school, class): see `principal_from_rows`."""
    return select(users, *columns, user_schools.c.school_id, user_schools.c.class_name).outerjoin(
        user_schools, user_schools.c.user_id == users.c.id
    )


def principal_from_rows(rows: Sequence[Row[Any]]) -> Principal:
    """A principal from rows of `users` outer-joined with `user_schools` (one per scope)."""
    first = rows[0]
    return Principal(
        user_id=first.id,
        email=first.email,
        name=first.name,
        role=Role(first.role),
        scopes=frozenset(Scope(r.school_id, r.class_name) for r in rows if r.school_id is not None),
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise AccountError("email_invalid", f"{email!r} is geen e-mailadres")
    return email


def _states(conn: Connection, now: datetime, user_id: str | None = None) -> dict[str, str]:
    """`Accounts.account_states`, read on `conn` (of every account, or the one with `user_id`)."""
    query = select(users.c.id, users.c.active, users.c.password_hash)
    open_links = select(invitations.c.user_id).where(
        invitations.c.used_at.is_(None),
        invitations.c.revoked_at.is_(None),
        invitations.c.expires_at > now,
    )
    if user_id is not None:
        query = query.where(users.c.id == user_id)
        open_links = open_links.where(invitations.c.user_id == user_id)
    rows = conn.execute(query).all()
    pending = set(conn.execute(open_links).scalars())
    states = {}
    for r in rows:
        if not r.active:
            states[r.id] = "uitgeschakeld"
        elif r.password_hash is not None:
            states[r.id] = "actief"
        else:
            states[r.id] = "uitgenodigd" if r.id in pending else "zonder wachtwoord"
    return states


def _known_schools(conn: Connection, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(select(schools.c.id).where(schools.c.id.in_(ids))).scalars())


def _principal(conn: Connection, row: Row[Any]) -> Principal:
    user_id: str = row.id
    scopes = frozenset(
        Scope(r.school_id, r.class_name)
        for r in conn.execute(
            select(user_schools.c.school_id, user_schools.c.class_name).where(
                user_schools.c.user_id == user_id
            )
        )
    )
    return Principal(
        user_id=user_id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        scopes=scopes,
    )
