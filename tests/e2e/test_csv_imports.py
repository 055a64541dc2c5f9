"""CSV imports through the command line, on both databases: pupils and parents from a school
administration's export, toets results from a provider's export. Bad rows are reported with
their line numbers and nothing is stored; a re-run changes nothing; a dry run stores nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext, trajectory_stream
from service.bootstrap import Container
from service.cli import app
from service.imports.running import pupil_id_for
from service.schools.register import School
from service.store.schema import parents, pupils, trajectories
from tests.conftest import Clock
from workflows.commands import GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

runner = CliRunner()
YEAR = ("--school-year", "2025-2026")
SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
IMPORTER = "ib@school.nl"
PUPILS = (
    "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas;Naam ouder 1;E-mail ouder 1\n"
    "1001;Noor;de;Vries;8;8A;Els de Vries;els@example.nl\n"
    "1002;Daan;;Jansen;groep 8;8B;;\n"
    "1003;Sem;van der;Berg;8;8A;Piet van der Berg;PIET@example.nl\n"
)


@pytest.fixture
def cli(
    container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> Container:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    container.register.add_school(SCHOOL)
    # the account the imports are credited to (--as)
    container.accounts.add_user(IMPORTER, "Ilse IB", Role.IB, [Scope(SCHOOL.id)])
    clock.now = datetime(2026, 1, 10, 9, tzinfo=UTC)
    return container


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["import", *args, "--as", IMPORTER])
    return result.exit_code, result.stdout, result.stderr


def count(container: Container, table: object) -> int:
    with container.engine.connect() as conn:
        total: int = conn.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[arg-type]
        return total


def test_pupils_and_parents_are_imported_once_and_a_rerun_changes_nothing(
    cli: Container, tmp_path: Path
) -> None:
    path = write(tmp_path, "parnassys.csv", "\ufeff" + PUPILS, "utf-8")
    code, out, err = run("pupils", path, "--school", "01aa", "--school-year", "2025-2026")
    assert code == 0, err
    assert "3 regels opgeslagen (3 nieuw)" in out
    noor = pupil_id_for(SCHOOL.id, "1001")
    found = cli.register.pupil(str(noor))
    assert found is not None
    assert (found.given_name, found.family_name, found.class_name) == ("Noor", "de Vries", "8A")
    assert cli.trajectories.load(noor).groep == 8
    assert count(cli, parents) == 2
    with cli.engine.connect() as conn:
        emails = set(conn.scalars(select(parents.c.email)))
    assert emails == {"els@example.nl", "piet@example.nl"}
    head = cli.store.head()

    code, out, _ = run("pupils", path, "--school", "01AA", "--school-year", "2025-2026")
    assert (code, out.strip()) == (0, "3 regels opgeslagen (3 ongewijzigd)")
    assert cli.store.head() == head

    text = PUPILS.replace("1002;Daan;;Jansen;groep 8;8B", "1002;Daan;;Jansen;8;8A")
    moved = write(tmp_path, "again.csv", text)
    code, out, _ = run("pupils", moved, "--school", "01AA", "--school-year", "2025-2026")
    assert "1 bijgewerkt" in out
    daan = cli.register.pupil(str(pupil_id_for(SCHOOL.id, "1002")))
    assert daan is not None
    assert daan.class_name == "8A"
    assert cli.store.head() == head, "a new class is register data: no event"


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_stored(
    cli: Container, tmp_path: Path
) -> None:
    text = (
        PUPILS
        + "1004;Lotte;;Bakker;6;6A;;\n"
        + "1001;Noor;;Dubbel;8;8A;;\n"
        + "1005;Fem;;Smit;8;8A;Mo Smit;geen-adres\n"
        + "1006;;;Visser;8;8A;;\n"
    )
    path = write(tmp_path, "bad.csv", text, "cp1252")
    code, _, err = run("pupils", path, "--school", "01AA")
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[:4] == [
        "regel 5 (groep): '6' is geen groep 7 of 8",
        "regel 6 (leerlingnummer): staat al op regel 2",
        "regel 7 (ouder1_email): 'geen-adres' is geen e-mailadres",
        "regel 8 (voornaam): ontbreekt",
    ]
    assert lines[-1] == "adviestraject: 4 van 7 regels afgekeurd; niets opgeslagen"
    assert count(cli, pupils) == 0, "the good rows are not stored either"
    assert cli.store.head()[0] == 0


def test_a_dry_run_checks_everything_and_stores_nothing(cli: Container, tmp_path: Path) -> None:
    path = write(tmp_path, "ok.csv", PUPILS)
    code, out, _ = run("pupils", path, "--school", "01AA", "--dry-run")
    assert code == 0
    assert "proefrun: 3 regels in orde (3 nieuw); niets opgeslagen" in out
    assert (count(cli, pupils), count(cli, trajectories)) == (0, 0)


def test_columns_of_other_names_are_mapped_and_a_missing_one_is_named(
    cli: Container, tmp_path: Path
) -> None:
    text = "Nr,Naam,Familie,Jaar\n77,Ada,Lovelace,8\n"
    path = write(tmp_path, "esis.csv", text)
    code, _, err = run("pupils", path, "--school", "01AA")
    assert code == 2
    assert err.count("\n") == 1
    assert "kolommen ontbreken: leerlingnummer" in err
    code, _, err = run("pupils", path, "--school", "01AA", "--column", "klasgenoot=Nr")
    assert code == 2
    assert "onbekend veld" in err
    mapped = ["--column", "leerlingnummer=Nr", "--column", "voornaam=Naam"]
    mapped += ["--column", "achternaam=Familie", "--column", "groep=Jaar"]
    code, _, err = run("pupils", path, "--school", "01AA", *mapped)
    assert code == 0, err
    assert cli.register.pupil(str(pupil_id_for(SCHOOL.id, "77"))) is not None


def advise(container: Container, number: str, advice: SchoolAdvice) -> None:
    container.trajectories.execute(
        pupil_id_for(SCHOOL.id, number),
        GiveProvisionalAdvice(advice=advice, given_on=date(2026, 1, 10)),
        CommandContext(actor=Actor("juf", "leerkracht")),
    )


def test_results_flag_a_heroverweging_at_once_rerun_nothing_correction_replaces(
    cli: Container, tmp_path: Path, clock: Clock
) -> None:
    assert run("pupils", write(tmp_path, "p.csv", PUPILS), "--school", "01AA", *YEAR)[0] == 0
    advise(cli, "1001", SchoolAdvice.HAVO)
    advise(cli, "1002", SchoolAdvice.VMBO_GLTL_TM_HAVO)
    clock.now = datetime(2026, 3, 12, 9, tzinfo=UTC)
    results = (
        "leerlingnummer,toetsadvies,lezen,rekenen,datum\n"
        "1001,havo/vwo,2F,1S,11-03-2026\n"
        "1002,vmbo-gt/havo,2F,1F,11-03-2026\n"
    )
    path = write(tmp_path, "route8.csv", results)
    code, out, err = run("results", path, "--school", "01AA", "--test", "ROUTE 8")
    assert code == 0, err
    assert "1 heroverweging nodig, 1 verwerkt" in out
    noor = cli.trajectories.load(pupil_id_for(SCHOOL.id, "1001"))
    assert noor.status.value == "reconsideration_required"
    assert noor.reconsideration_deadline is not None
    events = cli.store.read_stream(trajectory_stream(pupil_id_for(SCHOOL.id, "1001")))
    assert events[-1].metadata["line"] == 2
    assert events[-1].metadata["import"].startswith("route8.csv sha256:")
    head = cli.store.head()

    code, out, _ = run("results", path, "--school", "01AA", "--test", "ROUTE 8")
    assert (code, out.strip()) == (0, "2 regels opgeslagen (2 ongewijzigd)")
    assert cli.store.head() == head

    fixed = results.replace("1002,vmbo-gt/havo,2F,1F", "1002,vmbo-gt/havo,2F,2F")
    corrected = write(tmp_path, "fix.csv", fixed)
    code, out, _ = run("results", corrected, "--school", "01AA", "--test", "ROUTE 8")
    assert code == 0
    assert "1 ongewijzigd, 1 verwerkt" in out
    daan = cli.store.read_stream(trajectory_stream(pupil_id_for(SCHOOL.id, "1002")))
    levels = daan[-1].data["reference_levels"]
    assert {"domain": "rekenen", "level": "2F"} in levels


def test_a_results_file_with_an_unknown_pupil_or_advice_stores_nothing(
    cli: Container, tmp_path: Path, clock: Clock
) -> None:
    assert run("pupils", write(tmp_path, "p.csv", PUPILS), "--school", "01AA", *YEAR)[0] == 0
    advise(cli, "1001", SchoolAdvice.HAVO)
    clock.now = datetime(2026, 3, 12, 9, tzinfo=UTC)
    head = cli.store.head()
    text = (
        "leerling;advies;datum\n1001;vwo;11-3-2026\n9999;havo/vwo;11-3-2026\n"
        "1002;praktijk-plus;11-3-2026\n1003;havo/vwo;11-3-2026\n"
    )
    path = write(tmp_path, "r.csv", text)
    code, _, err = run("results", path, "--school", "01AA", "--test", "IEP")
    assert code == 2
    lines = err.strip().splitlines()
    assert lines == [
        "regel 3 (leerling): geen leerling van De Eerste School",
        "regel 4 (toetsadvies): 'praktijk-plus' is geen bekend advies",
        "regel 5: toetsuitslag ontvangen kan niet in de toestand "
        "'groep 8, wacht op voorlopig advies'",
        "adviestraject: 3 van 4 regels afgekeurd; niets opgeslagen",
    ]
    assert cli.store.head() == head


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "het bestand is leeg of heeft geen kopregel"),
        ("Leerlingnummer;Roepnaam;Achternaam;Groep\n\n", "geen regels onder de kopregel"),
        ('Leerlingnummer;Roepnaam;Achternaam;Groep\n1;"Noor;Vries;8\n', "regel"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(
    cli: Container, tmp_path: Path, text: str, said: str
) -> None:
    code, out, err = run("pupils", write(tmp_path, "x.csv", text), "--school", "01AA")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert said in err
    assert count(cli, pupils) == 0


def test_a_later_export_updates_what_it_has_and_keeps_what_it_lacks(
    cli: Container, tmp_path: Path
) -> None:
    full = (
        "Leerlingnummer;Roepnaam;Achternaam;Groep;Klas;Geboortedatum;Geslacht;"
        "Naam ouder 1;E-mail ouder 1;Naam ouder 2\n"
        "1001;Noor;Vries;8;8A;12-05-2013;V;Els de Vries;els@example.nl;Jan de Vries\n"
    )
    assert run("pupils", write(tmp_path, "a.csv", full), "--school", "01AA", *YEAR)[0] == 0
    noor = str(pupil_id_for(SCHOOL.id, "1001"))

    # a short export: no class, no demographics, no parent columns: all of those stay
    short = "Leerlingnummer;Roepnaam;Achternaam;Groep\n1001;Noor;Vries;8\n"
    code, out, _ = run("pupils", write(tmp_path, "b.csv", short), "--school", "01AA", *YEAR)
    assert (code, out.strip()) == (0, "1 regel opgeslagen (1 ongewijzigd)")
    with cli.engine.connect() as conn:
        kept = conn.execute(
            select(pupils.c.class_name, pupils.c.birth_date, pupils.c.sex).where(
                pupils.c.id == noor
            )
        ).one()
    assert (kept.class_name, str(kept.birth_date), kept.sex) == ("8A", "2013-05-12", 2)
    assert count(cli, parents) == 2

    # the administration no longer lists the second parent: the register forgets that contact
    fewer = full.replace(";Jan de Vries\n", ";\n")
    code, out, _ = run("pupils", write(tmp_path, "c.csv", fewer), "--school", "01AA", *YEAR)
    assert (code, out.strip()) == (0, "1 regel opgeslagen (1 bijgewerkt)")
    with cli.engine.connect() as conn:
        assert list(conn.scalars(select(parents.c.name))) == ["Els de Vries"]


def test_the_tussenvoegsel_is_kept_as_its_own_field_whatever_the_export_calls_it(
    cli: Container, tmp_path: Path
) -> None:
    export = (
        "Leerlingnummer;Roepnaam;Tussenv.;Achternaam;Groep;Klas\n"
        "2001;Noor;van het;Hof;8;8A\n"
        "2002;Daan;uit  den;Bogaard;8;8A\n"
        "2003;Sem;;Van Dijk;8;8A\n"
    )
    assert run("pupils", write(tmp_path, "a.csv", export), "--school", "01AA", *YEAR)[0] == 0
    with cli.engine.connect() as conn:
        stored = conn.execute(
            select(pupils.c.family_name, pupils.c.surname_prefix).order_by(pupils.c.family_name)
        ).all()
    assert sorted(map(tuple, stored)) == [
        ("Van Dijk", ""),  # the administration says: no tussenvoegsel
        ("uit den Bogaard", "uit den"),
        ("van het Hof", "van het"),
    ]

    # a later export without the column keeps what is known while the surname still fits it
    short = "Leerlingnummer;Roepnaam;Achternaam;Groep\n2001;Noor;van het Hof;8\n2002;Daan;Smit;8\n"
    code, out, _ = run("pupils", write(tmp_path, "b.csv", short), "--school", "01AA", *YEAR)
    assert (code, out.strip()) == (0, "2 regels opgeslagen (1 bijgewerkt, 1 ongewijzigd)")
    with cli.engine.connect() as conn:
        prefixes = dict(conn.execute(select(pupils.c.family_name, pupils.c.surname_prefix)).all())
    assert prefixes["van het Hof"] == "van het"
    assert prefixes["Smit"] is None


def test_a_tussenvoegsel_longer_than_the_chain_takes_is_a_bad_row(
    cli: Container, tmp_path: Path
) -> None:
    export = "Leerlingnummer;Roepnaam;Voorvoegsel;Achternaam;Groep\n3001;Noor;van der van;Berg;8\n"
    code, _, err = run("pupils", write(tmp_path, "a.csv", export), "--school", "01AA", *YEAR)
    assert code == 2
    assert "regel 2 (tussenvoegsel): 'van der van': langer dan 10 tekens" in err
    assert count(cli, pupils) == 0
