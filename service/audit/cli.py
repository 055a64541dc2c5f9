"""Who is at the command line: the person's account, never the operating system's user.

A command that records facts about pupils (an import) or shows or sends their data (the chain's
lists) names the account it acts for with `--as <e-mail>` or ADVIESTRAJECT_ACTOR. The account
must exist, be active, have a role that may do this, and work at the school concerned; else the
command stops with exit code 2 and one line, before it stores or shows anything. Its events then
carry the account's id and role (the timeline shows the person's name), and what it shows is in
the access log like an API read, under one request id `cli:<hex>` per run.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Annotated

import typer

from service.accounts.accounts import (
    AccountError,
    normalise_email,
    principal_from_rows,
    principal_select,
)
from service.accounts.roles import Principal, Role
from service.audit.access_log import record_reads
from service.bootstrap import Container
from service.clitools import fail
from service.store.schema import users

ACTOR_ENV = "ADVIESTRAJECT_ACTOR"

AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar=ACTOR_ENV,
        show_envvar=True,
        help="E-mailadres van het account namens wie dit gebeurt (verplicht)",
    ),
]


def _roles(roles: Collection[Role]) -> str:
    return " or ".join(sorted(role.label for role in roles))


def acting_account(
    opened: Container,
    email: str | None,
    roles: Collection[Role],
    doing: str,
    school: str | None = None,
) -> Principal:
    """The active account named by `--as` whose role is one of `roles` and, when `school` (a
    BRIN or id) is given, who works there; else exit 2 with one line saying what is wrong."""
    if not email or not email.strip():
        raise fail(f"name the account to {doing} for: --as <e-mail> (or {ACTOR_ENV})")
    try:
        wanted = normalise_email(email)
    except AccountError:
        raise fail(f"--as {email}: not an e-mail address") from None
    with opened.engine.connect() as conn:
        rows = conn.execute(principal_select().where(users.c.email == wanted)).all()
    if not rows:
        raise fail(f"--as {wanted}: no such account")
    if not rows[0].active:
        raise fail(f"--as {wanted}: the account is disabled")
    who = principal_from_rows(rows)
    if who.role not in roles:
        raise fail(
            f"--as {wanted}: an account of role {who.role.label} may not {doing} "
            f"(only {_roles(roles)})"
        )
    if school is not None:
        found = {
            code: s.id for s in opened.register.schools() for code in (s.brin.upper(), s.id.upper())
        }.get(school.strip().upper())
        if found is not None and found not in who.school_ids:
            raise fail(f"--as {wanted}: the account does not work at school {school}")
    return who


def record_cli_reads(opened: Container, who: Principal, pupil_ids: Sequence[str], what: str) -> str:
    """The access log's rows for what a command showed or sent of these pupils; the run's
    request id (`cli:<hex>`)."""
    request_id = f"cli:{uuid.uuid4().hex}"
    record_reads(
        opened.engine,
        who,
        list(pupil_ids),
        f"opdrachtregel: {what}"[:100],
        opened.clock(),
        request_id,
    )
    return request_id
