"""The school's worklist pages through the real app, on SQLite and PostgreSQL: the heroverweging
worklist (content and scope), the Toetsuitslagen page listing CSV-imported results, the CSV
upload with its dry-run preview and all-or-nothing commit, and the year rollover groep 7 -> 8."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.accounts.roles import Role, Scope
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.chain.messages import group_id
from service.imports.results import import_results
from service.imports.running import pupil_id_for
from service.schools.register import Pupil, School
from service.store.schema import events, parents, pupils
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.heroverweging import SCHOOL, TEACHER, pupil_with_result
from tests.e2e.web import PASSWORD, browse, csrf
from workflows.commands import (
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    PlanConversation,
    RecordConversationDeclined,
)
from workflows.scale import SchoolAdvice, TestAdvice

OTHER = School(id="school-2", brin="02BB", name="De Andere School")


@pytest.fixture
def school(container: Container, clock: Clock) -> Container:
    container.register.add_school(SCHOOL)
    container.register.add_school(OTHER)
    for email, role, scope in (
        ("ib@school.nl", Role.IB, Scope(SCHOOL.id)),
        ("directie@school.nl", Role.DIRECTIE, Scope(SCHOOL.id)),
        ("juf@school.nl", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
        ("ib@andere.nl", Role.IB, Scope(OTHER.id)),
    ):
        container.accounts.add_user(email, email.split("@")[0].upper(), role, [scope], PASSWORD)
    return container


def noor_with_havo(container: Container, clock: Clock) -> uuid.UUID:
    """Noor de Vries of 8A, her voorlopig advies havo given on 15 January 2026."""
    clock.now = datetime(2026, 1, 20, 10, tzinfo=UTC)
    noor = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(noor), SCHOOL.id, "Noor", "de Vries", "8A"))
    give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    container.trajectories.execute(noor, give, TEACHER)
    return noor


def rows_of(html: str) -> dict[str, str]:
    """Each table row of the worklist by the pupil's name: the row's text."""
    found = {}
    for row in re.findall(r"<tr class=\"utrecht-table__row\">(.*?)</tr>", html, re.S):
        name = re.search(r'<a class="utrecht-link" href="/leerlingen/[^"/]+">([^<]+)</a>', row)
        if name:
            found[name.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    return found


# -- the heroverweging worklist ------------------------------------------------------------------


def test_the_worklist_shows_open_heroverwegingen_with_deadline_and_conversation_by_scope(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_result(school, clock, "Noor", "8A", TestAdvice.HAVO_VWO)
    daan = pupil_with_result(school, clock, "Daan", "8A", TestAdvice.VMBO_KB_VMBO_GLTL)  # lower
    sem = pupil_with_result(school, clock, "Sem", "8A", TestAdvice.VMBO_GLTL_HAVO)
    sara = pupil_with_result(school, clock, "Sara", "8B", TestAdvice.VWO)
    pupil_with_result(school, clock, "Ali", "8A", TestAdvice.VWO, school=OTHER)
    plan = PlanConversation(planned_at=datetime(2026, 3, 16, 14, tzinfo=UTC))
    school.trajectories.execute(noor, plan, TEACHER)
    decline = RecordConversationDeclined(declined_on=date(2026, 3, 12), notes=None)
    school.trajectories.execute(sem, decline, TEACHER)
    clock.now = datetime(2026, 3, 17, 9, tzinfo=UTC)

    with browse(school, "ib@school.nl") as ib:
        page = ib.get("/heroverwegingen")
    assert page.status_code == 200
    rows = rows_of(page.text)
    assert set(rows) == {"Noor Jansen", "Sem Jansen", "Sara Jansen"}  # not Daan, not Ali
    assert "8A vmbo-gt havo/vwo 24-03-2026 nog 7 dagen gepland" in rows["Noor Jansen"]
    assert "afgezien" in rows["Sem Jansen"]
    assert "8B vmbo-gt vwo 24-03-2026 nog 7 dagen niet gepland" in rows["Sara Jansen"]
    assert f'href="/leerlingen/{noor}"' in page.text
    # the decision follows the talk: Sem's parents declined it, Noor's is only planned
    assert f'href="/leerlingen/{sem}/acties/advies-bijstellen"' in page.text
    assert f'href="/leerlingen/{noor}/acties/advies-bijstellen"' not in page.text
    assert "Eerst het gesprek met ouders en leerling" in rows["Noor Jansen"]
    assert f'href="/leerlingen/{sara}/acties/gesprek-plannen"' in page.text
    assert f'href="/leerlingen/{noor}/acties/gesprek-plannen"' not in page.text  # planned
    assert str(daan) not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "heroverwegingslijst" in [r[3] for r in reads_of(school.engine, str(noor))]
    assert "heroverwegingslijst" not in [r[3] for r in reads_of(school.engine, str(daan))]

    with browse(school, "juf@school.nl") as juf:
        own = rows_of(juf.get("/heroverwegingen").text)
    assert set(own) == {"Noor Jansen", "Sem Jansen"}  # 8A only
    with browse(school, "ib@andere.nl") as other:
        assert set(rows_of(other.get("/heroverwegingen").text)) == {"Ali Jansen"}
    clock.now = datetime(2026, 3, 26, 9, tzinfo=UTC)
    with browse(school, "directie@school.nl") as directie:
        late = rows_of(directie.get("/heroverwegingen").text)
    assert "2 dagen te laat" in late["Sara Jansen"]
    with browse(school, None) as visitor:
        answer = visitor.get("/heroverwegingen")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")


# -- Toetsuitslagen lists CSV-imported results ---------------------------------------------------


def test_toetsuitslagen_lists_results_imported_from_a_csv_file_with_source_time_and_person(
    school: Container, clock: Clock, tmp_path: Path
) -> None:
    noor = noor_with_havo(school, clock)
    clock.now = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
    csv = tmp_path / "iep-uitslagen.csv"
    csv.write_text(f"Leerling;Toetsadvies;Toets\n{noor};havo/vwo;IEP\n", encoding="utf-8")
    report = import_results(school, csv, school="01AA", actor="import:marieke")
    assert report.committed, report.errors

    with browse(school, "ib@school.nl") as ib:
        text = ib.get("/toetsuitslagen").text
    imported = text.split('<h3 class="utrecht-heading-3">Ingelezen uit CSV-bestanden</h3>')[1]
    assert "CSV-bestand iep-uitslagen.csv" in imported
    assert "sha256" not in imported  # the content hash stays in the event's metadata
    assert "regel 2" in imported
    assert "12-03-2026 11:30" in imported  # 10:30 UTC, in Dutch time
    assert "marieke" in imported
    assert "Noor de Vries" in imported
    assert "havo/vwo" in imported
    assert "toetsuitslagen" in [r[3] for r in reads_of(school.engine, str(noor))]


# -- CSV upload: dry-run preview, then commit ----------------------------------------------------

BAD_PUPILS = (
    "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas;Naam ouder 1;E-mail ouder 1\n"
    "1001;Noor;de;Vries;8;8A;Els de Vries;els@example.nl\n"
    "1002;Daan;;Jansen;groep 9;8B;;\n"
    "1003;Sem;van der;Berg;8;8A;Piet van der Berg;piet@example.nl\n"
)
GOOD_PUPILS = BAD_PUPILS.replace("groep 9", "groep 8")


def stored(container: Container) -> tuple[int, int, int]:
    """(register pupils, parents, events): what the store holds."""
    with container.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (pupils, parents, events)
        )


def upload(client: TestClient, text: str, name: str = "parnassys.csv", **form: str) -> Any:
    token = csrf(client.get("/import").text)
    data = {"soort": "leerlingen", "school": SCHOOL.id, "schooljaar": "2025-2026"} | form
    return client.post(
        "/import",
        data={**data, "csrf_token": token},
        files={"bestand": (name, text.encode("utf-8"), "text/csv")},
    )


def hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_a_bad_line_is_shown_with_its_reason_nothing_stored_then_the_fixed_file_is_stored(
    school: Container, clock: Clock
) -> None:
    clock.now = datetime(2026, 1, 10, 9, tzinfo=UTC)
    before = stored(school)
    with browse(school, "ib@school.nl") as ib:
        preview = upload(ib, BAD_PUPILS)
        assert preview.status_code == 422
        text = re.sub(r"\s+", " ", preview.text)
        assert "1 van de 3 regels kloppen niet. Er is niets opgeslagen." in text
        assert "regel 3</a> (groep): &#39;groep 9&#39; is geen groep 7 of 8" in text
        assert "Noor de Vries" in text
        assert "Sem van der Berg" in text
        assert 'action="/import/opslaan"' not in text  # nothing to commit
        assert stored(school) == before

        fixed = upload(ib, GOOD_PUPILS)
        assert fixed.status_code == 200
        text = re.sub(r"\s+", " ", fixed.text)
        assert "proefrun: 3 regels in orde (3 nieuw); niets opgeslagen" in text
        assert text.count("wordt: nieuw") == 3
        assert stored(school) == before  # the preview stores nothing
        form = hidden(fixed.text)
        committed = ib.post("/import/opslaan", data=form)
    assert committed.status_code == 200, committed.text
    assert "3 regels opgeslagen (3 nieuw)" in committed.text
    count, parent_count, event_count = stored(school)
    assert (count, parent_count) == (3, 2)
    assert event_count == before[2] + 3  # one pupil_enrolled each
    noor = school.register.pupil(str(pupil_id_for(SCHOOL.id, "1001")))
    assert noor is not None
    assert (noor.family_name, noor.class_name) == ("de Vries", "8A")
    trail = school.trajectories.audit_trail(uuid.UUID(noor.id))
    ib_user = next(u for u in school.accounts.list_users() if u.email == "ib@school.nl")
    assert (trail[0][0].metadata["actor"], trail[0][0].metadata["role"]) == (ib_user.user_id, "ib")
    assert trail[0][0].metadata["import"].startswith("parnassys.csv sha256:")
    with browse(school, "ib@school.nl") as ib:  # the kept file is gone after the commit
        again = ib.post("/import/opslaan", data=form | {"csrf_token": csrf(ib.get("/import").text)})
    assert again.status_code == 422
    assert "lever het bestand opnieuw aan" in again.text


def test_the_upload_refuses_a_missing_csrf_token_a_teacher_another_school_and_a_headerless_file(
    school: Container, clock: Clock
) -> None:
    before = stored(school)
    with browse(school, "ib@school.nl") as ib:
        forged = ib.post(
            "/import",
            data={"soort": "leerlingen", "school": SCHOOL.id, "schooljaar": "2025-2026"},
            files={"bestand": ("a.csv", GOOD_PUPILS.encode(), "text/csv")},
        )
        assert forged.status_code == 403
        other = upload(ib, GOOD_PUPILS, school=OTHER.id)
        assert other.status_code == 422
        assert 'id="veld-school-fout"' in other.text
        assert "Kies een van uw scholen." in other.text
        brin = upload(ib, "Leerlingnummer;Roepnaam;Achternaam;Groep;Brin\n9;Ali;Bos;8;02BB\n")
        assert brin.status_code == 422
        assert "regel 2</a> (brin)" in brin.text
        empty = upload(ib, "Leerlingnummer;Roepnaam;Achternaam;Groep\n")
        assert empty.status_code == 422
        assert 'id="veld-bestand-fout"' in empty.text
        assert "geen regels onder de kopregel" in empty.text
        assert 'aria-describedby="veld-bestand-hint veld-bestand-fout"' in empty.text
    with browse(school, "juf@school.nl") as juf:
        assert juf.get("/import").status_code == 403
    assert stored(school) == before


def test_a_results_upload_previews_the_heroverweging_and_commits_it(
    school: Container, clock: Clock
) -> None:
    noor = noor_with_havo(school, clock)
    clock.now = datetime(2026, 3, 12, 10, tzinfo=UTC)
    text = f"Leerling;Toetsadvies\n{noor};havo/vwo\n"
    with browse(school, "directie@school.nl") as directie:
        preview = upload(directie, text, "iep.csv", soort="uitslagen", toets="IEP")
        assert preview.status_code == 200
        assert "wordt: heroverweging nodig" in preview.text
        assert "Noor de Vries" in preview.text
        assert school.trajectories.load(noor).test_advice is None
        done = directie.post("/import/opslaan", data=hidden(preview.text))
        assert done.status_code == 200
        assert school.trajectories.load(noor).test_advice is TestAdvice.HAVO_VWO
        listed = directie.get("/toetsuitslagen").text.split("Ingelezen uit CSV-bestanden")[1]
        assert "CSV-bestand iep.csv" in listed
        assert "DIRECTIE" in listed
        assert "Noor Jansen" not in listed
        assert "Noor de Vries" in listed


# -- year rollover: a groep 7 class to groep 8 ---------------------------------------------------


def groep_7_class(container: Container, clock: Clock) -> list[uuid.UUID]:
    """Three pupils in 7A in 2025-2026, two with an oriënterend advies."""
    clock.now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    found = []
    for name, advice in (("Noor", SchoolAdvice.HAVO), ("Daan", None), ("Sem", SchoolAdvice.VWO)):
        pupil = enrolled_pupil(container, groep=7)
        container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, name, "Jansen", "7A"))
        if advice is not None:
            given = GiveOrientationAdvice(advice=advice, given_on=date(2026, 2, 20))
            container.trajectories.execute(pupil, given, TEACHER)
        found.append(pupil)
    return found


def test_the_rollover_moves_a_groep_7_class_to_groep_8_in_one_action_keeping_the_orienting_advice(
    school: Container, clock: Clock
) -> None:
    noor, daan, sem = groep_7_class(school, clock)
    clock.now = datetime(2026, 8, 24, 9, tzinfo=UTC)
    with browse(school, "directie@school.nl") as directie:
        start = directie.get("/jaarovergang")
        assert start.status_code == 200
        assert "klas=7A&amp;jaar=2025-2026" in start.text
        preview = directie.get(f"/jaarovergang?school={SCHOOL.id}&klas=7A&jaar=2025-2026")
        assert preview.status_code == 200
        text = re.sub(r"\s+", " ", preview.text)
        assert "groep 8, klas 8A, schooljaar 2026-2027" in text
        assert "havo (20-02-2026)" in text
        assert "vwo (20-02-2026)" in text
        assert group_id(SCHOOL.id, "2026-2027", "8A") in text
        assert "Overzetten: 3 leerlingen naar groep 8" in text
        assert school.trajectories.load(noor).groep == 7  # a preview moves nobody
        form = hidden(preview.text) | {"nieuwe_klas": "8A", "datum": "2026-08-24"}

        bad = directie.post("/jaarovergang", data=form | {"datum": "2026-07-20"})
        assert bad.status_code == 422
        assert 'id="veld-datum-fout"' in bad.text
        assert "valt niet in schooljaar 2026-2027" in bad.text
        assert school.trajectories.load(noor).groep == 7
        no_token = directie.post("/jaarovergang", data=form | {"csrf_token": "x"})
        assert no_token.status_code == 403

        done = directie.post("/jaarovergang", data=form)
    assert done.status_code == 200, done.text
    assert (
        "3 leerlingen van klas 7A zitten nu in groep 8, klas 8A, schooljaar 2026-2027" in done.text
    )
    for pupil in (noor, daan, sem):
        state = school.trajectories.load(pupil)
        assert (state.groep, str(state.school_year)) == (8, "2026-2027")
        registered = school.register.pupil(str(pupil))
        assert registered is not None
        assert registered.class_name == "8A"
    kept = school.trajectories.load(noor).orientation_advice
    assert kept is not None
    assert kept.advice is SchoolAdvice.HAVO
    assert school.trajectories.load(daan).orientation_advice is None


def test_a_class_that_changed_after_the_preview_is_not_moved_at_all_and_a_teacher_cannot(
    school: Container, clock: Clock
) -> None:
    noor, _, _ = groep_7_class(school, clock)
    clock.now = datetime(2026, 8, 24, 9, tzinfo=UTC)
    with browse(school, "ib@school.nl") as ib:
        preview = ib.get(f"/jaarovergang?school={SCHOOL.id}&klas=7A&jaar=2025-2026")
        form = hidden(preview.text) | {"nieuwe_klas": "8A", "datum": "24-08-2026"}
        given = GiveOrientationAdvice(advice=SchoolAdvice.VWO, given_on=date(2026, 7, 10))
        clock.now = datetime(2026, 8, 24, 9, tzinfo=UTC)
        school.trajectories.execute(noor, given, TEACHER)  # someone else, after the preview
        stale = ib.post("/jaarovergang", data=form)
        assert stale.status_code == 409
        assert "Intussen gewijzigd" in stale.text
        assert "vwo (10-07-2026)" in stale.text  # the fresh state
        assert {school.trajectories.load(p).groep for p in groep_members(school)} == {7}
        assert {p.class_name for p in school.register.pupils_of(SCHOOL.id)} == {"7A"}
    with browse(school, "juf@school.nl") as juf:
        assert juf.get("/jaarovergang").status_code == 403


def groep_members(container: Container) -> list[uuid.UUID]:
    return [uuid.UUID(p.id) for p in container.register.pupils_of(SCHOOL.id)]
