"""`adviestraject user …`: add, invite, list, disable and enable users, set passwords, issue and
revoke tokens.

Schools are named by BRIN. Passwords are typed at a hidden prompt or read from stdin
(`--password-stdin`, for scripts), never taken as an argument that would end up in the shell's
history. A token is printed once, when it is made.

Every change is done for a beheer account named with `--as <e-mail>` (or ADVIESTRAJECT_ACTOR) and
goes into the administration trail (`service/audit/admin_trail.py`) under that account, in the
change's own transaction (the capability records it: both are stored or neither); a
missing, unknown, disabled or non-beheer account ends the command with exit 2 before anything is
stored. One exception: while the installation has no active beheer account (a fresh one, until
its first beheer account is added here) no account can be named, and a change without `--as` is
recorded as the installation's, naming the operating system's user as such.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from service.accounts.accounts import AccountError, Invited, normalise_email
from service.accounts.clients import IssuedClient
from service.accounts.invitation_mail import send_invitation
from service.accounts.roles import Principal, Role, Scope
from service.audit import admin_trail
from service.audit.admin_trail import Actor
from service.audit.cli import AsOpt, acting_account
from service.bootstrap import Container
from service.clitools import container, fail, require_schema
from service.outbox.mail import mailer_from

users_app = typer.Typer(help="Gebruikers en API-tokens beheren.", no_args_is_help=True)


@contextmanager
def _accounts() -> Iterator[Container]:
    """A migrated database whose account refusals end the command with exit 2 and one line."""
    with container() as opened:
        require_schema(opened)
        try:
            yield opened
        except AccountError as error:
            raise fail(error.message) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    typed: str = typer.prompt("Wachtwoord", hide_input=True, confirmation_prompt=True)
    return typed


def _scopes(opened: Container, brins: list[str], class_name: str) -> list[Scope]:
    by_brin = {school.brin.upper(): school.id for school in opened.register.schools()}
    unknown = [brin for brin in brins if brin.upper() not in by_brin]
    if unknown:
        raise fail(f"unknown school (BRIN): {', '.join(unknown)}")
    return [Scope(by_brin[brin.upper()], class_name) for brin in brins]


ADMINISTRATORS = frozenset({Role.BEHEER})


def acting_admin(opened: Container, acting_as: str | None, doing: str) -> Actor:
    """Who a change on the command line is for, as the trail records it: the active beheer
    account named by `--as`, else exit 2 with one line. While the installation has no active
    beheer account (a fresh one: the first beheer account is made this way), no account can be
    named: without `--as` the change is the installation's, with the OS user named as such."""
    if not (acting_as or "").strip() and not _has_admin(opened):
        return Actor.bootstrap(_os_user())
    return Actor.of(acting_account(opened, acting_as, ADMINISTRATORS, doing), admin_trail.CLI)


def _has_admin(opened: Container) -> bool:
    return any(a.active and a.principal.role is Role.BEHEER for a in opened.accounts.accounts())


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password database
        return f"uid {os.getuid()}"


def _account(opened: Container, email: str) -> tuple[Principal, bool] | None:
    """The account with this address and whether it is active (None: no such account)."""
    try:
        address = normalise_email(email)
    except AccountError:
        return None
    found = [a for a in opened.accounts.accounts() if a.principal.email == address]
    return (found[0].principal, found[0].active) if found else None


@users_app.command("add")
def add_command(
    email: Annotated[str, typer.Argument(help="E-mailadres, ook de inlognaam")],
    name: Annotated[str, typer.Option(help="Naam zoals collega's die zien")],
    role: Annotated[Role, typer.Option(help="Rol")],
    school: Annotated[list[str], typer.Option(help="BRIN van een school (herhaalbaar)")] = [],  # noqa: B006
    class_name: Annotated[str, typer.Option("--class", help="Klas, voor een leerkracht")] = "",
    password: Annotated[bool, typer.Option(help="Vraag een wachtwoord (voor de website)")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Lees het wachtwoord van stdin")] = False,
    acting_as: AsOpt = None,
) -> None:
    """Add a user with a role at one or more schools."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "add users")
        scopes = _scopes(opened, school, class_name)
        secret = _password(password_stdin) if (password or password_stdin) else None
        added = opened.accounts.add_user(email, name, role, scopes, secret, actor=actor)
    print(f"user {added.email} added as {added.role.value}")


@users_app.command("invite")
def invite_command(
    email: Annotated[str, typer.Argument(help="E-mailadres, ook de inlognaam")],
    name: Annotated[str, typer.Option(help="Naam zoals collega's die zien")],
    role: Annotated[Role, typer.Option(help="Rol")],
    school: Annotated[list[str], typer.Option(help="BRIN van een school (herhaalbaar)")] = [],  # noqa: B006
    class_name: Annotated[str, typer.Option("--class", help="Klas, voor een leerkracht")] = "",
    acting_as: AsOpt = None,
) -> None:
    """Add a user without a password and e-mail a one-time link (72 hours) to choose one."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "invite users")
        scopes = _scopes(opened, school, class_name)
        invited = opened.accounts.invite(email, name, role, scopes, invited_by=None, actor=actor)
        _mail_link(opened, invited, reset=False)
    print(f"user {invited.principal.email} invited as {invited.principal.role.value}")


@users_app.command("link")
def link_command(email: str, acting_as: AsOpt = None) -> None:
    """E-mail a new one-time link: the password, web sessions and earlier links stop working."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "send links")
        found = _account(opened, email)
        if found is None:
            raise fail(f"geen gebruiker {email}")
        user_id = found[0].user_id
        had = opened.accounts.account_states().get(user_id, "")
        invited = opened.accounts.reset(user_id, by=None, actor=actor)
        _mail_link(opened, invited, reset=had == "actief")
    print(f"new link for {invited.principal.email} sent")


def _mail_link(opened: Container, invited: Invited, *, reset: bool) -> None:
    names = {s.id: s.name for s in opened.register.schools()}
    try:
        send_invitation(
            mailer_from(opened.settings),
            invited,
            by="De beheerder",
            where=sorted(names.get(i, i) for i in invited.principal.school_ids),
            public_url=opened.settings.public_url,
            reset=reset,
        )
    except OSError as error:
        raise fail(
            f"the e-mail to {invited.principal.email} was not sent ({error}); "
            f"try again with 'adviestraject user link {invited.principal.email}'"
        ) from None
    print(
        f"link valid until {invited.expires_at:%Y-%m-%d %H:%M} UTC, mailed to the user",
        file=sys.stderr,
    )


@users_app.command("list")
def list_command() -> None:
    """List every user with role, schools and whether the account is active."""
    with _accounts() as opened:
        names = {school.id: school.brin for school in opened.register.schools()}
        for account in opened.accounts.accounts():
            user = account.principal
            where = ", ".join(
                sorted(
                    "/".join(filter(None, (names.get(s.school_id, s.school_id), s.class_name)))
                    for s in user.scopes
                )
            )
            state = "" if account.active else "  (uitgeschakeld)"
            print(f"{user.email}  {user.role.value}  {user.name}  {where or '-'}{state}")


@users_app.command("passwd")
def passwd_command(
    email: str,
    password_stdin: Annotated[bool, typer.Option(help="Lees het wachtwoord van stdin")] = False,
    acting_as: AsOpt = None,
) -> None:
    """Set a user's password."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "set passwords")
        opened.accounts.set_password(email, _password(password_stdin), actor=actor)
    print(f"password of {email} set")


@users_app.command("enable")
def enable_command(email: str, acting_as: AsOpt = None) -> None:
    """Switch an account on again (its password works again; earlier links do not)."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "enable users")
        opened.accounts.enable(email, actor=actor)
    print(f"user {email} enabled")


@users_app.command("disable")
def disable_command(email: str, acting_as: AsOpt = None) -> None:
    """Switch an account off: its password and tokens stop working at once."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "disable users")
        opened.accounts.disable(email, actor=actor)
    print(f"user {email} disabled")


@users_app.command("token")
def token_command(
    email: str,
    name: Annotated[str, typer.Option(help="Waar het token voor is")] = "token",
    days: Annotated[int, typer.Option(help="Geldig voor zoveel dagen (max. 365)")] = 90,
    acting_as: AsOpt = None,
) -> None:
    """Make a personal API token; it is shown this once only."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "make tokens")
        issued = opened.accounts.issue_token(email, name, days, actor=actor)
    print(issued.token)
    print(
        f"token {issued.id} for {email}, valid until {issued.expires_at:%Y-%m-%d}; "
        "store it now: it is not shown again",
        file=sys.stderr,
    )


@users_app.command("tokens")
def tokens_command(email: str) -> None:
    """List a user's tokens (never the tokens themselves)."""
    with _accounts() as opened:
        for token in opened.accounts.tokens_of(email):
            state = f"ingetrokken {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "geldig"
            print(f"{token.id}  {token.name}  tot {token.expires_at:%Y-%m-%d}  {state}")


@users_app.command("revoke")
def revoke_command(token_id: str, acting_as: AsOpt = None) -> None:
    """Revoke a token by its id."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "revoke tokens")
        opened.accounts.revoke_token(token_id, actor=actor)
    print(f"token {token_id} revoked")


clients_app = typer.Typer(
    help="Koppelingen van toetsaanbieders (machine clients) beheren.", no_args_is_help=True
)


def _print_client(issued: IssuedClient) -> None:
    print(f"client_id={issued.client_id}")
    print(f"client_secret={issued.client_secret}")
    print(
        "give both to the provider's system (POST /api/v1/oauth/token, "
        "grant_type=client_credentials); the secret is not shown again",
        file=sys.stderr,
    )


@clients_app.command("add")
def client_add_command(
    contact_email: Annotated[str, typer.Argument(help="Contactadres van de koppeling")],
    name: Annotated[str, typer.Option(help='Naam, bijv. "IEP-koppeling"')],
    school: Annotated[list[str], typer.Option(help="BRIN van een school die machtigt")] = [],  # noqa: B006
    acting_as: AsOpt = None,
) -> None:
    """Add a test provider's system for the schools that mandated it."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "add clients")
        scopes = _scopes(opened, school, "")
        issued = opened.clients.add(contact_email, name, [s.school_id for s in scopes], actor=actor)
    _print_client(issued)


@clients_app.command("secret")
def client_secret_command(contact_email: str, acting_as: AsOpt = None) -> None:
    """New credentials for a client; the old ones stop working at once."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "renew client secrets")
        issued = opened.clients.new_secret(contact_email, actor=actor)
    _print_client(issued)


@clients_app.command("revoke")
def client_revoke_command(client_id: str, acting_as: AsOpt = None) -> None:
    """Revoke a client id: no more access tokens for it (those issued expire within the hour)."""
    with _accounts() as opened:
        actor = acting_admin(opened, acting_as, "revoke clients")
        opened.clients.revoke(client_id, actor=actor)
    print(f"client {client_id} revoked")
