"""An administrative change and its row in the administration trail are one unit of work, on
both databases: when the row cannot be written (here a trigger that the test adds to its own
database refuses every insert into `admin_trail`), the change is not stored either — on the
command line, on the website's beheer pages and through the users API. And the users API records
its changes, under the token's account, as made through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.cli import app
from service.store.schema import (
    admin_trail,
    admin_trail_schools,
    api_tokens,
    client_credentials,
    invitations,
    schools,
    user_schools,
    users,
)
from tests.e2e.test_admin_trail import (
    BEA,
    CODES,
    OIN,
    ROUTE,
    SCHOOL,
    _environment,
    browser,
    cells,
    csrf,
    start_session,
    trail,
)

REFUSED = "trail refused by the test"
STORED = (
    users,
    user_schools,
    api_tokens,
    invitations,
    client_credentials,
    schools,
    admin_trail,
    admin_trail_schools,
)
runner = CliRunner()


def refuse_trail_rows(engine: Engine) -> None:
    """A trigger in the test's own database that makes every insert into the trail fail."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_trail_rows() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_trail_rows BEFORE INSERT ON admin_trail "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_trail_rows()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_trail_rows BEFORE INSERT ON admin_trail "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
                )
            )


def allow_trail_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER refuse_trail_rows ON admin_trail"))
            conn.execute(text("DROP FUNCTION refuse_trail_rows()"))
        else:
            conn.execute(text("DROP TRIGGER refuse_trail_rows"))


def stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table an administrative change writes."""
    with engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(str(value) for value in row) for row in conn.execute(select(table))),
            )
            for table in STORED
        }


@pytest.fixture
def given(container: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    """A school; Bea of beheer; a teacher, a test provider's client with a token of its own,
    a school without routing: something for every kind of change to act on."""
    _environment(container, monkeypatch)
    container.register.add_school(SCHOOL)
    add = container.accounts.add_user
    add(BEA, "Bea Beheer", Role.BEHEER)
    add("juf@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")])
    add("weg@school.nl", "Weg Geweest", Role.IB, [Scope(SCHOOL.id)])
    container.accounts.disable("weg@school.nl")
    container.clients.add("koppeling@iep.nl", "IEP", [SCHOOL.id])
    container.accounts.issue_token("koppeling@iep.nl", "script", 7)
    return container


def _token_id(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == "script")).scalar_one()
        )


def _client_id(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(client_credentials.c.client_id)).scalar_one())


def test_a_command_whose_trail_row_cannot_be_written_stores_nothing(given: Container) -> None:
    engine = given.engine
    commands = [
        ["user", "add", "nieuw@bestuur.nl", "--name", "Nieuw", "--role", "beheer"],
        ["user", "invite", "ib@school.nl", "--name", "IB", "--role", "ib", "--school", "01AA"],
        ["user", "link", "juf@school.nl"],
        ["user", "disable", "juf@school.nl"],
        ["user", "enable", "weg@school.nl"],
        ["user", "passwd", "juf@school.nl", "--password-stdin"],
        ["user", "token", "koppeling@iep.nl"],
        ["user", "revoke", _token_id(engine)],
        ["client", "add", "cito@cito.nl", "--name", "Cito", "--school", "01AA"],
        ["client", "secret", "koppeling@iep.nl"],
        ["client", "revoke", _client_id(engine)],
        ["school", "add", "03CC", "De Derde School"],
        ["school", "routing", "01AA", "--edu-to", ROUTE, "--oin", OIN],
        ["school", "chain", "01AA", *CODES, "--provider-url", "https://toets.example.nl"],
    ]
    refuse_trail_rows(engine)
    before = stored(engine)
    for command in commands:
        done = runner.invoke(app, [*command, "--as", BEA], input="een-lang-genoeg-wachtwoord\n")
        assert done.exit_code != 0, (command, done.stdout, done.stderr)
        assert REFUSED in done.stderr, (command, done.stderr)
        assert stored(engine) == before, command
    assert not list(given.settings.mail_dir.glob("*.eml"))  # nobody was sent a link

    allow_trail_rows(engine)  # the same command, with its row: both are stored
    done = runner.invoke(app, [*commands[3], "--as", BEA])
    assert done.exit_code == 0, done.stderr
    assert [(r.action, r.via) for r in trail(engine)] == [("account.disabled", "cli")]
    assert not any(
        a.active for a in given.accounts.accounts() if a.principal.email == "juf@school.nl"
    )


def test_a_beheer_page_whose_trail_row_cannot_be_written_stores_nothing(given: Container) -> None:
    engine = given.engine
    beheer = TestClient(create_app(given), follow_redirects=False, raise_server_exceptions=False)
    start_session(beheer, BEA)
    juf = next(u for u in given.accounts.list_users() if u.email == "juf@school.nl")
    weg = next(u for u in given.accounts.list_users() if u.email == "weg@school.nl")
    account_form = beheer.get(f"/beheer/accounts/{juf.user_id}").text
    token = csrf(account_form)
    was = re.search(r'name="was" value="([^"]+)"', account_form)[1]  # type: ignore[index]
    invite = {"name": "IB", "email": "ib@school.nl", "role": "ib", "school": SCHOOL.id}
    posts = [
        ("/beheer/accounts", invite),
        (f"/beheer/accounts/{juf.user_id}", {"school": SCHOOL.id, "classes": "8A, 8B", "was": was}),
        (f"/beheer/accounts/{juf.user_id}/uitschakelen", {}),
        (f"/beheer/accounts/{weg.user_id}/inschakelen", {}),
        (f"/beheer/accounts/{juf.user_id}/nieuwe-link", {}),
        ("/beheer/scholen", {"brin": "03CC", "name": "De Derde School"}),
    ]
    refuse_trail_rows(engine)
    before = stored(engine)
    for path, data in posts:
        answer = beheer.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 500, (path, answer.status_code)
        assert stored(engine) == before, path
    assert not list(given.settings.mail_dir.glob("*.eml"))  # nobody was sent a link

    allow_trail_rows(engine)
    path, data = posts[2]
    assert beheer.post(path, data={"csrf_token": token, **data}).status_code == 303
    assert [(r.action, r.via) for r in trail(engine)] == [("account.disabled", "web")]


@pytest.fixture
def api(given: Container) -> Iterator[TestClient]:
    token = given.accounts.issue_token(BEA, "beheerscript", days=7).token
    with TestClient(
        create_app(given),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def _api_changes(given: Container, link_for: str) -> list[tuple[str, dict[str, Any] | None]]:
    """A change of each kind; the last sends `link_for` a new link (an active account then)."""
    juf = next(u for u in given.accounts.list_users() if u.email == "juf@school.nl")
    weg = next(u for u in given.accounts.list_users() if u.email == "weg@school.nl")
    client = next(u for u in given.accounts.list_users() if u.email == "koppeling@iep.nl")
    link = next(u for u in given.accounts.list_users() if u.email == link_for)
    new = {
        "email": "ib@school.nl",
        "name": "IB",
        "role": "ib",
        "scopes": [{"school_id": SCHOOL.id}],
    }
    return [
        ("/api/v1/users", new),
        (f"/api/v1/users/{juf.user_id}/disable", None),
        (f"/api/v1/users/{weg.user_id}/enable", None),
        (f"/api/v1/users/{client.user_id}/tokens", {"name": "nog een", "days": 7}),
        (f"/api/v1/tokens/{_token_id(given.engine)}/revoke", None),
        (f"/api/v1/users/{link.user_id}/invitation", None),
    ]


def test_a_users_api_change_whose_trail_row_cannot_be_written_stores_nothing(
    given: Container, api: TestClient
) -> None:
    engine = given.engine
    changes = _api_changes(given, "juf@school.nl")
    refuse_trail_rows(engine)
    before = stored(engine)
    for path, body in changes:
        answer = api.post(path, json=body)
        assert answer.status_code == 500, (path, answer.status_code, answer.text)
        assert stored(engine) == before, path
    assert not list(given.settings.mail_dir.glob("*.eml"))  # nobody was sent a link


def test_the_users_api_records_its_changes_under_the_tokens_account(
    given: Container, api: TestClient
) -> None:
    for path, body in _api_changes(given, "weg@school.nl"):  # switched on by then
        answer = api.post(path, json=body)
        assert answer.status_code < 300, (path, answer.text)
    rows = trail(given.engine)
    assert {(r.via, r.actor, r.actor_role) for r in rows} == {
        ("api", "Bea Beheer <bea@bestuur.nl>", "beheer")
    }
    assert [(r.action, r.subject) for r in rows] == [
        ("account.added", "IB <ib@school.nl>"),
        ("account.disabled", "Juf Anna <juf@school.nl>"),
        ("account.enabled", "Weg Geweest <weg@school.nl>"),
        ("token.issued", "IEP <koppeling@iep.nl>"),
        ("token.revoked", "IEP <koppeling@iep.nl>"),  # the token's account
        ("account.link", "Weg Geweest <weg@school.nl>"),
    ]
    added, disabled = rows[0], rows[1]
    assert added.after == {
        "role": "ib",
        "scopes": [[SCHOOL.id, ""]],
        "active": True,
        "wachtwoord": "nee",
    }
    assert (disabled.before["active"], disabled.after["active"]) == (True, False)
    # directie of the school reads them on its page, as it reads the website's
    with given.engine.connect() as conn:
        concerned = set(conn.execute(select(admin_trail_schools.c.school_id)).scalars())
    assert concerned == {SCHOOL.id}
    shown = cells(browser(given, BEA).get("/beheer/logboek").text)
    assert [row[2] for row in shown] == ["API"] * len(rows)
