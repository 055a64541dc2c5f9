"""The administration trail, on both databases: every change to accounts, tokens, test
providers' links and schools — on the command line for the beheer account named with `--as` (or
ADVIESTRAJECT_ACTOR), on the website for the signed-in account — is a row with who, how, what,
to whom, and the role, schools and classes before and after. A missing, unknown, disabled or
non-beheer `--as` exits 2 with one line and stores nothing; an installation without a beheer
account records its first one (and what precedes it) as the installation's, naming the OS user.
Beheer reads every row at /beheer/logboek (and as CSV), directie those about its own school; the
rows can be neither changed nor deleted."""

from __future__ import annotations

import csv
import getpass
import html
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, inspect, select, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.api.deps import SESSION_COOKIE
from service.bootstrap import Container
from service.cli import app
from service.schools.register import School
from service.store.migrate import alembic_config, current_revision, head_revision, upgrade
from service.store.schema import admin_trail, admin_trail_schools, schools, users

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
BEA = "bea@bestuur.nl"
ROUTE, OIN = "0000000700011AA00530", "0000000700011AA00000"
CODES = ["--vestigingscode", "00", "--onderwijsaanbiedercode", "123A123"]
CODES += ["--onderwijslocatiecode", "123X123", "--administratienr", "01"]
runner = CliRunner()


def _environment(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = container.settings
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ADVIESTRAJECT_KEY_FILE", str(settings.key_file))
    monkeypatch.setenv("ADVIESTRAJECT_MAIL_DIR", str(settings.mail_dir))
    monkeypatch.delenv("ADVIESTRAJECT_ACTOR", raising=False)


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    """Two schools; Bea of beheer, a disabled beheer account, a directie and a teacher."""
    _environment(container, monkeypatch)
    for school in (SCHOOL, OTHER):
        container.register.add_school(school)
    add = container.accounts.add_user
    add(BEA, "Bea Beheer", Role.BEHEER)
    add("oud@bestuur.nl", "Oud Beheer", Role.BEHEER)
    container.accounts.disable("oud@bestuur.nl")
    add("dirk@school.nl", "Dirk Directeur", Role.DIRECTIE, [Scope(SCHOOL.id)])
    add("juf@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")])
    add("dora@andere.nl", "Dora Anders", Role.DIRECTIE, [Scope(OTHER.id)])
    return container


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    done = runner.invoke(app, list(args), input=stdin)
    return done.exit_code, done.stdout, done.stderr


def trail(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(admin_trail).order_by(admin_trail.c.id)).all())


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (admin_trail, users, schools)
        )


INVITE = ["user", "invite", "nieuw@school.nl", *("--name", "Nieuw", "--role", "ib")]
INVITE += ["--school", "01AA"]


REFUSALS = [  # (command, --as, the one line), for each way an account can be wrong
    (
        INVITE,
        [],
        "name the account to invite users for: --as <e-mail> (or ADVIESTRAJECT_ACTOR)",
    ),
    (INVITE, ["--as", "niemand@bestuur.nl"], "--as niemand@bestuur.nl: no such account"),
    (INVITE, ["--as", "oud@bestuur.nl"], "--as oud@bestuur.nl: the account is disabled"),
    (
        INVITE,
        ["--as", "dirk@school.nl"],
        "--as dirk@school.nl: an account of role directie may not invite users (only beheer)",
    ),
    (
        ["school", "add", "03CC", "De Derde School"],
        ["--as", "juf@school.nl"],
        "--as juf@school.nl: an account of role leerkracht may not add schools (only beheer)",
    ),
    (
        ["school", "routing", "01AA", "--edu-to", ROUTE, "--oin", OIN],
        [],
        "name the account to set a school's routing for: --as <e-mail> (or ADVIESTRAJECT_ACTOR)",
    ),
    (
        ["school", "chain", "01AA", *CODES, "--provider-url", "https://toets.example.nl"],
        ["--as", "oud@bestuur.nl"],
        "--as oud@bestuur.nl: the account is disabled",
    ),
    (
        ["client", "add", "koppeling@iep.nl", "--name", "IEP", "--school", "01AA"],
        ["--as", "niemand@bestuur.nl"],
        "--as niemand@bestuur.nl: no such account",
    ),
    (
        ["user", "disable", "juf@school.nl"],
        [],
        "name the account to disable users for: --as <e-mail> (or ADVIESTRAJECT_ACTOR)",
    ),
    (
        ["user", "token", "juf@school.nl"],
        ["--as", "dirk@school.nl"],
        "--as dirk@school.nl: an account of role directie may not make tokens (only beheer)",
    ),
]


def test_a_change_without_a_beheer_account_to_name_exits_2_with_one_line_and_stores_nothing(
    cli: Container,
) -> None:
    before = counts(cli.engine)
    for command, extra, said in REFUSALS:
        code, _, stderr = run(*command, *extra)
        assert (code, stderr.strip()) == (2, f"adviestraject: {said}"), command
    assert counts(cli.engine) == before
    assert cli.register.routing_of(SCHOOL.id) is None
    juf = next(a for a in cli.accounts.accounts() if a.principal.email == "juf@school.nl")
    assert juf.active
    assert not cli.accounts.tokens_of("juf@school.nl")


def test_every_administrative_command_is_recorded_under_the_account_named_with_as(
    cli: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ok(*args: str, stdin: str | None = None) -> str:
        code, out, err = run(*args, stdin=stdin)
        assert code == 0, err
        return out

    ok(*INVITE, "--as", BEA)
    add = ["user", "add", "juf2@school.nl", "--name", "Juf Bo", "--role", "leerkracht"]
    ok(*add, "--school", "01AA", "--class", "8B", "--as", BEA)
    monkeypatch.setenv("ADVIESTRAJECT_ACTOR", BEA)  # the environment names the account as well
    ok("user", "passwd", "juf2@school.nl", "--password-stdin", stdin="een-lang-wachtwoord\n")
    ok("user", "disable", "juf@school.nl")
    ok("user", "enable", "juf@school.nl")
    ok("user", "link", "nieuw@school.nl")
    ok("user", "token", "juf@school.nl", "--name", "script")
    token_id = ok("user", "tokens", "juf@school.nl").split()[0]
    ok("user", "revoke", token_id)
    ok("client", "add", "koppeling@iep.nl", "--name", "IEP", "--school", "01AA")
    renewed = ok("client", "secret", "koppeling@iep.nl")  # the first client id stops working
    client_id = renewed.split("client_id=", 1)[1].split()[0]
    ok("client", "revoke", client_id)
    ok("school", "add", "03CC", "De Derde School")
    ok("school", "routing", "01AA", "--edu-to", ROUTE, "--oin", OIN)
    ok("school", "chain", "01AA", *CODES, "--provider-url", "https://toets.example.nl/keten")

    rows = trail(cli.engine)
    assert [r.action for r in rows] == [
        "account.invited",
        "account.added",
        "account.password",
        "account.disabled",
        "account.enabled",
        "account.link",
        "token.issued",
        "token.revoked",
        "client.added",
        "client.secret",
        "client.revoked",
        "school.added",
        "school.routing",
        "school.chain",
    ]
    bea = next(u for u in cli.accounts.list_users() if u.email == BEA)
    assert {(r.actor_id, r.actor, r.actor_role, r.via) for r in rows} == {
        (bea.user_id, "Bea Beheer <bea@bestuur.nl>", "beheer", "cli")
    }
    by_action = {r.action: r for r in rows}
    assert by_action["account.added"].subject == "Juf Bo <juf2@school.nl>"
    assert by_action["account.added"].after["scopes"] == [[SCHOOL.id, "8B"]]
    assert by_action["account.added"].after["role"] == "leerkracht"
    disabled = by_action["account.disabled"]
    assert (disabled.before["active"], disabled.after["active"]) == (True, False)
    assert disabled.before["scopes"] == [[SCHOOL.id, "8A"]]
    # a revocation is about the token's or client's account, so its schools' directie sees it
    juf = next(u for u in cli.accounts.list_users() if u.email == "juf@school.nl")
    revoked = by_action["token.revoked"]
    assert (revoked.subject_id, revoked.subject) == (juf.user_id, "Juf Anna <juf@school.nl>")
    assert revoked.after == {"token": token_id}
    assert by_action["client.revoked"].subject.endswith("<koppeling@iep.nl>")
    assert by_action["client.revoked"].after == {"koppeling": client_id}
    with cli.engine.connect() as conn:
        revocations = conn.execute(
            select(admin_trail_schools.c.school_id).where(
                admin_trail_schools.c.entry_id.in_([revoked.id, by_action["client.revoked"].id])
            )
        ).all()
    assert [c.school_id for c in revocations] == [SCHOOL.id, SCHOOL.id]
    assert by_action["school.routing"].before is None
    assert by_action["school.routing"].after == {"edu-to": ROUTE, "edu-from": OIN}
    with cli.engine.connect() as conn:
        concerned = conn.execute(
            select(admin_trail_schools.c.school_id).where(
                admin_trail_schools.c.entry_id == disabled.id
            )
        ).all()
    assert [c.school_id for c in concerned] == [SCHOOL.id]


def test_a_fresh_installation_records_its_first_beheer_account_as_the_installations_by_os_user(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(container, monkeypatch)
    refused = run("user", "add", BEA, "--name", "Bea", "--role", "beheer", "--as", "x@bestuur.nl")
    assert refused[0] == 2
    assert refused[2].strip() == "adviestraject: --as x@bestuur.nl: no such account"
    assert counts(container.engine)[:2] == (0, 0)

    code, _, stderr = run("user", "add", BEA, "--name", "Bea Beheer", "--role", "beheer")
    assert code == 0, stderr
    (first,) = trail(container.engine)
    assert (first.action, first.actor_id, first.actor_role, first.via) == (
        "account.added",
        None,
        None,
        "cli",
    )
    assert first.actor == (f"installatie zonder beheeraccount (OS-gebruiker {getpass.getuser()})")
    # from now on the installation has an account to name
    code, _, stderr = run("user", "add", "twee@bestuur.nl", "--name", "Twee", "--role", "beheer")
    assert code == 2
    assert "name the account to add users for: --as <e-mail>" in stderr
    assert len(trail(container.engine)) == 1


def test_the_trail_cannot_be_changed_or_deleted(cli: Container) -> None:
    code, _, stderr = run("user", "disable", "juf@school.nl", "--as", BEA)
    assert code == 0, stderr
    for statement in (
        update(admin_trail).values(actor="iemand anders"),
        delete(admin_trail_schools),
        delete(admin_trail),
    ):
        with pytest.raises(DBAPIError, match="append-only"), cli.engine.begin() as conn:
            conn.execute(statement)
    (row,) = trail(cli.engine)
    assert row.actor == "Bea Beheer <bea@bestuur.nl>"


# --- the website -------------------------------------------------------------------------------


def start_session(client: TestClient, email: str) -> None:
    """A session of `email` in `client`, as the login form starts it (without the form's
    password hash: the form is tested elsewhere)."""
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    who = next(a.principal for a in container.accounts.accounts() if a.principal.email == email)
    client.cookies.set(SESSION_COOKIE, container.sessions.start(who, "testclient").cookie)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def browser(container: Container, email: str) -> TestClient:
    client = TestClient(create_app(container), follow_redirects=False)
    start_session(client, email)
    return client


def cells(page: str) -> list[tuple[str, ...]]:
    body = page.split('<tbody class="utrecht-table__body">', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        found = re.findall(r'<td class="utrecht-table__cell"[^>]*>(.*?)</td>', row, re.S)
        rows.append(tuple(html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found))
    return rows


def test_changes_on_the_website_are_recorded_and_shown_to_beheer_and_to_directie_of_the_school(
    cli: Container, tmp_path: Path
) -> None:
    beheer = browser(cli, BEA)
    page = beheer.get("/beheer/accounts").text
    invited = beheer.post(
        "/beheer/accounts",
        data={
            "csrf_token": csrf(page),
            "name": "Nieuwe Juf",
            "email": "nieuw@school.nl",
            "role": "leerkracht",
            "school": SCHOOL.id,
            "classes": "8A",
        },
    )
    assert invited.status_code == 303, invited.text
    new = next(u for u in cli.accounts.list_users() if u.email == "nieuw@school.nl")
    form = beheer.get(f"/beheer/accounts/{new.user_id}").text
    changed = beheer.post(
        f"/beheer/accounts/{new.user_id}",
        data={
            "csrf_token": csrf(form),
            "school": SCHOOL.id,
            "classes": "8A, 8B",
            "was": re.search(r'name="was" value="([^"]+)"', form)[1],  # type: ignore[index]
        },
    )
    assert changed.status_code == 303, changed.text
    dora = next(u for u in cli.accounts.list_users() if u.email == "dora@andere.nl")
    off = beheer.post(
        f"/beheer/accounts/{dora.user_id}/uitschakelen", data={"csrf_token": csrf(form)}
    )
    assert off.status_code == 303, off.text
    school_form = beheer.get("/beheer/scholen").text
    added = beheer.post(
        "/beheer/scholen",
        data={"csrf_token": csrf(school_form), "brin": "03CC", "name": "De Derde School"},
    )
    assert added.status_code == 303, added.text

    rows = trail(cli.engine)
    assert [(r.action, r.via, r.actor) for r in rows] == [
        ("account.invited", "web", "Bea Beheer <bea@bestuur.nl>"),
        ("account.scopes", "web", "Bea Beheer <bea@bestuur.nl>"),
        ("account.disabled", "web", "Bea Beheer <bea@bestuur.nl>"),
        ("school.added", "web", "Bea Beheer <bea@bestuur.nl>"),
    ]
    assert rows[1].before["scopes"] == [[SCHOOL.id, "8A"]]
    assert rows[1].after["scopes"] == [[SCHOOL.id, "8A"], [SCHOOL.id, "8B"]]

    shown = cells(beheer.get("/beheer/logboek").text)
    assert {row[1:3] for row in shown} == {("Bea Beheer <bea@bestuur.nl> (beheer)", "website")}
    assert [row[3:5] for row in shown] == [
        ("school toegevoegd", "03CC De Derde School"),
        ("uitgeschakeld", "Dora Anders <dora@andere.nl>"),
        ("school en klassen gewijzigd", "Nieuwe Juf <nieuw@school.nl>"),
        ("uitgenodigd", "Nieuwe Juf <nieuw@school.nl>"),
    ]
    assert shown[1][5:] == ("directie; 02BB; actief", "directie; 02BB; uitgeschakeld")
    assert shown[2][5:] == ("leerkracht; 01AA/8A", "leerkracht; 01AA/8A, 01AA/8B")

    exported = beheer.get("/beheer/logboek.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    read = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert read[0] == ["Wanneer", "Wie", "Via", "Wat", "Betreft", "Voor", "Na"]
    assert [tuple(r) for r in read[1:]] == shown

    # directie of the first school: the rows about its own people, on the page, the CSV and
    # the account's own page
    directie = browser(cli, "dirk@school.nl")
    own = cells(directie.get("/beheer/logboek").text)
    assert [row[3:5] for row in own] == [
        ("school en klassen gewijzigd", "Nieuwe Juf <nieuw@school.nl>"),
        ("uitgenodigd", "Nieuwe Juf <nieuw@school.nl>"),
    ]
    exported_own = directie.get("/beheer/logboek.csv").content.decode("utf-8-sig")
    assert "Dora Anders" not in exported_own
    assert "De Derde School" not in exported_own
    on_account = cells(directie.get(f"/beheer/accounts/{new.user_id}").text)
    assert [row[3] for row in on_account[-2:]] == ["school en klassen gewijzigd", "uitgenodigd"]


def test_beheer_and_directie_find_the_trail_in_the_menu_and_others_do_not(cli: Container) -> None:
    for email, listed in ((BEA, True), ("dirk@school.nl", True), ("juf@school.nl", False)):
        page = browser(cli, email).get("/").text
        menu = page.split('aria-label="Hoofdmenu"', 1)[1].split("</nav>", 1)[0]
        assert ('href="/beheer/logboek"' in menu) is listed, email
        assert ("Logboek beheer" in menu) is listed, email


def test_people_who_do_not_manage_accounts_do_not_see_the_trail(cli: Container) -> None:
    teacher = browser(cli, "juf@school.nl")
    for path in ("/beheer/logboek", "/beheer/logboek.csv"):
        refused = teacher.get(path)
        assert refused.status_code == 403
        assert "logboek van het beheer niet" in refused.text
    visitor = TestClient(create_app(cli), follow_redirects=False)
    assert visitor.get("/beheer/logboek").headers["location"] == "/login"


def test_the_migration_of_the_trail_goes_down_and_up_again(engine: Engine) -> None:
    """Migration 0018 (the trail, the erasures) can be undone and redone on both databases."""
    revision = "0017_report_facts"
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        alembic.downgrade(config, revision)
    assert current_revision(engine) == revision
    assert not {"admin_trail", "admin_trail_schools", "pupil_erasures"} & set(
        inspect(engine).get_table_names()
    )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.begin() as conn:  # the triggers are back
        conn.execute(
            admin_trail.insert().values(
                at=datetime.now(UTC),
                actor="x",
                via="cli",
                action="school.added",
                subject_id="s",
                subject="s",
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(admin_trail))
