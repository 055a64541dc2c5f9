"""A real school starts: beheer adds the school (command line or browser), invites its people,
who choose a password through the link in the invitation e-mail; /api/v1/me and /schools tell
each role who it is and where it works. Through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import shlex
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.accounts.accounts import AccountError
from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container, bootstrap
from service.chain.messages import chain_school
from service.cli import app as cli
from service.schools.register import School
from service.settings import Settings
from service.store.schema import invitations, schools, users
from tests.conftest import Clock
from tests.e2e.web import csrf, hidden, log_in, try_log_in

ADMIN, ADMIN_PASSWORD = "it@bestuur.nl", "beheer-wachtwoord-1"
NEW_PASSWORD = "mijn eigen goede zin"
OTHER = School(id="school-2", brin="02BB", name="De Tweede School")
runner = CliRunner()


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def migrated(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    return database_url


def test_a_school_added_on_the_command_line_takes_users_and_pupils(
    migrated: str, tmp_path: Path
) -> None:
    added = runner.invoke(
        cli,
        [
            *("school", "add", "12ab", "OBS  De Regenboog", "--vestigingscode", "00"),
            *("--onderwijsaanbiedercode", "123A123", "--administratienr", "01"),
        ],
    )
    assert added.exit_code == 0, added.output
    school_id = re.search(r"id ([0-9a-f-]{36})", added.output)
    assert school_id, added.output
    listed = runner.invoke(cli, ["school", "list"])
    assert f"12AB  {school_id[1]}  OBS De Regenboog  geen ketenroutering" in listed.output

    teacher = runner.invoke(
        cli,
        [
            *("user", "add", "juf@regenboog.nl", "--name", "Juf Anna", "--role", "leerkracht"),
            *("--school", "12AB", "--class", "8A"),
        ],
    )
    assert teacher.exit_code == 0, teacher.output
    assert (
        "juf@regenboog.nl  leerkracht  Juf Anna  12AB/8A"
        in runner.invoke(cli, ["user", "list"]).output
    )

    csv = tmp_path / "leerlingen.csv"
    csv.write_text(
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
        "5001;Fenna;van;Dijk;8;8A\n5002;Milan;;Bos;8;8A\n",
        encoding="utf-8",
    )
    ib = ["user", "add", "ib@regenboog.nl", "--name", "Ilse IB", "--role", "ib", "--school", "12AB"]
    assert runner.invoke(cli, ib).exit_code == 0
    imported = runner.invoke(
        cli, ["import", "pupils", str(csv), "--school", "12AB", "--as", "ib@regenboog.nl"]
    )
    assert imported.exit_code == 0, imported.output
    assert "2 regels opgeslagen (2 nieuw)" in imported.output


def test_school_chain_takes_the_codes_in_the_standards_forms(migrated: str) -> None:
    assert runner.invoke(cli, ["school", "add", "12AB", "OBS De Regenboog"]).exit_code == 0
    codes = ["--vestigingscode", "00", "--onderwijsaanbiedercode", "123a123"]
    codes += ["--onderwijslocatiecode", "123X123", "--administratienr", "01"]
    url = ["--provider-url", "https://toets.example.nl/keten"]
    wrong = runner.invoke(cli, ["school", "chain", "12AB", *codes[:-1], "ABC", *url])
    assert wrong.exit_code == 2
    assert (
        wrong.output.strip()
        == "adviestraject: --administratienr: de administratienr is 2 cijfers, bijv. 01"
    )
    done = runner.invoke(cli, ["school", "chain", "12AB", *codes, *url])
    assert done.exit_code == 0, done.output
    opened = bootstrap(Settings(database_url=migrated))
    try:
        school = next(s for s in opened.register.schools() if s.brin == "12AB")
        found = chain_school(opened.engine, school.id)
    finally:
        opened.close()
    assert found is not None
    assert found.codes == {
        "vestigingscode": "00",
        "onderwijsaanbiedercode": "123A123",
        "onderwijslocatiecode": "123X123",
        "administratienr": "01",
    }
    assert found.provider_url == "https://toets.example.nl/keten"


def test_the_command_line_invites_and_sends_a_new_link(
    migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("ADVIESTRAJECT_PUBLIC_URL", "https://adviestraject.bestuur.nl")
    assert runner.invoke(cli, ["school", "add", "12AB", "OBS De Regenboog"]).exit_code == 0
    invited = runner.invoke(
        cli,
        [
            *("user", "invite", "dirk@regenboog.nl", "--name", "Dirk", "--role", "directie"),
            *("--school", "12AB"),
        ],
    )
    assert invited.exit_code == 0, invited.output
    assert "dirk@regenboog.nl  directie  Dirk  12AB" in runner.invoke(cli, ["user", "list"]).output
    (first,) = (tmp_path / "mail").glob("uitnodiging-*.eml")
    message = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert "https://adviestraject.bestuur.nl/uitnodiging/" in message.get_content()
    assert "als directie bij OBS De Regenboog" in message.get_content()

    again = runner.invoke(cli, ["user", "link", "Dirk@Regenboog.nl"])
    assert again.exit_code == 0, again.output
    assert len(list((tmp_path / "mail").glob("uitnodiging-*.eml"))) == 2
    unknown = runner.invoke(cli, ["user", "link", "niemand@regenboog.nl"])
    assert unknown.exit_code == 2
    assert "geen gebruiker" in unknown.output
    assert runner.invoke(cli, ["user", "disable", "dirk@regenboog.nl"]).exit_code == 0
    disabled = runner.invoke(cli, ["user", "link", "dirk@regenboog.nl"])
    assert disabled.exit_code == 2
    assert "uitgeschakeld" in disabled.output
    assert runner.invoke(cli, ["user", "enable", "dirk@regenboog.nl"]).exit_code == 0


def test_the_readme_section_a_real_school_starts_runs_as_written(
    migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("## A real school starts", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    csv = text.split("```csv\n", 1)[1].split("```", 1)[0]  # the README's pupil export
    (tmp_path / "leerlingen.csv").write_text(csv, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADVIESTRAJECT_MAIL_DIR", str(tmp_path / "mail"))
    ran = 0
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[0] != ".venv/bin/adviestraject" or words[1] == "migrate":
            continue
        typed = "een-lang-wachtwoord\n" * 2 if "--password" in words else None
        result = runner.invoke(cli, words[1:], input=typed)
        assert result.exit_code == 0, (line, result.output)
        ran += 1
    assert ran == 4
    assert "school 12AB added: OBS De Regenboog" in section
    assert len(list((tmp_path / "mail").glob("uitnodiging-*.eml"))) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["12A", "School"], "BRIN: een BRIN-nummer is 2 cijfers en 2 letters"),
        (["12AB", "  "], "NAME: geef de naam van de school"),
        (["12AB", "School", "--vestigingscode", "0"], "--vestigingscode: de vestigingscode is"),
        (["12AB", "School", "--onderwijsaanbiedercode", "1234567"], "3 cijfers, de letter A"),
        (["12AB", "School", "--provider-url", "ftp://x"], "--provider-url: geef het adres"),
        (["12AB", "School", "--edu-to", "0000000700012AB00530"], "--oin: geef het"),
        (["99ZZ", "Nog een"], "BRIN: BRIN 99ZZ is al van De Eerste"),
    ],
)
def test_a_bad_school_is_one_line_exit_2_and_nothing_is_stored(
    migrated: str, arguments: list[str], message: str
) -> None:
    assert runner.invoke(cli, ["school", "add", "99zz", "De Eerste"]).exit_code == 0
    result = runner.invoke(cli, ["school", "add", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    listed = runner.invoke(cli, ["school", "list"]).output.strip().splitlines()
    assert len(listed) == 1
    assert listed[0].startswith("99ZZ  ")


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture
def browser(container: Container) -> Iterator[TestClient]:
    container.accounts.add_user(ADMIN, "IT van het bestuur", Role.BEHEER, [], ADMIN_PASSWORD)
    with TestClient(
        create_app(container), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def post_form(browser: TestClient, path: str, data: dict[str, object]) -> httpx2.Response:
    form = "/beheer/accounts" if path.startswith("/beheer/accounts") else "/beheer/scholen"
    token = csrf(browser.get(form).text)
    return browser.post(path, data={**data, "csrf_token": token})


def mails(container: Container) -> list[email.message.EmailMessage]:
    found = sorted(Path(container.settings.mail_dir).glob("uitnodiging-*.eml"))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in found]


def link_in(message: email.message.EmailMessage) -> str:
    body = message.get_content()
    found = re.search(r"https?://\S+(/uitnodiging/[A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)


def count(container: Container, table: object) -> int:
    with container.engine.connect() as conn:
        total: int = conn.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[arg-type]
        return total


def add_school_in_browser(browser: TestClient) -> str:
    done = post_form(browser, "/beheer/scholen", {"brin": "12ab", "name": "OBS De Regenboog"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/beheer/scholen?toegevoegd=12AB"
    page = browser.get(done.headers["location"])
    assert "School 12AB is toegevoegd" in page.text
    found = re.search(
        r"12AB</td>\s*<td[^>]*>OBS De Regenboog<br>\s*<span[^>]*>id <code>([^<]+)", page.text
    )
    assert found, page.text
    return found.group(1)


def invite(browser: TestClient, **fields: object) -> httpx2.Response:
    return post_form(browser, "/beheer/accounts", fields)


def test_beheer_adds_a_school_invites_a_teacher_who_sets_a_password_and_logs_in(
    browser: TestClient, container: Container
) -> None:
    log_in(browser, ADMIN, ADMIN_PASSWORD)
    school_id = add_school_in_browser(browser)

    sent = invite(
        browser,
        name="Anna de Groot",
        email="Anna@Regenboog.nl",
        role="leerkracht",
        school=[school_id],
        classes="8A, 8B",
    )
    assert sent.status_code == 303, sent.text
    listing = browser.get(sent.headers["location"])
    assert "De uitnodiging is verstuurd naar anna@regenboog.nl" in listing.text
    assert "12AB OBS De Regenboog: 8A, 8B" in listing.text
    assert "uitgenodigd" in listing.text
    (mail,) = mails(container)
    assert mail["To"] == "anna@regenboog.nl"
    assert "als leerkracht bij OBS De Regenboog" in mail.get_content()
    link = link_in(mail)
    token = link.rsplit("/", 1)[1]
    with container.engine.connect() as conn:  # only the link's hash is stored
        stored = conn.execute(select(invitations.c.token_hash)).scalars().all()
        assert len(stored) == 1
        assert token not in stored[0]
        assert (
            conn.execute(
                select(users.c.password_hash).where(users.c.email == "anna@regenboog.nl")
            ).scalar()
            is None
        )

    browser.cookies.clear()
    form = browser.get(link)
    assert form.status_code == 200
    assert "Welkom, Anna de Groot" in form.text
    short = browser.post(
        link,
        data={"password": "kort", "password_again": "kort", "csrf_token": csrf(form.text)},
    )
    assert short.status_code == 422
    assert "minstens 12 tekens" in short.text
    assert 'aria-invalid="true"' in short.text
    different = browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD + "!",
            "csrf_token": csrf(short.text),
        },
    )
    assert different.status_code == 422
    assert "niet gelijk" in different.text
    done = browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "csrf_token": csrf(different.text),
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    me = browser.get("/api/v1/me").json()
    assert (me["email"], me["role"], me["name"]) == (
        "anna@regenboog.nl",
        "leerkracht",
        "Anna de Groot",
    )
    assert me["schools"] == [
        {
            "id": school_id,
            "brin": "12AB",
            "name": "OBS De Regenboog",
            "whole_school": False,
            "classes": ["8A", "8B"],
        }
    ]

    again = browser.get(link)  # the link works once
    assert again.status_code == 410
    assert "al gebruikt" in again.text
    assert "<form" not in again.text.split("<main", 1)[1].split("</main>")[0]
    log_in(browser, "anna@regenboog.nl", NEW_PASSWORD)


def test_an_expired_unknown_or_forged_link_is_refused_with_a_dutch_page(
    browser: TestClient, container: Container, clock: Clock
) -> None:
    container.register.add_school(OTHER)
    invited = container.accounts.invite(
        "ib@tweede.nl", "Ilse Bakker", Role.IB, [Scope(OTHER.id)], invited_by=None
    )
    link = f"/uitnodiging/{invited.token}"
    form = browser.get(link)
    assert form.status_code == 200
    forged = browser.post(
        link, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "csrf_token": "x"}
    )
    assert forged.status_code == 400
    assert "Het formulier was verlopen" in forged.text

    clock.now += timedelta(hours=72, seconds=1)
    expired = browser.get(link)
    assert expired.status_code == 410
    assert "Deze link is verlopen" in expired.text
    late = browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "csrf_token": csrf(form.text),
        },
    )
    assert late.status_code == 410
    assert container.accounts.check_password("ib@tweede.nl", NEW_PASSWORD) is None

    unknown = browser.get("/uitnodiging/bestaat-niet")
    assert unknown.status_code == 404
    assert "Deze link kennen wij niet" in unknown.text


def test_the_access_log_does_not_show_a_links_token(caplog: pytest.LogCaptureFixture) -> None:
    import service.web.invitations  # noqa: F401, PLC0415 - installs the filter, as the app does

    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "10.0.0.1", "GET", "/uitnodiging/geheim123", "1.1", 200
        )
    assert "geheim123" not in caplog.text
    assert '"GET /uitnodiging/… HTTP/1.1" 200' in caplog.text


def test_one_link_used_twice_at_once_sets_one_password(container: Container) -> None:
    container.register.add_school(OTHER)
    invited = container.accounts.invite(
        "ib@tweede.nl", "Ilse Bakker", Role.IB, [Scope(OTHER.id)], invited_by=None
    )
    passwords = [f"wachtwoord-nummer-{n}" for n in range(4)]
    start = threading.Barrier(len(passwords))

    def use(password: str) -> str:
        start.wait()
        try:
            container.accounts.accept_invitation(invited.token, password)
        except AccountError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(len(passwords)) as pool:
        outcomes = list(pool.map(use, passwords))
    assert sorted(outcomes) == ["invitation_used"] * 3 + ["ok"]
    chosen = passwords[outcomes.index("ok")]
    assert container.accounts.check_password("ib@tweede.nl", chosen) is not None
    assert container.accounts.invitation(invited.token).state == "used"


def test_disable_enable_and_reset_from_the_accounts_page(
    browser: TestClient, container: Container
) -> None:
    container.register.add_school(OTHER)
    container.accounts.add_user(
        "juf@tweede.nl", "Juf Tess", Role.LEERKRACHT, [Scope(OTHER.id, "8A")], "oud-wachtwoord-1"
    )
    teacher_id = container.accounts.accounts()[1].principal.user_id  # by e-mail: it@, juf@
    teacher = TestClient(create_app(container), follow_redirects=False)
    log_in(teacher, "juf@tweede.nl", "oud-wachtwoord-1")
    assert teacher.get("/api/v1/me").status_code == 200

    log_in(browser, ADMIN, ADMIN_PASSWORD)
    off = post_form(browser, f"/beheer/accounts/{teacher_id}/uitschakelen", {})
    assert off.status_code == 303
    assert "is uitgeschakeld" in browser.get(off.headers["location"]).text
    assert teacher.get("/api/v1/me").status_code == 401  # the open session ended at once
    assert try_log_in(teacher, "juf@tweede.nl", "oud-wachtwoord-1").status_code == 401
    refused = post_form(browser, f"/beheer/accounts/{teacher_id}/nieuwe-link", {})
    assert refused.status_code == 409
    assert "schakel het eerst in" in refused.text

    on = post_form(browser, f"/beheer/accounts/{teacher_id}/inschakelen", {})
    assert on.status_code == 303
    log_in(teacher, "juf@tweede.nl", "oud-wachtwoord-1")

    reset = post_form(browser, f"/beheer/accounts/{teacher_id}/nieuwe-link", {})
    assert reset.status_code == 303
    assert "nieuwe link verstuurd naar juf@tweede.nl" in browser.get(reset.headers["location"]).text
    assert teacher.get("/api/v1/me").status_code == 401  # sessions ended
    gone = try_log_in(teacher, "juf@tweede.nl", "oud-wachtwoord-1")
    assert gone.status_code == 401  # the password is gone
    first = link_in(mails(container)[0])
    reset_again = post_form(browser, f"/beheer/accounts/{teacher_id}/nieuwe-link", {})
    assert reset_again.status_code == 303
    links = {link_in(m) for m in mails(container)}
    assert len(links) == 2
    assert teacher.get(first).status_code == 410  # the older link was replaced
    (newest,) = links - {first}
    form = teacher.get(newest)
    chosen = teacher.post(
        newest,
        data={
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "csrf_token": csrf(form.text),
        },
    )
    assert chosen.status_code == 303
    assert teacher.get("/api/v1/me").json()["email"] == "juf@tweede.nl"

    own = post_form(
        browser,
        f"/beheer/accounts/{container.accounts.accounts()[0].principal.user_id}/uitschakelen",
        {},
    )
    assert own.status_code == 403


def test_a_teachers_classes_change_at_once_and_a_stale_form_overwrites_nothing(
    browser: TestClient, container: Container
) -> None:
    container.register.add_school(OTHER)
    container.accounts.add_user(
        "juf@tweede.nl", "Juf Tess", Role.LEERKRACHT, [Scope(OTHER.id, "7A")], "oud-wachtwoord-1"
    )
    teacher_id = next(
        a.principal.user_id for a in container.accounts.accounts() if a.principal.name == "Juf Tess"
    )
    teacher = TestClient(create_app(container), follow_redirects=False)
    log_in(teacher, "juf@tweede.nl", "oud-wachtwoord-1")
    log_in(browser, ADMIN, ADMIN_PASSWORD)
    form = browser.get(f"/beheer/accounts/{teacher_id}")
    assert form.status_code == 200
    assert 'value="7A"' in form.text
    was = hidden(form.text, "was")

    def change(classes: str, stamp: str) -> httpx2.Response:
        return browser.post(
            f"/beheer/accounts/{teacher_id}",
            data={
                "csrf_token": csrf(form.text),
                "was": stamp,
                "school": [OTHER.id],
                "classes": classes,
            },
        )

    empty = change("", was)
    assert empty.status_code == 422
    assert 'id="veld-classes-fout"' in empty.text
    done = change("8A, 8B", was)
    assert done.status_code == 303
    assert (
        "De school en klassen van Juf Tess zijn opgeslagen"
        in browser.get(done.headers["location"]).text
    )
    mine = teacher.get("/api/v1/me").json()["schools"]  # the open session sees it at once
    assert mine[0]["classes"] == ["8A", "8B"]

    stale = change("8C", was)  # a second tab still showing 7A
    assert stale.status_code == 409
    assert "intussen gewijzigd" in stale.text
    assert 'value="8A, 8B"' in stale.text
    assert teacher.get("/api/v1/me").json()["schools"][0]["classes"] == ["8A", "8B"]


def test_bad_input_on_the_beheer_pages_is_422_beside_the_field_and_stores_nothing(
    browser: TestClient, container: Container
) -> None:
    log_in(browser, ADMIN, ADMIN_PASSWORD)
    container.register.add_school(OTHER)
    before = (count(container, schools), count(container, users), count(container, invitations))

    bad_school = post_form(browser, "/beheer/scholen", {"brin": "1", "name": "", "oin": "x"})
    assert bad_school.status_code == 422
    assert 'id="veld-brin-fout"' in bad_school.text
    assert "2 cijfers en 2 letters" in bad_school.text
    assert 'aria-describedby="veld-brin-hint veld-brin-fout"' in bad_school.text
    taken = post_form(browser, "/beheer/scholen", {"brin": "02bb", "name": "Dubbel"})
    assert taken.status_code == 422
    assert "BRIN 02BB is al van De Tweede School" in taken.text

    cases: list[tuple[dict[str, object], str, str]] = [
        ({"role": "leerkracht", "school": [OTHER.id]}, "classes", "hoort bij een klas"),
        ({"role": "ib", "classes": ""}, "school", "kies de school"),
        ({"role": "ib", "school": [OTHER.id], "classes": "8A"}, "classes", "alleen een leerkracht"),
        ({"role": "ib", "school": ["nergens"]}, "school", "onbekende school"),
        ({"role": "koning", "school": [OTHER.id]}, "role", "kies een rol"),
        ({"role": "ib", "school": [OTHER.id], "email": "geen-adres"}, "email", "geen e-mailadres"),
        ({"role": "ib", "school": [OTHER.id], "email": ADMIN}, "email", "er is al een gebruiker"),
        ({"role": "beheer", "school": [OTHER.id]}, "school", "beheer hoort niet bij een school"),
    ]
    for fields, where, text in cases:
        sent = invite(browser, **{"name": "Iemand", "email": "iemand@tweede.nl", **fields})
        assert sent.status_code == 422, (fields, sent.text)
        assert f'id="veld-{where}-fout"' in sent.text, fields
        assert text in sent.text, fields
    no_csrf = browser.post("/beheer/scholen", data={"brin": "03CC", "name": "Zonder token"})
    assert no_csrf.status_code == 403
    assert before == (
        count(container, schools),
        count(container, users),
        count(container, invitations),
    )
    assert mails(container) == []


def test_directie_invites_its_own_teachers_and_nothing_else(
    browser: TestClient, container: Container
) -> None:
    container.register.add_school(OTHER)
    mine = School(id="school-3", brin="03CC", name="De Derde School")
    container.register.add_school(mine)
    container.accounts.add_user(
        "directie@derde.nl", "Dirk Directeur", Role.DIRECTIE, [Scope(mine.id)], ADMIN_PASSWORD
    )
    container.accounts.add_user(
        "juf@tweede.nl", "Juf Tess", Role.LEERKRACHT, [Scope(OTHER.id, "8A")], None
    )
    log_in(browser, "directie@derde.nl", ADMIN_PASSWORD)
    assert browser.get("/beheer/scholen").status_code == 403
    page = browser.get("/beheer/accounts")
    assert page.status_code == 200
    assert "Juf Tess" not in page.text  # another school's account
    assert '<option value="directie"' not in page.text

    ok = invite(
        browser,
        name="Meester Bas",
        email="bas@derde.nl",
        role="leerkracht",
        school=[mine.id],
        classes="8A",
    )
    assert ok.status_code == 303, ok.text
    for fields, where in [
        ({"role": "directie", "school": [mine.id]}, "role"),
        ({"role": "ib", "school": [OTHER.id]}, "school"),
    ]:
        refused = invite(browser, name="X", email="x@derde.nl", **fields)
        assert refused.status_code == 422
        assert f'id="veld-{where}-fout"' in refused.text
    other_teacher = next(
        a.principal.user_id for a in container.accounts.accounts() if a.principal.name == "Juf Tess"
    )
    assert (
        post_form(browser, f"/beheer/accounts/{other_teacher}/uitschakelen", {}).status_code == 404
    )
    assert browser.get(f"/beheer/accounts/{other_teacher}").status_code == 404
    bas_id = next(
        a.principal.user_id
        for a in container.accounts.accounts()
        if a.principal.name == "Meester Bas"
    )
    bas_form = browser.get(f"/beheer/accounts/{bas_id}")
    moved = browser.post(
        f"/beheer/accounts/{bas_id}",
        data={
            "csrf_token": csrf(bas_form.text),
            "was": hidden(bas_form.text, "was"),
            "school": [OTHER.id],
            "classes": "8A",
        },
    )
    assert moved.status_code == 422
    assert 'id="veld-school-fout"' in moved.text
    peek = browser.get(f"/beheer/accounts?melding=uitgenodigd&account={other_teacher}")
    assert "juf@tweede.nl" not in peek.text  # no notice about another school's account
    assert post_form(browser, f"/beheer/accounts/{bas_id}/uitschakelen", {}).status_code == 303
    teacher = TestClient(create_app(container), follow_redirects=False)
    assert try_log_in(teacher, "juf@tweede.nl", "").status_code in (401, 422)
    assert browser.get("/beheer/accounts").status_code == 200


def test_other_roles_and_strangers_reach_no_beheer_page(
    browser: TestClient, container: Container
) -> None:
    container.register.add_school(OTHER)
    container.accounts.add_user("ib@tweede.nl", "Ilse", Role.IB, [Scope(OTHER.id)], ADMIN_PASSWORD)
    assert browser.get("/beheer/accounts").status_code == 303  # to the login
    assert browser.post("/beheer/accounts", data={}).status_code == 303
    log_in(browser, "ib@tweede.nl", ADMIN_PASSWORD)
    for path in ("/beheer/accounts", "/beheer/scholen"):
        assert browser.get(path).status_code == 403


# --- the API ---------------------------------------------------------------------------------


def test_me_and_schools_per_role(container: Container) -> None:
    first = School(id="school-1", brin="01AA", name="De Eerste School")
    for school in (first, OTHER):
        container.register.add_school(school)
    people = [
        ("leerkracht@x.nl", Role.LEERKRACHT, [Scope(first.id, "8A"), Scope(first.id, "8B")]),
        ("ib@x.nl", Role.IB, [Scope(first.id)]),
        ("directie@x.nl", Role.DIRECTIE, [Scope(OTHER.id)]),
        ("bestuur@x.nl", Role.BESTUUR, [Scope(first.id), Scope(OTHER.id)]),
        ("beheer@x.nl", Role.BEHEER, []),
    ]
    tokens = {}
    for address, role, scopes in people:
        container.accounts.add_user(address, address.split("@")[0].title(), role, scopes)
        tokens[role] = container.accounts.issue_token(address, "t", 7).token
    with TestClient(create_app(container), raise_server_exceptions=False) as client:

        def get(role: Role, path: str) -> dict[str, object]:
            answer = client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
            assert answer.status_code == 200, answer.text
            body: dict[str, object] = answer.json()
            return body

        teacher = get(Role.LEERKRACHT, "/api/v1/me")
        assert (teacher["role"], teacher["role_label"], teacher["email"]) == (
            "leerkracht",
            "leerkracht",
            "leerkracht@x.nl",
        )
        assert teacher["schools"] == [
            {
                "id": first.id,
                "brin": "01AA",
                "name": first.name,
                "whole_school": False,
                "classes": ["8A", "8B"],
            }
        ]
        ib = get(Role.IB, "/api/v1/me")
        assert ib["schools"] == [
            {
                "id": first.id,
                "brin": "01AA",
                "name": first.name,
                "whole_school": True,
                "classes": [],
            }
        ]
        assert get(Role.BEHEER, "/api/v1/me")["schools"] == []

        def brins(role: Role) -> list[object]:
            items = get(role, "/api/v1/schools")["items"]
            assert isinstance(items, list)
            return [item["brin"] for item in items]

        assert brins(Role.LEERKRACHT) == ["01AA"]
        assert brins(Role.DIRECTIE) == ["02BB"]
        assert brins(Role.BESTUUR) == ["01AA", "02BB"]  # by name: De Eerste, De Tweede
        assert brins(Role.BEHEER) == ["01AA", "02BB"]

        stranger = client.get("/api/v1/me")
        assert stranger.status_code == 401
        assert stranger.headers["content-type"] == "application/problem+json"
        assert client.get("/api/v1/schools").json()["code"] == "unauthenticated"

        spec = client.get("/api/v1/openapi.json").json()
        for path in ("/api/v1/me", "/api/v1/schools"):
            responses = spec["paths"][path]["get"]["responses"]
            assert "401" in responses
            assert "application/problem+json" in responses["401"]["content"]


def test_a_test_providers_machine_client_gets_no_password_link(
    browser: TestClient, container: Container
) -> None:
    """A provider's client logs in with its own secret: the accounts page offers no
    "Nieuwe link sturen" for it, and a forged POST is refused with nothing sent or reset."""
    container.register.add_school(OTHER)
    client = container.clients.add("koppeling@iep.nl", "IEP-koppeling", [OTHER.id])
    client_id = next(
        a.principal.user_id
        for a in container.accounts.accounts()
        if a.principal.email == "koppeling@iep.nl"
    )
    log_in(browser, ADMIN, ADMIN_PASSWORD)
    listing = browser.get("/beheer/accounts").text
    card = listing[listing.index("IEP-koppeling") :].split("</li>")[0]
    assert "Nieuwe link sturen" not in card

    refused = post_form(browser, f"/beheer/accounts/{client_id}/nieuwe-link", {})
    assert refused.status_code == 422
    assert "koppeling van een toetsaanbieder" in refused.text
    assert mails(container) == []
    assert container.clients.exchange(client.client_id, client.client_secret) is not None
