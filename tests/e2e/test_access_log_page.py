"""The access log page `/toegangslog`, on both databases: directie sees who read which pupil of
their own school (names, never ids), filters by pupil, person and dates, pages through it newest
first, and exports the same rows as CSV and XLSX (read back, they equal the page); the export is
itself in the access log; other roles are refused and a visitor is sent to the login."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]

from service.accounts.roles import Principal, Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of, record_reads
from service.bootstrap import Container
from service.schools.register import Pupil, School
from tests.e2e.web import PASSWORD, browse, table_rows

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam
NOOR, SEM = "Noor de Vries", "Sem Jansen"


@dataclass
class World:
    container: Container
    people: dict[str, Principal]
    pupils: dict[str, str]


@pytest.fixture
def world(container: Container) -> World:
    """Two schools; Noor and Sem at the first, Olaf at the other; their people; reads."""
    for school in (SCHOOL, OTHER):
        container.register.add_school(school)
    pupils = {}
    for given, family, school, klas in (
        ("Noor", "de Vries", SCHOOL, "8A"),
        ("Sem", "Jansen", SCHOOL, "8B"),
        ("Olaf", "Andersen", OTHER, "8"),
    ):
        pupils[given] = str(uuid.uuid4())
        container.register.add_pupil(Pupil(pupils[given], school.id, given, family, klas))
    add = container.accounts.add_user
    here, there = [Scope(SCHOOL.id)], [Scope(OTHER.id)]
    people = {
        "directie": add("dirk@school.nl", "Dirk Directeur", Role.DIRECTIE, here, PASSWORD),
        "ib": add("ilse@school.nl", "Ilse IB", Role.IB, here, PASSWORD),
        "juf": add(
            "anna@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")], PASSWORD
        ),
        "andere": add("dora@andere.nl", "Dora Anders", Role.DIRECTIE, there, PASSWORD),
    }
    engine = container.engine
    record_reads(engine, people["juf"], [pupils["Noor"]], "leerlingpagina", T0)
    record_reads(
        engine,
        people["ib"],
        [pupils["Noor"], pupils["Sem"]],
        "klassenoverzicht",
        T0 + timedelta(days=1),
    )
    record_reads(
        engine,
        people["ib"],
        [pupils["Sem"]],
        "opdrachtregel: deelnemerslijst getoond",
        T0 + timedelta(days=2),
        "cli:1",
    )
    record_reads(
        engine, people["andere"], [pupils["Olaf"]], "leerlingpagina", T0 + timedelta(days=2)
    )
    return World(container, people, pupils)  # fmt: skip


def client_of(world: World, who: str) -> TestClient:
    return browse(world.container, world.people[who].email)


def test_directie_sees_who_read_which_pupil_of_their_school_newest_first(world: World) -> None:
    page = client_of(world, "directie").get("/toegangslog")
    assert page.status_code == 200
    assert 'href="/toegangslog"' in page.text  # in the menu
    ib = ("Ilse IB", "intern begeleider")
    assert table_rows(page.text) == [
        ("14-01-2026 10:00:00", *ib, "Sem Jansen", "8B", "opdrachtregel: deelnemerslijst getoond"),
        ("13-01-2026 10:00:00", *ib, "Sem Jansen", "8B", "klassenoverzicht"),
        ("13-01-2026 10:00:00", *ib, "Noor de Vries", "8A", "klassenoverzicht"),
        ("12-01-2026 10:00:00", "Juf Anna", "leerkracht", "Noor de Vries", "8A", "leerlingpagina"),
    ]
    assert "Olaf" not in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("leerling=VRIES", {(NOOR, "klassenoverzicht"), (NOOR, "leerlingpagina")}),
        ("leerling=olaf", set()),
        ("van=2026-01-13&tot=2026-01-13", {(SEM, "klassenoverzicht"), (NOOR, "klassenoverzicht")}),
        ("tot=2026-01-12", {(NOOR, "leerlingpagina")}),
        ("van=2026-01-14", {(SEM, "opdrachtregel: deelnemerslijst getoond")}),
    ],
    ids=["name-any-case", "other-school", "one-day", "until-inclusive", "since"],
)
def test_the_filters_by_pupil_name_and_dates_narrow_the_rows(
    world: World, query: str, expected: set[tuple[str, str]]
) -> None:
    page = client_of(world, "directie").get(f"/toegangslog?{query}")
    assert page.status_code == 200
    found = table_rows(page.text)
    if not expected:
        assert found == []
        assert "Niets gevonden bij deze filters." in page.text
        return
    assert {(row[3], row[5]) for row in found} == expected


def test_the_filter_by_person_lists_the_readers_by_name(world: World) -> None:
    client = client_of(world, "directie")
    page = client.get("/toegangslog").text
    assert f'<option value="{world.people["juf"].user_id}">Juf Anna (leerkracht)</option>' in page
    assert "Dora Anders" not in page
    only = client.get(f"/toegangslog?persoon={world.people['juf'].user_id}").text
    assert [(r[1], r[3]) for r in table_rows(only)] == [("Juf Anna", "Noor de Vries")]


def test_a_wrong_date_is_said_in_dutch_beside_the_field(world: World) -> None:
    page = client_of(world, "directie").get("/toegangslog?van=gisteren")
    assert page.status_code == 422
    assert "Geef een datum als 2026-03-24." in page.text


def test_the_log_is_paged_fifty_rows_at_a_time(world: World) -> None:
    juf = world.people["juf"]
    for n in range(120):
        record_reads(
            world.container.engine,
            juf,
            [world.pupils["Sem"]],
            f"lezing {n}",
            T0 + timedelta(minutes=n),
        )
    client = client_of(world, "directie")
    first = client.get("/toegangslog?leerling=sem").text
    assert "Pagina 1 van 3" in first
    assert len(table_rows(first)) == 50
    second = client.get("/toegangslog?leerling=sem&pagina=2").text
    rows = table_rows(second)
    assert len(rows) == 50
    assert rows[0][5] == "lezing 69"  # the 51st newest
    last = client.get("/toegangslog?leerling=sem&pagina=3").text
    assert len(table_rows(last)) == 122 - 100


def test_the_xlsx_and_csv_exports_read_back_equal_the_page_and_are_themselves_logged(
    world: World,
) -> None:
    client = client_of(world, "directie")
    query = "leerling=noor"
    shown = table_rows(client.get(f"/toegangslog?{query}").text)
    assert len(shown) == 2

    xlsx = client.get(f"/toegangslog.xlsx?{query}")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"] == 'attachment; filename="toegangslog.xlsx"'
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    sheet = list(book["Toegangslog"].iter_rows(values_only=True))
    assert sheet[0] == ("Wanneer", "Wie", "Rol", "Leerling", "Klas", "Wat")
    assert [tuple(str(c) for c in row) for row in sheet[1:]] == shown
    integrity = list(book["Integriteit"].iter_rows(values_only=True))
    assert integrity[1] == ("De keten is nog niet gecontroleerd.",)

    shown = table_rows(client.get(f"/toegangslog?{query}").text)  # now with the export's row
    assert shown[0][1::4] == ("Dirk Directeur", "toegangslog-export (xlsx)")
    text = client.get(f"/toegangslog.csv?{query}").content.decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [tuple(row) for row in read[1:]] == shown

    logged = reads_of(world.container.engine, world.pupils["Noor"])
    director = world.people["directie"].user_id
    assert [(r[1], r[3]) for r in logged[-2:]] == [
        (director, "toegangslog-export (xlsx)"),
        (director, "toegangslog-export (csv)"),
    ]
    assert reads_of(world.container.engine, world.pupils["Olaf"])[-1][3] == "leerlingpagina"


@pytest.mark.parametrize("who", ["ib", "juf"])
def test_other_roles_are_refused_the_page_and_the_exports(world: World, who: str) -> None:
    client = client_of(world, who)
    for url in ("/toegangslog", "/toegangslog.csv", "/toegangslog.xlsx"):
        answer = client.get(url)
        assert answer.status_code == 403
        assert "Geen toegang" in answer.text
        assert "Noor" not in answer.text
    assert 'href="/toegangslog"' not in client.get("/").text


def test_a_visitor_is_sent_to_the_login(world: World) -> None:
    client = TestClient(create_app(world.container), follow_redirects=False)
    for url in ("/toegangslog", "/toegangslog.xlsx"):
        answer = client.get(url)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def test_the_sort_of_read_filter_tells_one_pupil_opened_from_lists_and_command_lines(
    world: World,
) -> None:
    engine, ib = world.container.engine, world.people["ib"]
    noor, sem = world.pupils["Noor"], world.pupils["Sem"]
    day = T0 + timedelta(days=3)
    record_reads(engine, ib, [noor, sem], "startpagina", day)
    record_reads(engine, ib, [sem], "dossier-pdf", day)
    record_reads(engine, ib, [noor, sem], "toegangslog-export (csv)", day)
    client = client_of(world, "directie")

    def shown(kind: str) -> set[tuple[str, str]]:
        page = client.get(f"/toegangslog?soort={kind}&van=2026-01-13")
        assert page.status_code == 200
        return {(row[3], row[5]) for row in table_rows(page.text)}

    assert shown("lijst") == {(NOOR, "startpagina"), (SEM, "startpagina")}
    assert shown("leerling") == {
        (SEM, "dossier als pdf"),
        (SEM, "klassenoverzicht"),  # a code no list page writes counts as one pupil opened
        (NOOR, "klassenoverzicht"),
    }
    assert shown("buiten") == {
        (SEM, "opdrachtregel: deelnemerslijst getoond"),
        (NOOR, "toegangslog-export (csv)"),
        (SEM, "toegangslog-export (csv)"),
    }
    assert len(shown("")) == 8
    csv_rows = list(
        csv.reader(io.StringIO(client.get("/toegangslog.csv?soort=lijst").text), delimiter=";")
    )
    assert {(r[3], r[5]) for r in csv_rows[1:]} == {(NOOR, "startpagina"), (SEM, "startpagina")}
    refused = client.get("/toegangslog?soort=alles-en-nog-wat")
    assert refused.status_code == 422
    assert "Kies een soort inzage uit de lijst." in refused.text
