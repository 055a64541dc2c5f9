"""The report pages through the real app on a generated school year (3 schools, every path):
directie and IB see their own school only, the bestuur its schools side by side without names,
a leerkracht is refused; a figure leads to exactly the pupils behind it (in the access log), each
to the dossier; CSV, XLSX and PDF download with their type and name and carry the integrity line,
and a broken chain shows as broken on the page and in the PDF."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import event, select, text

from bench.report_year import GeneratedYear, PupilPath, generate
from service.accounts.roles import Role, Scope
from service.audit.integrity import check_now
from service.bootstrap import Container
from service.schools.register import Pupil
from service.shared.context import Actor, CommandContext
from service.store.schema import access_log
from tests.conftest import Clock, sqlite_url
from tests.e2e.web import PASSWORD, browse
from workflows.commands import EnrolPupil


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "reports.db")  # the figures themselves are F's, on both DBs


@dataclass
class World:
    container: Container
    year: GeneratedYear

    @property
    def first(self) -> str:
        return self.year.schools[0].id

    def paths(self, school_id: str) -> list[PupilPath]:
        return [p for p in self.year.paths if p.school_id == school_id]

    def client(self, email: str) -> TestClient:
        return browse(self.container, email)


@pytest.fixture
def world(container: Container, clock: Clock) -> World:
    def set_clock(moment: datetime) -> None:
        clock.now = moment

    year = generate(container, set_clock, schools=3, pupils_per_school=36, seed=15)
    a, b, c = (s.id for s in year.schools)
    for email, role, scopes in (
        ("directie@a.nl", Role.DIRECTIE, [Scope(a)]),
        ("ib@a.nl", Role.IB, [Scope(a)]),
        ("juf@a.nl", Role.LEERKRACHT, [Scope(a, "8A")]),
        ("bestuur@b.nl", Role.BESTUUR, [Scope(a), Scope(b), Scope(c)]),
    ):
        container.accounts.add_user(email, email.split("@")[0].title(), role, scopes, PASSWORD)
    return World(container, year)


def cell_link(page: str, row: str, column: str) -> str:
    """The drill-down link of the figure in this row and column (by its accessible name)."""
    found = re.search(rf'href="([^"]+)" aria-label="\d+ leerling(?:en)?: {re.escape(row)}, '
                      rf'{re.escape(column)}"', page)  # fmt: skip
    assert found, f"no link for {row} / {column}"
    return unescape(found.group(1))


def test_directie_and_ib_see_their_own_school_and_its_figures(world: World) -> None:
    names = [s.name for s in world.year.schools]
    staying = [p for p in world.paths(world.first) if not p.left]
    for email in ("directie@a.nl", "ib@a.nl"):
        client = world.client(email)
        answer = client.get("/rapportage?jaar=2025-2026")
        assert answer.status_code == 200
        page = answer.text
        assert f"Rapportage {names[0]}, schooljaar 2025-2026" in page
        assert names[1] not in page
        assert names[2] not in page
        link = cell_link(page, "groep 8 (op school)", "Aantal")
        assert f">{len(staying)}</a>" in page
        assert link.startswith("/rapportage/leerlingen?")
        # another school's id in the address changes nothing
        other = client.get(f"/rapportage?jaar=2025-2026&school={world.year.schools[1].id}")
        assert names[1] not in other.text
        assert names[0] in other.text


def test_the_page_shows_charts_beside_tables_and_the_integrity_line(world: World) -> None:
    page = world.client("directie@a.nl").get("/rapportage?jaar=2025-2026").text
    assert page.count('role="img"') >= 5
    for title in (
        "Definitief advies × toetsadvies",
        "Uitkomst van de heroverwegingen",
        "Advies bijgesteld na een hoger toetsadvies, per groep",
    ):
        assert f">{title}</title>" in page
    for caption in ("Heroverwegingen", "Naleving van het wettelijk tijdpad", "Gelijke kansen"):
        assert f'<caption class="utrecht-table__caption">{caption}</caption>' in page
    assert "De keten is nog niet gecontroleerd." in page
    assert "style=" not in page
    assert "<script>" not in page


def test_a_figure_leads_to_exactly_the_pupils_behind_it_each_read_logged(world: World) -> None:
    client = world.client("directie@a.nl")
    page = client.get("/rapportage?jaar=2025-2026").text
    kept = {p.pupil_id for p in world.paths(world.first) if p.outcome == "kept" and not p.left}
    assert kept, "the generated year has kept heroverwegingen"
    answer = client.get(cell_link(page, "gehandhaafd", "Aantal"))
    assert answer.status_code == 200
    listed = re.findall(r'href="/leerlingen/([0-9a-f-]{36})/dossier"', answer.text)
    assert set(listed) == kept
    assert len(listed) == len(kept)
    assert f"{len(kept)} leerling" in answer.text
    with world.container.engine.connect() as conn:
        logged = conn.execute(
            select(access_log.c.pupil_id).where(access_log.c.what == "rapportage")
        ).all()
    assert {r.pupil_id for r in logged} == kept
    dossier = client.get(f"/leerlingen/{listed[0]}/dossier")
    assert dossier.status_code == 200


def test_the_bestuur_compares_its_schools_without_names(world: World) -> None:
    a, b, c = world.year.schools
    client = world.client("bestuur@b.nl")
    every = client.get("/bestuur?jaar=2025-2026").text
    assert all(s.name in every for s in (a, b, c))
    two = client.get(f"/bestuur?jaar=2025-2026&school={a.id}&school={c.id}").text
    assert "Scholen naast elkaar" in two
    head = re.search(r"<caption[^>]*>Scholen naast elkaar.*?</thead>", two, re.S)
    assert head
    assert a.name in head.group(0)
    assert c.name in head.group(0)
    assert b.name not in head.group(0)
    staying = sum(1 for p in world.year.paths if p.school_id in (a.id, c.id) and not p.left)
    assert re.search(rf'scope="row">groep 8 \(op school\)</th>.*?>{staying}</td>', two, re.S)
    assert "/rapportage/leerlingen" not in two
    assert "/dossier" not in two
    one = client.get(f"/bestuur?jaar=2025-2026&school={a.id}").text
    assert "Kies twee of meer scholen om te vergelijken." in one
    assert client.get("/rapportage").headers["location"] == "/bestuur"
    drill = client.get(f"/rapportage/leerlingen?school={a.id}&tabel=overzicht&rij=0&kolom=1")
    assert drill.status_code == 403


def test_a_teacher_is_refused_the_reports_and_their_exports(world: World) -> None:
    client = world.client("juf@a.nl")
    for path in (
        "/rapportage",
        "/bestuur",
        "/rapportage/rapportage.xlsx",
        "/rapportage/rapportage.pdf",
        "/rapportage/heroverwegingen.csv",
        "/rapportage/leerlingen?tabel=overzicht&rij=0&kolom=1",
    ):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Geen toegang" in answer.text
    assert 'href="/rapportage"' not in client.get("/").text


def test_exports_download_with_type_name_and_the_integrity_line(world: World) -> None:
    check_now(world.container)
    client = world.client("directie@a.nl")
    brin = world.year.schools[0].brin.lower()
    page = client.get("/rapportage?jaar=2025-2026").text
    line = re.search(r"Keten geverifieerd tot en met positie \d+ op [^<]+", page)
    assert line
    integrity = line.group(0).strip()

    answer = client.get(f"/rapportage/heroverwegingen.csv?jaar=2025-2026&school={world.first}")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert disposition == f'attachment; filename="rapportage-{brin}-2025-2026-heroverwegingen.csv"'
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Heroverweging", "Aantal", "%"]
    assert rows[-1] == ["Integriteit", integrity]
    kept = [p for p in world.paths(world.first) if p.outcome == "kept" and not p.left]
    assert ["gehandhaafd", str(len(kept))] == rows[4][:2]

    answer = client.get(f"/rapportage/rapportage.xlsx?jaar=2025-2026&school={world.first}")
    assert answer.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f'filename="rapportage-{brin}-2025-2026.xlsx"' in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book["Heroverwegingen"]
    assert sheet["A2"].value == f"Integriteit: {integrity}"
    assert [c.value for c in sheet[9]][:2] == ["gehandhaafd", len(kept)]

    answer = client.get(f"/rapportage/rapportage.pdf?jaar=2025-2026&school={world.first}")
    assert answer.headers["content-type"] == "application/pdf"
    assert f'filename="rapportage-{brin}-2025-2026.pdf"' in answer.headers["content-disposition"]
    words = " ".join(pdf_text(answer.content).split())
    assert integrity in words
    assert "Heroverwegingen" in words
    assert f"gehandhaafd {len(kept)}" in words

    board = world.client("bestuur@b.nl").get("/bestuur/bestuur.xlsx?jaar=2025-2026")
    assert 'filename="bestuur-2025-2026.xlsx"' in board.headers["content-disposition"]


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode()


def test_a_broken_chain_shows_as_broken_on_the_page_and_in_the_pdf(world: World) -> None:
    engine = world.container.engine
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("UPDATE events SET data = '{}' WHERE position = 3"))
    check_now(world.container)
    client = world.client("directie@a.nl")
    page = client.get("/rapportage?jaar=2025-2026").text
    assert "De keten is verbroken bij positie 3" in page
    pdf = client.get(f"/rapportage/rapportage.pdf?jaar=2025-2026&school={world.first}").content
    assert "De keten is verbroken bij positie 3" in " ".join(pdf_text(pdf).split())


def test_over_the_years_the_school_report_puts_its_years_side_by_side(world: World) -> None:
    pupil = uuid.uuid4()
    world.container.register.add_pupil(Pupil(str(pupil), world.first, "Eva", "Eerder", "8A"))
    enrol = EnrolPupil(
        school_id=world.first, school_year="2024-2025", groep=8, enrolled_on=date(2024, 8, 26)
    )
    world.container.trajectories.execute(
        pupil, enrol, CommandContext(actor=Actor("user:test", "directie"))
    )
    client = world.client("directie@a.nl")
    page = client.get("/rapportage?jaar=2025-2026").text
    head = re.search(r"<caption[^>]*>Kerncijfers per schooljaar</caption>.*?</thead>", page, re.S)
    assert head
    year_head = r'>(?:<span class="v-nobreak">)?(\d{4}-\d{4})(?:</span>)?</th>'
    years = re.findall(year_head, head.group(0))
    assert years == ["2024-2025", "2025-2026"]
    assert ">Heroverwegingen per schooljaar</title>" in page
    # the earlier year's one pupil, followed from the years table
    answer = client.get(cell_link(page, "2024-2025", "nog geen"))
    assert re.findall(r'href="/leerlingen/([0-9a-f-]{36})/dossier"', answer.text) == [str(pupil)]
    older = client.get("/rapportage?jaar=2024-2025").text
    assert "Rapportage Basisschool 01, schooljaar 2024-2025" in older


def test_a_report_page_takes_a_few_statements_whatever_the_number_of_pupils(world: World) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    directie, bestuur = world.client("directie@a.nl"), world.client("bestuur@b.nl")
    event.listen(world.container.engine, "before_cursor_execute", count)
    try:
        for client, path in ((directie, "/rapportage"), (bestuur, "/bestuur")):
            statements.clear()
            assert client.get(f"{path}?jaar=2025-2026").status_code == 200
            assert len(statements) <= 12, (path, len(statements), statements)
    finally:
        event.remove(world.container.engine, "before_cursor_execute", count)
    assert len(world.paths(world.first)) == 36  # a query per pupil would be 36 at least


def test_an_address_that_is_not_a_school_year_or_a_figure_gets_a_page_not_an_error(
    world: World,
) -> None:
    client = world.client("directie@a.nl")
    for year in ("abc", "0000-0001", "2025-2027"):
        answer = client.get(f"/rapportage?jaar={year}")
        assert answer.status_code == 200
        assert "schooljaar 2025-2026" in answer.text  # the current one (the clock: April 2026)
    for query in ("tabel=bestaat-niet&rij=0&kolom=1", "tabel=overzicht&rij=99&kolom=1",
                  "tabel=overzicht&rij=x&kolom=1", "tabel=overzicht&rij=0&kolom=0"):  # fmt: skip
        answer = client.get(f"/rapportage/leerlingen?jaar=2025-2026&{query}")
        assert answer.status_code == 404, query
        assert "Cijfer niet gevonden" in answer.text
    assert client.get("/rapportage/bestaat-niet.csv").status_code == 404


def test_a_chart_and_its_table_with_the_same_title_show_that_title_once(world: World) -> None:
    page = world.client("directie@a.nl").get("/rapportage?jaar=2025-2026").text
    for title in ("Definitief advies × toetsadvies", "Voorlopig advies × toetsadvies"):
        assert page.count(f'<figcaption class="v-chart__caption">{title}</figcaption>') == 1
        assert f'<caption class="utrecht-table__caption">{title}</caption>' not in page
        # the table keeps its caption for a screen reader
        hidden = f'<caption class="utrecht-table__caption app-visually-hidden">{title}</caption>'
        assert hidden in page


def test_on_a_phone_a_chart_is_a_scroll_box_that_says_it_scrolls_and_labels_wrap_at_slashes(
    world: World,
) -> None:
    page = world.client("directie@a.nl").get("/rapportage?jaar=2025-2026").text
    assert 'class="v-chart__scroll" role="region" aria-label="Grafiek: ' in page
    assert "Schuif opzij om de hele grafiek te zien." in page
    assert (
        '<span class="v-nobreak">vmbo-bb</span>/<wbr><span class="v-nobreak">vmbo-kb</span>' in page
    )
    board = world.client("bestuur@b.nl").get("/bestuur?jaar=2025-2026").text
    assert "Schuif opzij om de hele tabel te zien." in board
