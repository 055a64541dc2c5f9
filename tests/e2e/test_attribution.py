"""Attribution at the command line, on both databases: an import names the account it is done
for (`--as` or ADVIESTRAJECT_ACTOR) and is refused with exit 2, one line and nothing stored when
that account is missing, unknown, disabled, of a role that may not import, or of another school;
the events then carry the account and the timeline shows the person's name. Imports credited to
`import:<OS user>` before keep reading as such. What the command line shows or sends of pupils
(the chain's lists) is in the access log under the account, like an API read."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.cli import app
from service.imports.running import pupil_id_for
from service.schools.register import School
from service.store.schema import access_log, events, pupils
from service.web.timeline import timeline
from workflows.commands import EnrolPupil
from workflows.events import CODEC

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
OIN, ROUTE = "0000000700011BB00000", "0000000700011BB00530"
CODES = {
    "vestigingscode": "00",
    "onderwijsaanbiedercode": "123A123",
    "onderwijslocatiecode": "123X123",
    "administratienr": "99",
}
PUPILS = (
    "leerlingnummer;roepnaam;tussenvoegsel;achternaam;groep;klas;geboortedatum;geslacht\n"
    "1;Noor;de;Vries;8;8A;12-05-2013;V\n"
    "2;Sem;van der;Berg;8;8A;03-02-2014;M\n"
)
YEAR = ["--school-year", "2025-2026"]
runner = CliRunner()


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Container:
    """The command line on the container's database, two schools, and their people."""
    settings = container.settings
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ADVIESTRAJECT_KEY_FILE", str(settings.key_file))
    monkeypatch.setenv("ADVIESTRAJECT_MAIL_DIR", str(settings.mail_dir))
    monkeypatch.delenv("ADVIESTRAJECT_ACTOR", raising=False)
    for school in (SCHOOL, OTHER):
        container.register.add_school(school)
    container.register.set_routing(SCHOOL.id, ROUTE, OIN)
    container.register.set_chain_codes(SCHOOL.id, CODES, "https://toets.example.nl/keten")
    accounts = container.accounts
    accounts.add_user("ib@school.nl", "Ilse IB", Role.IB, [Scope(SCHOOL.id)])
    accounts.add_user("juf@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")])
    accounts.add_user("ib@andere.nl", "Ida Anders", Role.IB, [Scope(OTHER.id)])
    accounts.add_user("weg@school.nl", "Wim Weg", Role.DIRECTIE, [Scope(SCHOOL.id)])
    accounts.disable("weg@school.nl")
    (tmp_path / "leerlingen.csv").write_text(PUPILS, encoding="utf-8")
    return container


def import_pupils(tmp_path: Path, *extra: str) -> tuple[int, str]:
    args = ["import", "pupils", str(tmp_path / "leerlingen.csv"), "--school", "01AA", *YEAR]
    result = runner.invoke(app, [*args, *extra])
    return result.exit_code, result.stderr


def stored(container: Container) -> tuple[int, int]:
    with container.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(events)).scalar_one()
        people = conn.execute(select(func.count()).select_from(pupils)).scalar_one()
    return int(count), int(people)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            (),
            "adviestraject: name the account to import for: --as <e-mail> (or ADVIESTRAJECT_ACTOR)",
        ),
        (("--as", "niemand@school.nl"), "adviestraject: --as niemand@school.nl: no such account"),
        (("--as", "weg@school.nl"), "adviestraject: --as weg@school.nl: the account is disabled"),
        (
            ("--as", "juf@school.nl"),
            "adviestraject: --as juf@school.nl: an account of role leerkracht may not import "
            "(only directie or intern begeleider)",
        ),
        (
            ("--as", "ib@andere.nl"),
            "adviestraject: --as ib@andere.nl: the account does not work at school 01AA",
        ),
    ],
    ids=["missing", "unknown", "disabled", "teacher", "other-school"],
)
def test_an_import_without_an_account_that_may_do_it_exits_2_with_one_line_and_stores_nothing(
    cli: Container, tmp_path: Path, extra: tuple[str, ...], said: str
) -> None:
    code, stderr = import_pupils(tmp_path, *extra)
    assert code == 2
    assert stderr.strip() == said
    assert stored(cli) == (0, 0)


def test_an_import_as_an_account_records_it_and_the_timeline_shows_the_persons_name(
    cli: Container, tmp_path: Path
) -> None:
    code, stderr = import_pupils(tmp_path, "--as", "IB@school.nl")
    assert code == 0, stderr
    ib = next(u for u in cli.accounts.list_users() if u.email == "ib@school.nl")
    noor = pupil_id_for(SCHOOL.id, "1")
    trail = [
        (s, CODEC.decode(s.event_type, s.schema_version, d))
        for s, d in cli.trajectories.audit_trail(noor)
    ]
    assert trail, "the import enrolled Noor"
    assert {(s.metadata["actor"], s.metadata["role"]) for s, _ in trail} == {(ib.user_id, "ib")}
    entries = timeline(cli.engine, trail)
    assert {(e.who, e.role) for e in entries} == {("Ilse IB", "intern begeleider")}


def test_the_account_may_come_from_adviestraject_actor(
    cli: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_ACTOR", "ib@school.nl")
    code, stderr = import_pupils(tmp_path)
    assert code == 0, stderr
    assert stored(cli)[1] == 2


def test_an_import_credited_to_the_os_user_before_keeps_reading_as_such(cli: Container) -> None:
    pupil = uuid.uuid4()
    enrol = EnrolPupil(
        school_id=SCHOOL.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    cli.trajectories.execute(pupil, enrol, CommandContext(actor=Actor("import:root", "beheer")))
    trail = [
        (s, CODEC.decode(s.event_type, s.schema_version, d))
        for s, d in cli.trajectories.audit_trail(pupil)
    ]
    assert [(e.who, e.role) for e in timeline(cli.engine, trail)] == [("import:root", "beheer")]


def log_rows(container: Container) -> list[tuple[str, str, str, str | None]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(
                access_log.c.pupil_id, access_log.c.user_id, access_log.c.what,
                access_log.c.request_id,
            ).order_by(access_log.c.id)
        ).all()  # fmt: skip
    return [(r.pupil_id, r.user_id, r.what, r.request_id) for r in rows]


def test_printing_the_deelnemerslijst_is_in_the_access_log_under_the_account(
    cli: Container, tmp_path: Path
) -> None:
    assert import_pupils(tmp_path, "--as", "ib@school.nl")[0] == 0
    ib = next(u for u in cli.accounts.list_users() if u.email == "ib@school.nl")
    before = len(log_rows(cli))
    args = ["school", "send-participants", "01AA", *YEAR, "--print", "--as", "ib@school.nl"]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "Vries" in shown.stdout
    rows = log_rows(cli)[before:]
    noor, sem = pupil_id_for(SCHOOL.id, "1"), pupil_id_for(SCHOOL.id, "2")
    assert {(r[0], r[1], r[2]) for r in rows} == {
        (str(noor), ib.user_id, "opdrachtregel: deelnemerslijst getoond"),
        (str(sem), ib.user_id, "opdrachtregel: deelnemerslijst getoond"),
    }
    assert len({r[3] for r in rows}) == 1
    assert str(rows[0][3]).startswith("cli:")
    assert reads_of(cli.engine, str(noor))[-1][1:] == (
        ib.user_id,
        "ib",
        "opdrachtregel: deelnemerslijst getoond",
    )


def test_printing_a_list_without_an_account_shows_and_logs_nothing(
    cli: Container, tmp_path: Path
) -> None:
    assert import_pupils(tmp_path, "--as", "ib@school.nl")[0] == 0
    before = log_rows(cli)
    for command in ("send-participants", "send-advice"):
        shown = runner.invoke(app, ["school", command, "01AA", *YEAR, "--print"])
        assert shown.exit_code == 2
        assert shown.stdout == ""
        assert shown.stderr.strip() == (
            "adviestraject: name the account to send or print the school's pupils for: "
            "--as <e-mail> (or ADVIESTRAJECT_ACTOR)"
        )
    teacher = runner.invoke(
        app, ["school", "send-participants", "01AA", *YEAR, "--print", "--as", "juf@school.nl"]
    )
    assert teacher.exit_code == 2
    assert log_rows(cli) == before
