"""Reads of a pupil who was erased afterwards (AVG) stay on the access log page `/toegangslog`,
on both databases: the name is gone, so the row names the pupil by a stable pseudonym with the
date of the erasure, and links to no pupil page; the filters by pupil (the pseudonym), person
and date keep working; directie of another school does not see them; the CSV holds the same rows
and the export records no read of the erased pupil (no name leaves the service)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Principal, Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of, record_reads
from service.bootstrap import Container
from service.schools.erasures import pseudonym
from service.schools.register import Pupil, School
from tests.e2e.web import start_session, table_rows

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam
ERASED_AT = datetime(2026, 2, 2, 23, 30, tzinfo=UTC)  # 3 February, 00:30 in Amsterdam


@dataclass
class World:
    container: Container
    people: dict[str, Principal]
    noor: str
    sem: str


@pytest.fixture
def world(container: Container) -> World:
    """Noor and Sem at the first school, read by its teacher and IB; then Noor is erased."""
    for school in (SCHOOL, OTHER):
        container.register.add_school(school)
    noor, sem = str(uuid.uuid4()), str(uuid.uuid4())
    container.register.add_pupil(Pupil(noor, SCHOOL.id, "Noor", "de Vries", "8A"))
    container.register.add_pupil(Pupil(sem, SCHOOL.id, "Sem", "Jansen", "8B"))
    add = container.accounts.add_user
    people = {
        "directie": add("dirk@school.nl", "Dirk Directeur", Role.DIRECTIE, [Scope(SCHOOL.id)]),
        "ib": add("ilse@school.nl", "Ilse IB", Role.IB, [Scope(SCHOOL.id)]),
        "juf": add("anna@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]),
        "andere": add("dora@andere.nl", "Dora Anders", Role.DIRECTIE, [Scope(OTHER.id)]),
    }
    engine = container.engine
    record_reads(engine, people["juf"], [noor], "leerlingpagina", T0)
    record_reads(engine, people["ib"], [noor, sem], "klassenoverzicht", T0 + timedelta(days=1))
    assert container.register.erase_pupil(noor, ERASED_AT)
    return World(container, people, noor, sem)


def browser(world: World, who: str) -> TestClient:
    client = TestClient(create_app(world.container), follow_redirects=False)
    start_session(client, world.people[who].email)
    return client


def test_reads_of_an_erased_pupil_show_a_pseudonym_and_the_date_of_erasure(world: World) -> None:
    page = browser(world, "directie").get("/toegangslog")
    assert page.status_code == 200
    erased = f"gewiste leerling ({pseudonym(world.noor)}), gewist op 03-02-2026"
    ib, juf = ("Ilse IB", "intern begeleider"), ("Juf Anna", "leerkracht")
    assert table_rows(page.text) == [
        ("13-01-2026 10:00:00", *ib, "Sem Jansen", "8B", "klassenoverzicht"),
        ("13-01-2026 10:00:00", *ib, erased, "8A", "klassenoverzicht"),
        ("12-01-2026 10:00:00", *juf, erased, "8A", "leerlingpagina"),
    ]
    assert "Noor" not in page.text
    assert f"/leerlingen/{world.noor}" not in page.text  # no page of hers to open
    assert f"/leerlingen/{world.sem}" in page.text


def test_the_pseudonym_is_stable_and_does_not_show_the_pupils_id() -> None:
    noor, sem = str(uuid.uuid4()), str(uuid.uuid4())
    label = pseudonym(noor)
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}", label)
    assert label == pseudonym(noor)
    assert label != pseudonym(sem)
    assert label.replace("-", "").lower() not in noor.replace("-", "")


FILTERS = [  # (query, the erased pupil's rows it shows: who, what)
    ("leerling=gewiste", {("Juf Anna", "leerlingpagina"), ("Ilse IB", "klassenoverzicht")}),
    ("leerling={code}", {("Juf Anna", "leerlingpagina"), ("Ilse IB", "klassenoverzicht")}),
    ("leerling=noor", set()),
    ("persoon={juf}", {("Juf Anna", "leerlingpagina")}),
    ("van=2026-01-13&leerling=gewist", {("Ilse IB", "klassenoverzicht")}),
    ("tot=2026-01-12", {("Juf Anna", "leerlingpagina")}),
]


def test_the_filters_find_the_reads_of_an_erased_pupil(world: World) -> None:
    client = browser(world, "directie")
    code = pseudonym(world.noor).lower()
    for query, expected in FILTERS:
        asked = query.format(code=code, juf=world.people["juf"].user_id)
        rows = table_rows(client.get(f"/toegangslog?{asked}").text)
        found = {(row[1], row[5]) for row in rows if row[3].startswith("gewiste leerling")}
        assert found == expected, query


def test_directie_of_another_school_does_not_see_the_erased_pupils_reads(world: World) -> None:
    page = browser(world, "andere").get("/toegangslog?leerling=gewiste").text
    assert table_rows(page) == []


def test_the_csv_holds_the_erased_rows_and_the_export_logs_no_read_of_the_erased_pupil(
    world: World,
) -> None:
    client = browser(world, "directie")
    shown = table_rows(client.get("/toegangslog").text)
    exported = client.get("/toegangslog.csv")
    assert exported.status_code == 200
    read = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert [tuple(row) for row in read[1:]] == shown
    assert [row[3].startswith("gewiste leerling") for row in shown] == [False, True, True]
    engine = world.container.engine
    assert [what for *_, what in reads_of(engine, world.noor)] == [
        "leerlingpagina",
        "klassenoverzicht",
    ]
    assert [what for *_, what in reads_of(engine, world.sem)][-1] == "toegangslog-export (csv)"


def test_a_pupil_erased_again_after_an_import_brought_them_back_keeps_one_row_with_the_last_date(
    world: World,
) -> None:
    register = world.container.register
    register.add_pupil(Pupil(world.noor, SCHOOL.id, "Noor", "de Vries", "8A"))
    client = browser(world, "directie")
    back = table_rows(client.get("/toegangslog?leerling=noor").text)
    assert {row[3] for row in back} == {"Noor de Vries"}  # in the register again: her name
    assert register.erase_pupil(world.noor, ERASED_AT + timedelta(days=30))
    again = table_rows(client.get("/toegangslog?leerling=gewiste").text)
    assert {row[3] for row in again} == {
        f"gewiste leerling ({pseudonym(world.noor)}), gewist op 05-03-2026"
    }
    assert len(again) == 2
