"""Sending in the chain: the voorlopig advies goes to the school's test provider through the
outbox (retried while the provider is down, failed at once when it refuses), and the command line
sends a school's whole Deelnemerslijst and Schooladviezenlijst. The provider is a real HTTP server
on a local port; every message it receives is checked against the standard's own schema."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container, bootstrap
from service.chain.messages import group_id
from service.cli import app
from service.imports.pupils import import_pupils
from service.imports.running import pupil_id_for
from service.intake.standard import errors_in
from service.schools.register import School
from service.settings import Settings
from service.store.migrate import upgrade
from service.store.schema import outbox, pupils, schools
from tests.conftest import Clock
from workflows.calendar import SchoolYear
from workflows.commands import CorrectProvisionalAdvice, GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OIN, ROUTE = "0000000700011BB00000", "0000000700011BB00530"
CODES = {
    "vestigingscode": "00",
    "onderwijsaanbiedercode": "123A123",
    "onderwijslocatiecode": "123X123",
    "administratienr": "99",
}
YEAR = SchoolYear.parse("2025-2026")
PUPILS = (
    "leerlingnummer;roepnaam;tussenvoegsel;achternaam;groep;klas;geboortedatum;geslacht;voorletters\n"
    "1;Noor;de;Vries;8;8A;12-05-2013;V;N.E.\n"
    "2;Daan;;Jansen;8;8B;;M;\n"
    "3;Sem;van der;Berg;8;8C;03-02-2014;;\n"
    "4;Lot;;Smit;7;7A;03-02-2015;V;\n"
)
runner = CliRunner()


@dataclass
class Provider:
    """A test provider's chain API: records what it receives, answers with the next status."""

    answers: list[int] = field(default_factory=list)
    received: list[tuple[str, dict[str, list[str]], dict[str, str], Any]] = field(
        default_factory=list
    )
    url: str = ""
    imported: list[tuple[str, dict[str, list[str]], dict[str, str], Any]] = field(
        default_factory=list
    )
    gets: int = 0


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            parts = urlsplit(self.path)
            state.received.append((parts.path, parse_qs(parts.query), dict(self.headers), body))
            status = state.answers.pop(0) if state.answers else 202
            melding = {"melding": "Ontvangen" if status < 300 else "Ongeldige inhoud"}
            answer = json.dumps({**melding, "code": str(status)}).encode()
            if status == 204:
                answer = b""
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url + "/elders")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self) -> None:
            state.gets += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/doorstroomtoetsketen/v1.1"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def chain(
    database_url: str, clock: Clock, tmp_path: Path, provider: Provider
) -> Iterator[Container]:
    settings = Settings(
        database_url=database_url, mail_dir=tmp_path / "mail", chain_token="keten-geheim"
    )
    container = bootstrap(settings, clock=clock)
    upgrade(container.engine)
    container.register.add_school(SCHOOL)
    container.register.set_routing(SCHOOL.id, ROUTE, OIN)
    container.register.set_chain_codes(SCHOOL.id, CODES, provider.url)
    clock.now = datetime(2026, 1, 12, 9, tzinfo=UTC)
    path = tmp_path / "leerlingen.csv"
    path.write_text(PUPILS, encoding="utf-8")
    report = import_pupils(container, path, school=SCHOOL.brin, school_year=YEAR)
    assert report.committed, report.errors
    worker = container.outbox_worker()
    while worker.run_once():  # the import's Deelnemerslijsten (see the test below)
        pass
    provider.imported, provider.received = provider.received, []
    yield container
    container.close()


def give(container: Container, number: str, advice: SchoolAdvice) -> None:
    container.trajectories.execute(
        pupil_id_for(SCHOOL.id, number),
        GiveProvisionalAdvice(advice=advice, given_on=date(2026, 1, 12)),
        CommandContext(actor=Actor("juf", "leerkracht")),
    )


def outbox_row(container: Container) -> dict[str, Any]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(outbox).where(outbox.c.topic == "chain_provisional_advice")
        ).all()
    assert len(rows) == 1
    return dict(rows[0]._mapping)


def test_imported_groep_8_pupils_are_registered_with_the_provider_through_the_outbox(
    chain: Container, provider: Provider
) -> None:
    sent = {body["deelnemers"][0]["roepnaam"] for path, _, _, body in provider.imported}
    assert sent == {"Noor", "Sem"}, "groep 7 (Lot) does not take the test yet"
    assert all(path.endswith("/registreren") for path, *_ in provider.imported)
    assert all(errors_in("Deelnemerslijst", body) == [] for *_, body in provider.imported)
    [(_, _, attempts, error)] = chain.outbox_worker().failed()
    assert attempts == 1, "no retries: the register must be completed first"
    assert "Daan Jansen" in error
    assert "geen geboortedatum in de administratie" in error


def test_a_voorlopig_advies_reaches_the_provider_after_it_was_down_for_a_while(
    chain: Container, provider: Provider, clock: Clock
) -> None:
    give(chain, "1", SchoolAdvice.HAVO)
    provider.answers = [503]
    worker = chain.outbox_worker()
    assert worker.run_once() == 1
    row = outbox_row(chain)
    assert (row["attempts"], row["done_at"], row["failed_at"]) == (1, None, None)
    assert "503" in row["last_error"]
    clock.now += timedelta(minutes=1)
    assert worker.run_once() == 1
    assert outbox_row(chain)["done_at"] is not None

    assert len(provider.received) == 2, "the same message, once more after the 503"
    path, query, headers, body = provider.received[-1]
    assert path.endswith("/registreren-schooladviezen")
    assert query == {"edu-to": [OIN], "edu-from": [ROUTE]}
    assert headers["Authorization"] == "Bearer keten-geheim"
    assert errors_in("Schooladviezenlijst", body) == []
    assert body["schooljaar"] == "2025-2026"
    assert body["deelnemersgroep"] == {"instellingscode": "01AA", **CODES}
    assert body["voorlopigSchooladviezen"] == [
        {
            "deelnemerref": [
                {"label": "LAS-key", "onderwijsdeelnemerID": str(pupil_id_for(SCHOOL.id, "1"))}
            ],
            "advies": "HAVO",
        }
    ]


def test_a_correction_sends_the_corrected_advice(
    chain: Container, provider: Provider, clock: Clock
) -> None:
    give(chain, "1", SchoolAdvice.HAVO)
    clock.now += timedelta(days=1)
    chain.trajectories.execute(
        pupil_id_for(SCHOOL.id, "1"),
        CorrectProvisionalAdvice(
            advice=SchoolAdvice.HAVO_TM_VWO, corrected_on=date(2026, 1, 13), reason="typfout"
        ),
        CommandContext(actor=Actor("juf", "leerkracht")),
    )
    assert chain.outbox_worker().run_once() == 2
    adviezen = [body["voorlopigSchooladviezen"][0]["advies"] for *_, body in provider.received]
    assert adviezen == ["HAVO_TM_VWO", "HAVO_TM_VWO"], "each retry sends what holds now"


def test_a_refusal_is_failed_at_once_with_the_providers_melding(
    chain: Container, provider: Provider
) -> None:
    give(chain, "2", SchoolAdvice.VMBO_KB)
    provider.answers = [422]
    assert chain.outbox_worker().run_once() == 1
    row = outbox_row(chain)
    assert row["failed_at"] is not None
    assert row["attempts"] == 1
    assert "422 Ongeldige inhoud" in row["last_error"]


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_from_the_provider_is_received_and_not_sent_again(
    chain: Container, provider: Provider, clock: Clock, status: int
) -> None:
    give(chain, "1", SchoolAdvice.HAVO)
    provider.answers = [status]
    worker = chain.outbox_worker()
    assert worker.run_once() == 1
    row = outbox_row(chain)
    assert row["done_at"] is not None, row["last_error"]
    assert (row["attempts"], row["failed_at"], row["last_error"]) == (0, None, None)
    clock.now += timedelta(hours=1)
    assert worker.run_once() == 0
    assert len(provider.received) == 1


def test_a_redirect_is_not_followed_and_fails_at_once_naming_where_it_points(
    chain: Container, provider: Provider
) -> None:
    give(chain, "1", SchoolAdvice.HAVO)
    provider.answers = [302]
    assert chain.outbox_worker().run_once() == 1
    row = outbox_row(chain)
    assert (row["attempts"], row["done_at"]) == (1, None)
    assert row["failed_at"] is not None
    assert "302 doorverwezen naar" in row["last_error"]
    assert provider.gets == 0, "a POST is never turned into a GET"


def test_a_school_without_a_chain_link_sends_nothing(chain: Container, provider: Provider) -> None:
    with chain.engine.begin() as conn:
        conn.execute(update(schools).values(provider_url=None))
    give(chain, "1", SchoolAdvice.HAVO)
    assert chain.outbox_worker().run_once() == 1
    assert outbox_row(chain)["done_at"] is not None
    assert provider.received == []


def acting_ib(chain: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line acts for the school's intern begeleider (ADVIESTRAJECT_ACTOR)."""
    chain.accounts.add_user("ib@school.nl", "Ilse IB", Role.IB, [Scope(SCHOOL.id)])
    monkeypatch.setenv("ADVIESTRAJECT_ACTOR", "ib@school.nl")


def test_the_command_line_sends_the_deelnemerslijst_and_names_who_is_left_out(
    chain: Container, provider: Provider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    acting_ib(chain, monkeypatch)
    monkeypatch.setenv("ADVIESTRAJECT_CHAIN_TOKEN", "keten-geheim")
    args = ["school", "send-participants", "01AA", "--school-year", "2025-2026"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "niet verstuurd: Daan Jansen: geen geboortedatum in de administratie" in result.stdout
    assert "01AA: Deelnemerslijst met 2 leerlingen" in result.stdout
    (path, _, _, body) = provider.received[-1]
    assert path.endswith("/registreren")
    assert errors_in("Deelnemerslijst", body) == []
    noor, sem = body["deelnemers"]  # by class: 8A before 8C
    assert (noor["voorvoegsel"], noor["achternaam"], noor["roepnaam"]) == ("de", "Vries", "Noor")
    assert noor["extensie"] == {
        "label": "Demografisch",
        "voorletters": "NE",
        "geboortedatum": "2013-05-12",
        "geslacht": 2,
    }
    assert (sem["voorvoegsel"], sem["groep"], sem["extensie"]["geslacht"]) == (
        "van der",
        group_id(SCHOOL.id, "2025-2026", "8C"),
        9,
    )
    assert {g["id"]: (g["omschrijving"], g["niveau"]["niveau"]) for g in body["groepen"]} == {
        group_id(SCHOOL.id, "2025-2026", "8A"): ("8A", "8"),
        group_id(SCHOOL.id, "2025-2026", "8C"): ("8C", "8"),
    }


def test_a_group_has_the_same_meaningless_id_in_every_message_of_the_school_year(
    chain: Container, provider: Provider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    acting_ib(chain, monkeypatch)
    one_by_one = {
        body["deelnemers"][0]["roepnaam"]: body["deelnemers"][0]["groep"]
        for *_, body in provider.imported
    }
    args = ["school", "send-participants", "01AA", "--school-year", "2025-2026"]
    assert runner.invoke(app, args).exit_code == 0
    (*_, whole) = provider.received[-1]
    at_once = {p["roepnaam"]: p["groep"] for p in whole["deelnemers"]}
    assert one_by_one == at_once, "the outbox's lists of one and the school's list agree"
    assert len(set(at_once.values())) == 2, "8A and 8C are two groups"
    for group in whole["groepen"]:
        assert str(uuid.UUID(group["id"])) == group["id"], "an opaque id, not the class name"


def test_the_command_line_sends_every_advice_and_says_so_when_the_provider_is_down(
    chain: Container, provider: Provider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    acting_ib(chain, monkeypatch)
    give(chain, "1", SchoolAdvice.HAVO)
    give(chain, "2", SchoolAdvice.VMBO_KB)
    args = ["school", "send-advice", "01AA", "--school-year", "2025-2026"]
    shown = runner.invoke(app, [*args, "--print"])
    assert shown.exit_code == 0, shown.output
    printed = json.loads(shown.stdout[: shown.stdout.rindex("}") + 1])
    assert errors_in("Schooladviezenlijst", printed) == []
    assert provider.received == [], "--print sends nothing"

    sent = runner.invoke(app, args)
    assert sent.exit_code == 0, sent.output
    assert "Schooladviezenlijst met 2 adviezen" in sent.stdout
    assert len(provider.received[-1][3]["voorlopigSchooladviezen"]) == 2

    with chain.engine.begin() as conn:
        conn.execute(update(schools).values(provider_url="http://127.0.0.1:9/x"))
    down = runner.invoke(app, args)
    assert down.exit_code == 2
    assert down.stderr.count("\n") == 1
    assert "127.0.0.1:9" in down.stderr


def test_an_imported_tussenvoegsel_reaches_the_deelnemerslijst_as_the_voorvoegsel(
    chain: Container, provider: Provider, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Leerlingnr;Roepnaam;Tussenv.;Achternaam;Groep;Klas;Geboortedatum\n"
        "11;Fenna;van het;Hof;8;8A;01-02-2014\n"
        "12;Mees;uit den;Bogaard;8;8A;02-03-2014\n"
        "13;Lieke;;Van Dijk;8;8A;03-04-2014\n",
        encoding="utf-8",
    )
    assert import_pupils(chain, path, school=SCHOOL.brin, school_year=YEAR).committed
    worker = chain.outbox_worker()
    while worker.run_once():
        pass
    sent = {
        body["deelnemers"][0]["roepnaam"]: body["deelnemers"][0] for *_, body in provider.received
    }
    assert all(errors_in("Deelnemerslijst", body) == [] for *_, body in provider.received)
    named = {name: (p.get("voorvoegsel"), p["achternaam"]) for name, p in sent.items()}
    assert named == {
        "Fenna": ("van het", "Hof"),
        "Mees": ("uit den", "Bogaard"),
        "Lieke": (None, "Van Dijk"),
    }


def test_the_pupil_import_keeps_what_the_deelnemerslijst_needs(chain: Container) -> None:
    with chain.engine.connect() as conn:
        stored = conn.execute(select(pupils.c.initials, pupils.c.sex).order_by(pupils.c.id)).all()
    assert sorted(stored, key=str) == sorted(
        [("NE", 2), (None, 1), (None, None), (None, 2)], key=str
    )
