"""The start page, the class page and the pupil page, through the real app: no pupil data without
login, each role sees its own scope (a pupil outside it is not found), the filters, last year's
cohort kept apart, the timeline names people (never account ids), the actions are exactly what
the machine allows, every pupil shown is in the access log, and nothing inline on any page.

Most tests run on SQLite; the class page (and its one-query read) also on PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.schools.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    seed_demo_users,
)
from service.schools.register import Pupil, School
from service.web.actions import KINDS, href
from tests.conftest import Clock
from tests.e2e.web import PASSWORD, browse
from workflows.calendar import SchoolYear
from workflows.commands import (
    Command,
    EnrolPupil,
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
    RecordLeaving,
)
from workflows.enums import ConversationParty
from workflows.errors import DomainError
from workflows.lifecycle import CONVERSATION_TRIGGERS
from workflows.machine import fire, fire_conversation
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import Trajectory

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
THIS_YEAR, LAST_YEAR = "2025-2026", "2024-2025"
EMAILS = {
    "juf": "juf@school.nl",
    "meester": "meester@school.nl",
    "ib": "ib@school.nl",
    "directie": "directie@school.nl",
    "bestuur": "bestuur@bestuur.nl",
    "beheer": "beheer@bestuur.nl",
}


@dataclass
class World:
    container: Container
    users: dict[str, str]  # short name -> user id
    pupils: dict[str, str]  # given name -> pupil id


def run(container: Container, pupil_id: str, command: Command, actor: Actor) -> None:
    container.trajectories.execute(uuid.UUID(pupil_id), command, CommandContext(actor=actor))


def add_pupil(
    world: World,
    given: str,
    family: str,
    school: School,
    class_name: str,
    year: str,
    groep: int = 8,
) -> str:
    pupil_id = str(uuid.uuid4())
    world.container.register.add_pupil(Pupil(pupil_id, school.id, given, family, class_name))
    start = SchoolYear.parse(year).first_day
    enrol = EnrolPupil(school_id=school.id, school_year=year, groep=groep, enrolled_on=start)
    run(world.container, pupil_id, enrol, Actor("import", "beheer"))
    world.pupils[given] = pupil_id
    return pupil_id


@pytest.fixture
def world(container: Container) -> World:
    """Two schools of one board; 8A (juf) and 8B (meester) at the first; last year's cohort."""
    container.register.add_school(SCHOOL)
    container.register.add_school(OTHER)
    accounts = container.accounts
    made = {
        "juf": accounts.add_user(
            EMAILS["juf"], "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")], PASSWORD
        ),
        "meester": accounts.add_user(
            EMAILS["meester"], "Meester Bas", Role.LEERKRACHT, [Scope(SCHOOL.id, "8B")], PASSWORD
        ),
        "ib": accounts.add_user(EMAILS["ib"], "Ilse IB", Role.IB, [Scope(SCHOOL.id)], PASSWORD),
        "directie": accounts.add_user(
            EMAILS["directie"], "Dirk Directeur", Role.DIRECTIE, [Scope(SCHOOL.id)], PASSWORD
        ),
        "bestuur": accounts.add_user(
            EMAILS["bestuur"],
            "Bea Bestuur",
            Role.BESTUUR,
            [Scope(SCHOOL.id), Scope(OTHER.id)],
            PASSWORD,
        ),
        "beheer": accounts.add_user(EMAILS["beheer"], "Ben Beheer", Role.BEHEER, [], PASSWORD),
    }
    w = World(container, {k: v.user_id for k, v in made.items()}, {})
    juf = Actor(w.users["juf"], "leerkracht")
    noor = add_pupil(w, "Noor", "de Vries", SCHOOL, "8A", THIS_YEAR)
    run(
        container,
        noor,
        GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
        juf,
    )
    add_pupil(w, "Sem", "Jansen", SCHOOL, "8A", THIS_YEAR)
    add_pupil(w, "Lotte", "Bakker", SCHOOL, "8B", THIS_YEAR)
    add_pupil(w, "Olaf", "Andersen", OTHER, "8", THIS_YEAR)
    old = add_pupil(w, "Oud", "Leerling", SCHOOL, "8A", LAST_YEAR)
    run(
        container,
        old,
        GiveProvisionalAdvice(advice=SchoolAdvice.VWO, given_on=date(2025, 1, 20)),
        juf,
    )
    return w


@pytest.fixture
def app_client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container), follow_redirects=False) as client:
        yield client


def as_user(world: World, who: str) -> TestClient:
    return browse(world.container, EMAILS[who])


def names_on(html: str, world: World) -> set[str]:
    return {given for given in world.pupils if f">{given} " in html}


def actions_on(html: str) -> set[str]:
    section = html.split(">Wat kan nu</h2>")[1].split(">Geschiedenis</h2>", maxsplit=1)[0]
    return set(re.findall(r'href="(/leerlingen/[^"]+/acties/[^"]+)"', section))


def machine_allows(state: Trajectory, trigger: str, world: World) -> bool:
    assert state.school_year is not None
    policy = world.container.policies(state.school_id or "", state.school_year)
    try:
        fire(state, trigger, policy)
        if trigger in CONVERSATION_TRIGGERS:
            fire_conversation(state.conversation, trigger)
    except DomainError:
        return False
    return True


# --- no pupil data without login --------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_visitor_gets_the_login_and_no_pupil_data_in_any_environment(
    world: World, app_client: TestClient, environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.container.settings, "environment", environment)
    noor = world.pupils["Noor"]
    for url in ("/", "/klassen", f"/leerlingen/{noor}", f"/klassen?klas=8A&jaar={THIS_YEAR}"):
        answer = app_client.get(url)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    login = app_client.get("/login")
    assert login.status_code == 200
    assert names_on(login.text, world) == set()
    assert noor not in login.text
    assert reads_of(world.container.engine, noor) == []


@SQLITE_ONLY
def test_the_login_lists_the_demo_accounts_in_development_only(
    world: World, app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DEMO_TEACHER not in app_client.get("/login").text  # no demo accounts seeded
    world.container.register.add_school(DEMO_SCHOOL)
    seed_demo_users(world.container.accounts)
    page = app_client.get("/login").text
    for email in DEMO_ACCOUNTS:  # every role a school uses, to try
        assert email in page
    assert "Ilse de Groot (demo)" in page
    assert "Bram Bestuur (demo)" in page
    assert DEMO_PASSWORD in page
    monkeypatch.setattr(world.container.settings, "environment", "production")
    page = app_client.get("/login").text
    assert DEMO_TEACHER not in page
    assert DEMO_PASSWORD not in page


# --- scope per role ---------------------------------------------------------------------------


@SQLITE_ONLY
def test_a_teacher_sees_the_own_class_only_and_other_pupils_are_not_found(world: World) -> None:
    with as_user(world, "juf") as juf:
        page = juf.get("/klassen")
        assert page.status_code == 200
        assert names_on(page.text, world) == {"Noor", "Sem"}
        assert f'href="/klassen/voorlopig?school={SCHOOL.id}&amp;klas=8A"' in page.text
        assert "klas=8B" not in page.text
        assert juf.get("/klassen?klas=8B").status_code == 404
        assert juf.get(f"/klassen?school={OTHER.id}").status_code == 404
        for outside in ("Lotte", "Olaf"):
            answer = juf.get(f"/leerlingen/{world.pupils[outside]}")
            assert answer.status_code == 404
            assert outside not in answer.text
        unknown = juf.get(f"/leerlingen/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert unknown.text.count("niet gevonden") == answer.text.count("niet gevonden")
        assert juf.get("/leerlingen/geen-uuid").status_code == 404
        assert juf.get(f"/leerlingen/{world.pupils['Sem']}").status_code == 200
    assert [r[3] for r in reads_of(world.container.engine, world.pupils["Lotte"])] == []


@SQLITE_ONLY
@pytest.mark.parametrize("role", ["ib", "directie"])
def test_ib_and_directie_see_the_whole_school_and_filter_by_class_and_state(
    world: World, role: str
) -> None:
    with as_user(world, role) as staff:
        assert names_on(staff.get("/klassen").text, world) == {"Noor", "Sem", "Lotte"}
        assert names_on(staff.get("/klassen?klas=8B").text, world) == {"Lotte"}
        waiting = staff.get("/klassen?status=awaiting_provisional_advice").text
        assert names_on(waiting, world) == {"Sem", "Lotte"}
        given = staff.get("/klassen?klas=8A&status=awaiting_test_result").text
        assert names_on(given, world) == {"Noor"}
        bad = staff.get("/klassen?status=bestaat-niet")
        assert bad.status_code == 422
        assert "Kies een stand van zaken uit de lijst." in bad.text
        assert 'aria-invalid="true"' in bad.text
        assert staff.get(f"/klassen?school={OTHER.id}").status_code == 404
        assert staff.get(f"/leerlingen/{world.pupils['Olaf']}").status_code == 404


@SQLITE_ONLY
def test_last_years_cohort_is_not_mixed_into_this_year(world: World) -> None:
    with as_user(world, "juf") as juf:
        this_year = juf.get("/klassen").text
        assert f'<option value="{THIS_YEAR}" selected>' in this_year
        assert "Oud" not in names_on(this_year, world)
        last_year = juf.get(f"/klassen?jaar={LAST_YEAR}").text
        assert names_on(last_year, world) == {"Oud"}
        assert juf.get("/klassen?jaar=volgend-jaar").status_code == 422


@SQLITE_ONLY
def test_the_board_reads_its_schools_without_actions_and_beheer_sees_no_pupils(
    world: World,
) -> None:
    with as_user(world, "bestuur") as board:
        assert names_on(board.get(f"/klassen?school={OTHER.id}").text, world) == {"Olaf"}
        assert names_on(board.get(f"/klassen?school={SCHOOL.id}").text, world) == {
            "Noor",
            "Sem",
            "Lotte",
        }
        assert "/klassen/voorlopig" not in board.get("/klassen").text  # reading only
        page = board.get(f"/leerlingen/{world.pupils['Noor']}")
        assert page.status_code == 200
        assert actions_on(page.text) == set()
        assert 'href="/import"' not in page.text  # the menu has no school-staff pages
        assert 'href="/klassen"' in page.text
    with as_user(world, "beheer") as admin:
        start = admin.get("/")
        assert start.status_code == 200
        assert names_on(start.text, world) == set()
        assert 'href="/beheer/accounts"' in start.text
        assert 'href="/klassen"' not in start.text
        assert admin.get("/klassen").status_code == 403
        assert admin.get(f"/leerlingen/{world.pupils['Noor']}").status_code == 404


# --- the pupil page ---------------------------------------------------------------------------


@SQLITE_ONLY
def test_the_timeline_names_who_recorded_each_fact_and_never_an_account_id(
    world: World,
) -> None:
    noor = world.pupils["Noor"]
    with as_user(world, "directie") as director:
        page = director.get(f"/leerlingen/{noor}").text
    assert '<h1 class="utrecht-heading-1">Noor de Vries</h1>' in page
    assert "Voorlopig schooladvies: havo" in page
    assert "Op 15-01-2026" in page
    assert "door Juf Anna (leerkracht)" in page
    assert "Ingeschreven in groep 8 (schooljaar 2025-2026)" in page
    assert f'href="/klassen?jaar={THIS_YEAR}&amp;klas=8A&amp;school={SCHOOL.id}"' in page
    for user_id in world.users.values():
        assert user_id not in page
    assert [r[3] for r in reads_of(world.container.engine, noor)] == ["leerlingpagina"]


@SQLITE_ONLY
def test_the_actions_shown_are_what_the_machine_allows_in_each_state(
    world: World, clock: Clock
) -> None:
    container = world.container
    sem, noor, lotte = world.pupils["Sem"], world.pupils["Noor"], world.pupils["Lotte"]
    provider = Actor("toetsaanbieder-1", "toetsaanbieder")
    result = ReceiveTestResult(
        provider="IEP",
        delivery_id="d-1",
        test_advice=TestAdvice.VWO,
        received_on=date(2026, 3, 2),
    )
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    run(container, noor, result, provider)  # vwo above havo: a heroverweging
    run(container, lotte, RecordLeaving(left_on=date(2026, 3, 2)), Actor(world.users["ib"], "ib"))
    seen: set[str] = set()
    for who in ("juf", "ib", "directie"):
        with as_user(world, who) as person:
            role = Role(who if who != "juf" else "leerkracht")
            for pupil in (sem, noor, lotte):
                answer = person.get(f"/leerlingen/{pupil}")
                if answer.status_code == 404:
                    assert who == "juf"
                    assert pupil == lotte
                    continue
                state = container.trajectories.load(uuid.UUID(pupil))
                seen.add(state.status.value)
                expected = {
                    href(pupil, kind.key)
                    for kind in KINDS
                    if role in kind.roles and machine_allows(state, kind.trigger, world)
                }
                assert actions_on(answer.text) == expected, (who, state.status)
    assert seen == {"awaiting_provisional_advice", "reconsideration_required", "left_school"}
    # The heroverweging offers the talk first, and its decisions only once the talk was held.
    with as_user(world, "juf") as juf:
        before = actions_on(juf.get(f"/leerlingen/{noor}").text)
    assert href(noor, "gesprek-gevoerd") in before
    assert href(noor, "advies-bijstellen") not in before
    assert href(noor, "advies-handhaven") not in before
    held = RecordConversationHeld(
        held_on=date(2026, 3, 2), attendees=(ConversationParty.PARENTS, ConversationParty.PUPIL)
    )
    run(container, noor, held, Actor(world.users["juf"], "leerkracht"))
    with as_user(world, "juf") as juf:
        page = juf.get(f"/leerlingen/{noor}").text
    assert href(noor, "advies-bijstellen") in actions_on(page)
    assert href(noor, "advies-handhaven") in actions_on(page)
    assert href(noor, "gesprek-gevoerd") not in actions_on(page)
    assert "Toetsuitslag ontvangen (IEP): toetsadvies vwo" in page


# --- the start page ---------------------------------------------------------------------------


@SQLITE_ONLY
def test_the_start_page_shows_each_role_what_needs_attention_now(
    world: World, clock: Clock
) -> None:
    container = world.container
    with as_user(world, "juf") as juf:
        start = juf.get("/").text
        assert "Juf Anna (leerkracht)" in start
        waiting = start.split("Nog geen voorlopig advies")[1]
        assert names_on(waiting, world) == {"Sem"}
        assert "voorlopig schooladvies geven: 31-01-2026" in waiting
        assert "Termijn verlopen" not in start
    clock.now = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)  # a new school day: log in again
    with as_user(world, "juf") as juf:
        late = juf.get("/").text.split("Termijn verlopen")[1]
        assert names_on(late, world) == {"Sem"}
        assert "(verlopen)" in late
    with as_user(world, "ib") as ib:
        school = ib.get("/").text
        assert names_on(school.split("Termijn verlopen")[1], world) == {"Sem", "Lotte"}
        assert f"/klassen?school={SCHOOL.id}&amp;status=awaiting_provisional_advice" in school
    with as_user(world, "bestuur") as board:
        counts = board.get("/").text
        assert names_on(counts, world) == set()  # counts per school, no names
        assert SCHOOL.name in counts
        assert OTHER.name in counts
    reads = [r[3] for r in reads_of(container.engine, world.pupils["Sem"])]
    assert reads == ["startpagina", "startpagina", "startpagina"]
    assert reads_of(container.engine, world.pupils["Olaf"]) == []


@SQLITE_ONLY
def test_the_start_page_shows_the_notices_the_school_sends_to_me(
    world: World, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    result = ReceiveTestResult(
        provider="IEP", delivery_id="d-2", test_advice=TestAdvice.VWO, received_on=date(2026, 3, 2)
    )
    run(world.container, world.pupils["Noor"], result, Actor("iep", "toetsaanbieder"))
    for who, told in (("juf", True), ("ib", True), ("meester", False)):
        with as_user(world, who) as person:
            start = person.get("/").text
        notices = start.split('id="meldingen">Meldingen voor u</h2>')
        assert (len(notices) == 2) is told, who
        if told:
            assert names_on(notices[1].split("</section>")[0], world) == {"Noor"}
            assert "Heroverweging nodig" in notices[1]
            assert start.count(f'href="/leerlingen/{world.pupils["Noor"]}"') == 1  # not twice
    noor_reads = reads_of(world.container.engine, world.pupils["Noor"])
    assert {r[1] for r in noor_reads} == {world.users["juf"], world.users["ib"]}


# --- the class page on both databases ---------------------------------------------------------


def test_the_class_page_reads_sixty_pupils_in_as_many_statements_as_one(world: World) -> None:
    container = world.container
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with as_user(world, "directie") as director:
        event.listen(container.engine, "before_cursor_execute", count)
        try:
            one = director.get("/klassen?klas=8B")
            for_one = len(statements)
            for n in range(60):
                add_pupil(world, f"Kind{n:02d}", f"Achternaam{n:02d}", SCHOOL, "8C", THIS_YEAR)
            statements.clear()
            sixty = director.get("/klassen?klas=8C")
            for_sixty = len(statements)
        finally:
            event.remove(container.engine, "before_cursor_execute", count)
    assert one.status_code == sixty.status_code == 200
    assert sixty.text.count('href="/leerlingen/') == 60
    assert for_sixty == for_one, statements
    reads = reads_of(container.engine, world.pupils["Kind59"])
    assert [r[3] for r in reads] == ["klassenpagina"]
    assert "Kind00 Achternaam00" in sixty.text
    assert sixty.text.index("Kind00 Achternaam00") < sixty.text.index("Kind59 Achternaam59")


def test_the_class_page_shows_advices_deadlines_and_overdue(world: World, clock: Clock) -> None:
    gijs = add_pupil(world, "Gijs", "Groen", SCHOOL, "8A", THIS_YEAR, groep=7)
    orientation = GiveOrientationAdvice(
        advice=SchoolAdvice.VMBO_GLTL_TM_HAVO, given_on=date(2026, 1, 19)
    )
    run(world.container, gijs, orientation, Actor(world.users["juf"], "leerkracht"))
    clock.now = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    with as_user(world, "juf") as juf:
        page = juf.get("/klassen").text
    rows = {
        given: row
        for row in page.split('<tr class="utrecht-table__row">')[2:]
        for given in names_on(row, world)
    }
    assert "havo" in rows["Noor"]
    assert "toetsuitslag ontvangen: 15-03-2026" in rows["Noor"]
    assert "(verlopen)" not in rows["Noor"]
    assert "voorlopig schooladvies geven" in rows["Sem"]
    assert "(verlopen)" in rows["Sem"]
    assert 'data-label="Oriënterend advies">vmbo-gt/havo</td>' in rows["Gijs"]
    assert "groep 7" in rows["Gijs"]
    with as_user(world, "juf") as juf:
        overdue = juf.get("/klassen?termijn=verlopen").text
    assert names_on(overdue, world) == {"Sem"}


# --- nothing inline, a strict policy ----------------------------------------------------------

INLINE = (
    re.compile(r"<style", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),
    re.compile(r"javascript:", re.I),
    re.compile(r"\shx-on", re.I),
)


@SQLITE_ONLY
def test_every_page_has_no_inline_style_or_script_and_the_policy_allows_none(
    world: World, app_client: TestClient
) -> None:
    pages = {"login": app_client.get("/login")}
    for who in ("juf", "directie", "bestuur", "beheer"):
        with as_user(world, who) as person:
            pages[f"{who} /"] = person.get("/")
            if who != "beheer":
                pages[f"{who} /klassen"] = person.get("/klassen")
                pages[f"{who} pupil"] = person.get(f"/leerlingen/{world.pupils['Noor']}")
                pages[f"{who} filter error"] = person.get("/klassen?status=x")
            pages[f"{who} not found"] = person.get(f"/leerlingen/{uuid.uuid4()}")
    for name, answer in pages.items():
        assert answer.status_code in (200, 404, 422), name
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "style-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        for pattern in INLINE:
            assert not pattern.search(answer.text), (name, pattern.pattern)
        assert '<a class="utrecht-skip-link app-skip-link" href="#inhoud">' in answer.text
        assert '<main id="inhoud"' in answer.text
        assert answer.text.count("<h1") == 1, name
        for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', answer.text):
            served = app_client.get(asset)
            assert served.status_code == 200, asset
            assert "immutable" in served.headers["cache-control"]
