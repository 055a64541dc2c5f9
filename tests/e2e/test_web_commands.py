"""Every command as a Dutch form, through the real app with a logged-in browser session: the form
renders, a POST stores exactly what the API would, bad input is a 422 in Dutch beside the field
with nothing stored, a stale form shows "intussen gewijzigd door …" and stores nothing, a POST
without the session's CSRF token stores nothing, and a teacher of another class gets a 404."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.schools.register import Pupil, School
from service.store.streams import trajectory_stream
from service.web.actions import BY_KEY
from service.web.commands import FORMS
from tests.conftest import Clock, empty_database, enrolled_pupil
from tests.e2e.web import PASSWORD, csrf, hidden, log_in, start_session, submit
from workflows.commands import (
    Command,
    EnrolPupil,
    GiveProvisionalAdvice,
    PlanConversation,
    RaiseAdvice,
    ReceiveObjection,
    ReceiveTestResult,
    RecordConversationHeld,
    RecordTestMissed,
)
from workflows.enums import ConversationParty
from workflows.scale import SchoolAdvice, TestAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
TEACHER, OTHER_TEACHER = "juf@school.nl", "meester@school.nl"
IB, DIRECTIE, BESTUUR = "ib@school.nl", "directie@school.nl", "bestuur@school.nl"
JAN_20, MAR_10 = datetime(2026, 1, 20, 10, tzinfo=UTC), datetime(2026, 3, 10, 12, tzinfo=UTC)
SYSTEM = CommandContext(actor=Actor("test-setup", "beheer"))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """SQLite unless a test asks for both databases (indirect parametrisation)."""
    return empty_database(getattr(request, "param", "sqlite"), request, tmp_path)


@pytest.fixture
def school(container: Container) -> Container:
    container.register.add_school(SCHOOL)
    people = [
        (TEACHER, "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]),
        (OTHER_TEACHER, "Meester Bram", Role.LEERKRACHT, [Scope(SCHOOL.id, "8B")]),
        (IB, "Ina de IB", Role.IB, [Scope(SCHOOL.id)]),
        (DIRECTIE, "Dirk Directie", Role.DIRECTIE, [Scope(SCHOOL.id)]),
        (BESTUUR, "Bea Bestuur", Role.BESTUUR, [Scope(SCHOOL.id)]),
    ]
    for email, name, role, scopes in people:  # one password: hashing costs ~0.2 s each
        container.accounts.add_user(
            email, name, role, scopes, PASSWORD if email == TEACHER else None
        )
    return container


@pytest.fixture
def browser(school: Container) -> Iterator[TestClient]:
    with TestClient(
        create_app(school), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def pupil_in(container: Container, groep: int = 8, class_name: str = "8A") -> uuid.UUID:
    pupil_id = enrolled_pupil(container, groep=groep)
    container.register.add_pupil(Pupil(str(pupil_id), SCHOOL.id, "Noor", "de Vries", class_name))
    return pupil_id


def events(container: Container, pupil_id: uuid.UUID) -> list[str]:
    return [
        e.event_type for e in container.trajectories.store.read_stream(trajectory_stream(pupil_id))
    ]


def given(container: Container, pupil_id: uuid.UUID, *commands: Command) -> None:
    for command in commands:
        container.trajectories.execute(pupil_id, command, SYSTEM)


# -- the states each form needs ------------------------------------------------------------------

PROVISIONAL = GiveProvisionalAdvice(advice=SchoolAdvice.VMBO_GLTL, given_on=date(2026, 1, 15))
HIGHER = ReceiveTestResult(
    provider="IEP",
    delivery_id="d-1",
    test_advice=TestAdvice.HAVO_VWO,
    received_on=date(2026, 3, 10),
)
PLANNED = PlanConversation(planned_at=datetime(2026, 3, 12, 14, 0, tzinfo=UTC))
HELD = RecordConversationHeld(held_on=date(2026, 3, 10), attendees=(ConversationParty.PARENTS,))
RAISED = RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=date(2026, 3, 10))
OBJECTION = ReceiveObjection(objection_id="o-1", received_on=date(2026, 1, 18), summary="havo")


@dataclass
class Case:
    key: str
    data: dict[str, object]
    event: str
    given: tuple[Command, ...] = ()
    who: str = TEACHER
    groep: int = 8
    now: datetime = JAN_20
    given_now: datetime = JAN_20
    extra: Callable[[Container], None] | None = field(default=None)


CASES = [
    Case(
        "orienterend-advies",
        {"advice": "HAVO", "given_on": "2026-01-15"},
        "orientation_advice_given",
        groep=7,
    ),
    Case(
        "groep-8",
        {"school_year": "2026-2027", "entered_on": "2026-08-24"},
        "pupil_entered_groep_8",
        groep=7,
        now=datetime(2026, 8, 25, 9, tzinfo=UTC),
    ),
    Case(
        "voorlopig-advies",
        {"advice": "VMBO_GL/TL_TM_HAVO", "given_on": "2026-01-15"},
        "provisional_advice_given",
    ),
    Case(
        "voorlopig-advies-corrigeren",
        {"advice": "HAVO", "corrected_on": "2026-01-16", "reason": "verkeerd ingevoerd"},
        "provisional_advice_corrected",
        (PROVISIONAL,),
    ),
    Case(
        "vrijstelling",
        {"ground": "newcomer", "decided_on": "2026-01-16", "parents_consulted": "ja"},
        "exemption_granted",
        (PROVISIONAL,),
        who=IB,
    ),
    Case(
        "verhindering",
        {"missed_on": "2026-02-03", "reason": "ziek"},
        "test_missed",
        (PROVISIONAL,),
        now=datetime(2026, 2, 5, 9, tzinfo=UTC),
    ),
    Case(
        "inhaaltoets",
        {"planned_on": "2026-02-12"},
        "catch_up_test_planned",
        (PROVISIONAL, RecordTestMissed(missed_on=date(2026, 2, 3), reason="ziek")),
        now=datetime(2026, 2, 5, 9, tzinfo=UTC),
        given_now=datetime(2026, 2, 5, 9, tzinfo=UTC),
    ),
    Case(
        "geen-uitslag",
        {"recorded_on": "2026-03-10", "reason": "langdurig ziek"},
        "no_test_result_recorded",
        (PROVISIONAL,),
        now=MAR_10,
    ),
    Case(
        "gesprek-plannen",
        {"planned_at": "2026-03-12T15:30", "with_pupil": "ja"},
        "reconsideration_conversation_planned",
        (PROVISIONAL, HIGHER),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "gesprek-verzetten",
        {"planned_at": "2026-03-13T09:00", "reason": "ouder ziek"},
        "reconsideration_conversation_moved",
        (PROVISIONAL, HIGHER, PLANNED),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "gesprek-afzeggen",
        {"cancelled_on": "2026-03-10", "reason": "geen tijd"},
        "reconsideration_conversation_cancelled",
        (PROVISIONAL, HIGHER, PLANNED),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "gesprek-gevoerd",
        {"held_on": "2026-03-10", "attendees": ["parents", "pupil"], "notes": "goed gesprek"},
        "reconsideration_conversation_held",
        (PROVISIONAL, HIGHER),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "gesprek-afgezien",
        {"declined_on": "2026-03-10"},
        "reconsideration_conversation_declined",
        (PROVISIONAL, HIGHER),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "advies-bijstellen",
        {"advice": "HAVO_TM_VWO", "decided_on": "2026-03-10"},
        "advice_raised",
        (PROVISIONAL, HIGHER, HELD),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "advies-handhaven",
        {"decided_on": "2026-03-10", "reason": "work_attitude", "motivation": "werkhouding"},
        "advice_kept",
        (PROVISIONAL, HIGHER, HELD),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "definitief-advies",
        {"given_on": "2026-03-10"},
        "final_advice_given",
        (PROVISIONAL, HIGHER, HELD, RAISED),
        now=MAR_10,
        given_now=MAR_10,
    ),
    Case(
        "okr-gesprek",
        {"held_on": "2026-01-19", "parents_saw_okr": "ja", "parents_view": "eens"},
        "okr_conversation_held",
    ),
    Case(
        "verzoek-ouders",
        {"received_on": "2026-01-19", "summary": "zij vragen havo", "requested_advice": "HAVO"},
        "objection_received",
        (PROVISIONAL,),
    ),
    Case(
        "verzoek-beslissen",
        {"decided_on": "2026-01-20", "granted": "nee", "motivation": "toets volgt nog"},
        "objection_decided",
        (PROVISIONAL, OBJECTION),
        who=DIRECTIE,
    ),
    Case("vertrek", {"left_on": "2026-01-19", "destination": "Het Lyceum"}, "pupil_left_school"),
    Case(
        "duo-aanlevering",
        {"kind": "provisional", "sent_on": "2026-01-19"},
        "national_register_registration_sent",
        (PROVISIONAL,),
        who=IB,
    ),
]


def prepared(container: Container, clock: Clock, case: Case) -> uuid.UUID:
    pupil_id = pupil_in(container, groep=case.groep)
    for command in case.given:
        clock.now = JAN_20 if isinstance(command, GiveProvisionalAdvice) else case.given_now
        given(container, pupil_id, command)
    clock.now = case.now
    return pupil_id


def test_every_action_of_the_pupil_page_has_a_form_and_a_case_here() -> None:
    assert set(FORMS) == set(BY_KEY)
    assert {case.key for case in CASES} == set(FORMS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key)
def test_each_form_renders_in_dutch_and_stores_its_command(
    browser: TestClient, school: Container, clock: Clock, case: Case
) -> None:
    pupil_id = prepared(school, clock, case)
    start_session(browser, case.who)
    before = events(school, pupil_id)

    form = browser.get(f"/leerlingen/{pupil_id}/acties/{case.key}")
    assert form.status_code == 200, form.text
    assert f'<h1 class="utrecht-heading-1">{BY_KEY[case.key].label}</h1>' in form.text
    assert "Noor de Vries" in form.text
    for f in FORMS[case.key].fields_for(school.trajectories.load(pupil_id)):
        assert f'name="{f.name}"' in form.text
    assert any(what == "actieformulier" for *_, what in reads_of(school.engine, str(pupil_id)))
    if case.key == "groep-8":  # the next school year is offered
        assert 'value="2026-2027"' in form.text

    done = submit(browser, pupil_id, case.key, case.data)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/leerlingen/{pupil_id}?gedaan={case.key}"
    after = events(school, pupil_id)
    assert after[: len(before)] == before
    assert after[len(before)] == case.event
    stored = school.trajectories.store.read_stream(trajectory_stream(pupil_id))[len(before)]
    assert (
        stored.metadata["role"] == {TEACHER: "leerkracht", IB: "ib", DIRECTIE: "directie"}[case.who]
    )
    # The API reads the same trajectory: one write path, one truth.
    api = browser.get(f"/api/v1/pupils/{pupil_id}/trajectory")
    assert api.status_code == 200
    assert api.headers["ETag"] == f'"{len(after)}"'


def test_the_stored_advice_is_the_one_chosen_in_the_form(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    done = submit(
        browser, pupil_id, "voorlopig-advies", {"advice": "HAVO_TM_VWO", "given_on": "2026-01-15"}
    )
    assert done.status_code == 303
    trajectory = browser.get(f"/api/v1/pupils/{pupil_id}/trajectory").json()
    assert trajectory["provisional_advice"]["advice"]["code"] == "HAVO_TM_VWO"
    assert trajectory["provisional_advice"]["given_on"] == "2026-01-15"


@pytest.mark.parametrize(
    ("data", "field_name", "message"),
    [
        ({"advice": "", "given_on": "2026-01-15"}, "advice", "Maak een keuze."),
        ({"advice": "mavo-plus", "given_on": "2026-01-15"}, "advice", ""),
        ({"advice": "HAVO", "given_on": "15 januari"}, "given_on", "Geef een geldige datum."),
        ({"advice": "HAVO", "given_on": "2026-02-15"}, "given_on", "ligt in de toekomst"),
    ],
    ids=["empty", "unknown-advice", "not-a-date", "in-the-future"],
)
def test_a_bad_value_is_a_422_in_dutch_beside_the_field_and_nothing_is_stored(
    browser: TestClient, school: Container, data: dict[str, str], field_name: str, message: str
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    before = events(school, pupil_id)

    refused = submit(browser, pupil_id, "voorlopig-advies", data)

    assert refused.status_code == 422
    error = re.search(rf'id="veld-{field_name}-fout">([^<]+)<', refused.text)
    assert error, refused.text
    assert message in error.group(1)
    assert f'aria-describedby="veld-{field_name}-fout"' in refused.text
    assert "Niet opgeslagen" in refused.text
    assert events(school, pupil_id) == before
    # What was typed stays in the form.
    assert 'value="' + data["given_on"] + '"' in refused.text


def test_a_rule_of_the_domain_that_names_a_field_is_shown_beside_that_field(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    """Raising above the toetsadvies (havo/vwo) is not foreseen anywhere: the domain says no."""
    pupil_id = prepared(school, clock, next(c for c in CASES if c.key == "advies-bijstellen"))
    start_session(browser, TEACHER)
    before = events(school, pupil_id)
    refused = submit(
        browser, pupil_id, "advies-bijstellen", {"advice": "VWO", "decided_on": "2026-03-10"}
    )
    assert refused.status_code == 422
    assert re.search(r'id="veld-advice-fout">[^<]+<', refused.text), refused.text
    assert events(school, pupil_id) == before


def test_what_the_machine_refuses_is_said_above_the_form_and_nothing_is_stored(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    form = browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies")
    refused = browser.post(
        f"/leerlingen/{pupil_id}/acties/inhaaltoets",
        data={
            "csrf_token": csrf(form.text),
            "version": hidden(form.text, "version"),
            "planned_on": "2026-01-20",
        },
    )
    assert refused.status_code == 422
    assert "Inhaaltoets plannen kan niet in de toestand" in refused.text
    assert events(school, pupil_id) == ["pupil_enrolled"]


def test_a_form_opened_before_someone_else_changed_the_pupil_says_so_and_stores_nothing(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    log_in(browser, TEACHER)
    form = browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies")
    token, version = csrf(form.text), hidden(form.text, "version")

    # Meanwhile the intern begeleider records the OKR-gesprek in another browser.
    with TestClient(create_app(school), follow_redirects=False) as other:
        start_session(other, IB)
        assert submit(other, pupil_id, "okr-gesprek", {"held_on": "2026-01-19"}).status_code == 303
    before = events(school, pupil_id)

    stale = browser.post(
        f"/leerlingen/{pupil_id}/acties/voorlopig-advies",
        data={"csrf_token": token, "version": version, "advice": "HAVO", "given_on": "2026-01-15"},
    )

    assert stale.status_code == 409
    assert "Intussen gewijzigd door Ina de IB op 20-01-2026 om 11:00" in stale.text
    assert events(school, pupil_id) == before
    # The fresh version is in the form again, with what the teacher chose: sending it again works.
    assert hidden(stale.text, "version") == str(len(before))
    assert 'value="HAVO" selected' in stale.text
    again = browser.post(
        f"/leerlingen/{pupil_id}/acties/voorlopig-advies",
        data={
            "csrf_token": token,
            "version": hidden(stale.text, "version"),
            "advice": "HAVO",
            "given_on": "2026-01-15",
        },
    )
    assert again.status_code == 303
    assert events(school, pupil_id)[-1] == "provisional_advice_given"


@pytest.mark.parametrize("token", [None, "", "vervalst"], ids=["missing", "empty", "wrong"])
def test_a_post_without_the_sessions_csrf_token_is_refused_and_stores_nothing(
    browser: TestClient, school: Container, token: str | None
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    version = hidden(browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies").text, "version")
    data = {"version": version, "advice": "HAVO", "given_on": "2026-01-15"}
    if token is not None:
        data["csrf_token"] = token
    refused = browser.post(f"/leerlingen/{pupil_id}/acties/voorlopig-advies", data=data)
    assert refused.status_code == 403
    assert events(school, pupil_id) == ["pupil_enrolled"]


def test_a_form_without_its_version_is_not_stored(browser: TestClient, school: Container) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    form = browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies")
    refused = browser.post(
        f"/leerlingen/{pupil_id}/acties/voorlopig-advies",
        data={
            "csrf_token": csrf(form.text),
            "advice": "HAVO",
            "given_on": "2026-01-15",
        },
    )
    assert refused.status_code == 422
    assert events(school, pupil_id) == ["pupil_enrolled"]


def test_a_teacher_of_another_class_gets_a_404_for_form_and_post(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    token = csrf(browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies").text)
    start_session(browser, OTHER_TEACHER)
    other_token = csrf(browser.get("/").text)
    assert browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies").status_code == 404
    refused = browser.post(
        f"/leerlingen/{pupil_id}/acties/voorlopig-advies",
        data={
            "csrf_token": other_token or token,
            "version": "1",
            "advice": "HAVO",
            "given_on": "2026-01-15",
        },
    )
    assert refused.status_code == 404
    assert "Noor" not in refused.text
    assert events(school, pupil_id) == ["pupil_enrolled"]
    assert browser.get(f"/leerlingen/{uuid.uuid4()}/acties/voorlopig-advies").status_code == 404
    assert browser.get(f"/leerlingen/{pupil_id}/acties/bestaat-niet").status_code == 404
    assert browser.get("/leerlingen/geen-uuid/acties/voorlopig-advies").status_code == 404


def test_the_board_reads_but_gets_no_form_and_a_teacher_gets_no_school_staff_form(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, BESTUUR)
    assert browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies").status_code == 403
    start_session(browser, TEACHER)
    refused = browser.get(f"/leerlingen/{pupil_id}/acties/vrijstelling")
    assert refused.status_code == 403
    assert "Als leerkracht mag u" in refused.text


def test_without_login_the_form_sends_you_to_the_login(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    shown = browser.get(f"/leerlingen/{pupil_id}/acties/voorlopig-advies")
    assert shown.status_code == 303
    assert shown.headers["location"] == "/login"
    posted = browser.post(f"/leerlingen/{pupil_id}/acties/voorlopig-advies", data={})
    assert posted.status_code == 303
    assert events(school, pupil_id) == ["pupil_enrolled"]


def test_a_form_the_machine_does_not_allow_now_says_why_instead_of_showing_fields(
    browser: TestClient, school: Container
) -> None:
    pupil_id = pupil_in(school)
    start_session(browser, TEACHER)
    shown = browser.get(f"/leerlingen/{pupil_id}/acties/definitief-advies")
    assert shown.status_code == 409
    assert "Dit kan nu niet" in shown.text
    assert 'name="given_on"' not in shown.text


@pytest.mark.parametrize("key", ["advies-bijstellen", "advies-handhaven"])
def test_before_the_heroverweging_talk_the_decision_form_says_why_and_stores_nothing(
    browser: TestClient, school: Container, clock: Clock, key: str
) -> None:
    """With the school's conversation setting on (the default) the decision waits for the talk;
    once the talk is recorded as held, the same form is shown and stored."""
    case = next(c for c in CASES if c.key == key)
    pupil_id = pupil_in(school)
    for command in (PROVISIONAL, HIGHER):
        clock.now = JAN_20 if command is PROVISIONAL else MAR_10
        given(school, pupil_id, command)
    start_session(browser, TEACHER)
    reason = "leg eerst vast dat het gesprek is gevoerd, of dat de ouders ervan afzien"

    shown = browser.get(f"/leerlingen/{pupil_id}/acties/{key}")
    assert shown.status_code == 409
    assert "Dit kan nu niet" in shown.text
    assert reason in shown.text
    assert 'name="decided_on"' not in shown.text
    before = events(school, pupil_id)
    talk_form = browser.get(f"/leerlingen/{pupil_id}/acties/gesprek-gevoerd")
    sent = {
        "csrf_token": csrf(talk_form.text),
        "version": hidden(talk_form.text, "version"),
    }
    refused = browser.post(f"/leerlingen/{pupil_id}/acties/{key}", data={**sent, **case.data})
    assert refused.status_code == 422
    assert reason in refused.text
    assert events(school, pupil_id) == before

    held = submit(
        browser, pupil_id, "gesprek-gevoerd", {"held_on": "2026-03-10", "attendees": ["parents"]}
    )
    assert held.status_code == 303, held.text
    stored = submit(browser, pupil_id, key, case.data)
    assert stored.status_code == 303, stored.text
    assert events(school, pupil_id)[-2:] == ["reconsideration_conversation_held", case.event]


# -- the class grid ------------------------------------------------------------------------------

GRID = f"/klassen/voorlopig?school={SCHOOL.id}&klas=8A"


def a_class(container: Container, size: int = 28) -> list[uuid.UUID]:
    pupils = []
    for number in range(size):
        pupil_id = enrolled_pupil(container)
        container.register.add_pupil(
            Pupil(str(pupil_id), SCHOOL.id, f"Kind{number:02d}", f"Achternaam{number:02d}", "8A")
        )
        pupils.append(pupil_id)
    return pupils


def grid_data(html: str, pupils: list[uuid.UUID], advice: str = "HAVO") -> dict[str, str]:
    data = {"csrf_token": csrf(html), "given_on": "2026-01-15"}
    for pupil_id in pupils:
        data[f"versie-{pupil_id}"] = hidden(html, f"versie-{pupil_id}")
        data[f"advies-{pupil_id}"] = advice
    return data


BOTH = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@BOTH
def test_the_grid_commits_the_voorlopig_advies_of_28_pupils_in_one_transaction(
    browser: TestClient, school: Container
) -> None:
    pupils = a_class(school)
    other_class = pupil_in(school, class_name="8B")
    start_session(browser, TEACHER)
    shown = browser.get(GRID)
    assert shown.status_code == 200, shown.text
    assert shown.text.count('<select class="utrecht-select') == 28
    assert any(w == "klas voorlopig advies" for *_, w in reads_of(school.engine, str(pupils[0])))
    assert "Kind00 Achternaam00" in shown.text
    assert str(other_class) not in shown.text
    head_before = school.trajectories.store.head()[0]

    done = browser.post(GRID, data=grid_data(shown.text, pupils))

    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("&opgeslagen=28")
    stored = [school.trajectories.store.read_stream(trajectory_stream(p))[-1] for p in pupils]
    assert [e.event_type for e in stored] == ["provisional_advice_given"] * 28
    assert sorted(e.position for e in stored) == list(range(head_before + 1, head_before + 29))
    assert len({e.recorded_at for e in stored}) == 1  # one unit of work
    assert len({e.metadata["request_id"] for e in stored}) == 1
    for pupil_id in pupils:
        trajectory = browser.get(f"/api/v1/pupils/{pupil_id}/trajectory").json()
        assert trajectory["provisional_advice"]["advice"]["code"] == "HAVO"
    # Afterwards the grid offers a correction instead, with the advice chosen.
    again = browser.get(done.headers["location"])
    assert "28 adviezen vastgelegd." in again.text
    assert again.text.count('name="reden-') == 28


@BOTH
def test_one_refused_row_stores_nothing_for_the_whole_class_and_says_why_beside_it(
    browser: TestClient, school: Container
) -> None:
    pupils = a_class(school, 27)
    last_year = uuid.uuid4()
    school.trajectories.execute(
        last_year,
        EnrolPupil(
            school_id=SCHOOL.id, school_year="2024-2025", groep=8, enrolled_on=date(2024, 8, 26)
        ),
        SYSTEM,
    )
    school.register.add_pupil(Pupil(str(last_year), SCHOOL.id, "Zoë", "Zwart", "8A"))
    start_session(browser, TEACHER)
    shown = browser.get(GRID)
    head_before = school.trajectories.store.head()[0]

    refused = browser.post(GRID, data=grid_data(shown.text, [*pupils, last_year]))

    assert refused.status_code == 422
    assert school.trajectories.store.head()[0] == head_before
    error = re.search(rf'id="fout-{last_year}">([^<]+)<', refused.text)
    assert error, refused.text
    assert "2026-01-15 valt niet in schooljaar 2024-2025" in error.group(1)
    assert "Niets opgeslagen" in refused.text
    assert refused.text.count("app-field-error") == 1
    assert 'value="HAVO" selected' in refused.text  # what was chosen stays
    for pupil_id in pupils:
        assert events(school, pupil_id) == ["pupil_enrolled"]


def test_a_grid_row_changed_meanwhile_stops_the_grid_with_intussen_gewijzigd(
    browser: TestClient, school: Container
) -> None:
    pupils = a_class(school, 3)
    start_session(browser, TEACHER)
    shown = browser.get(GRID)
    with TestClient(create_app(school), follow_redirects=False) as other:
        start_session(other, DIRECTIE)
        okr = submit(other, pupils[1], "okr-gesprek", {"held_on": "2026-01-19"})
        assert okr.status_code == 303
    refused = browser.post(GRID, data=grid_data(shown.text, pupils))
    assert refused.status_code == 409
    assert "Intussen gewijzigd door Dirk Directie op 20-01-2026 om 11:00" in refused.text
    assert [events(school, p)[-1] for p in pupils] == [
        "pupil_enrolled",
        "okr_conversation_held",
        "pupil_enrolled",
    ]


def test_the_grid_checks_values_csrf_and_who_may_use_it(
    browser: TestClient, school: Container
) -> None:
    pupils = a_class(school, 2)
    start_session(browser, TEACHER)
    shown = browser.get(GRID)
    data = grid_data(shown.text, pupils)

    bad = browser.post(GRID, data={**data, f"advies-{pupils[0]}": "mavo-plus"})
    assert bad.status_code == 422
    assert "Kies een advies uit de lijst." in bad.text
    no_date = browser.post(GRID, data={**data, "given_on": ""})
    assert no_date.status_code == 422
    assert 'id="veld-given_on-fout">Vul dit veld in.' in no_date.text
    nothing = browser.post(GRID, data={**data, **{f"advies-{p}": "" for p in pupils}})
    assert nothing.status_code == 422
    assert "ten minste één leerling" in nothing.text
    forged = browser.post(GRID, data={**data, "csrf_token": "vervalst"})
    assert forged.status_code == 403
    assert all(events(school, p) == ["pupil_enrolled"] for p in pupils)

    start_session(browser, OTHER_TEACHER)
    assert browser.get(GRID).status_code == 404
    assert browser.post(GRID, data=data).status_code == 404
    start_session(browser, BESTUUR)
    assert browser.get(GRID).status_code == 403
    start_session(browser, IB)
    assert browser.get(GRID).status_code == 200
    assert browser.get("/klassen/voorlopig?school=elders&klas=8A").status_code == 404
    assert all(events(school, p) == ["pupil_enrolled"] for p in pupils)


def test_a_correction_in_the_grid_needs_a_reason_and_is_stored_as_a_correction(
    browser: TestClient, school: Container
) -> None:
    pupils = a_class(school, 2)
    for pupil_id in pupils:
        given(school, pupil_id, PROVISIONAL)
    start_session(browser, TEACHER)
    shown = browser.get(GRID)
    data = grid_data(shown.text, pupils, advice=PROVISIONAL.advice.value)
    data[f"advies-{pupils[0]}"] = "HAVO"
    refused = browser.post(GRID, data=data)
    assert refused.status_code == 422
    assert "Geef de reden van de correctie." in refused.text
    data[f"reden-{pupils[0]}"] = "verkeerd overgenomen"
    done = browser.post(GRID, data=data)
    assert done.status_code == 303
    assert events(school, pupils[0])[-1] == "provisional_advice_corrected"
    assert events(school, pupils[1])[-1] == "provisional_advice_given"  # unchanged: untouched


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key)
def test_each_form_sent_empty_answers_422_in_dutch_beside_a_field_and_stores_nothing(
    browser: TestClient, school: Container, clock: Clock, case: Case
) -> None:
    pupil_id = prepared(school, clock, case)
    start_session(browser, case.who)
    before = events(school, pupil_id)

    refused = submit(browser, pupil_id, case.key, {})

    assert refused.status_code == 422, refused.text
    errors = re.findall(r'id="veld-(\w+)-fout">([^<]+)<', refused.text)
    assert errors, refused.text
    required = {f.name for f in FORMS[case.key].fields if f.required}
    assert {name for name, _ in errors} <= required
    assert all(message.endswith(".") and message[0].isupper() for _, message in errors)
    assert {message for _, message in errors} <= {
        "Vul dit veld in.",
        "Maak een keuze.",
        "Kies ten minste één.",
    }
    assert events(school, pupil_id) == before


def test_after_a_result_review_the_definitief_advies_form_asks_for_the_advice(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil_id = pupil_in(school)
    given(
        school, pupil_id, GiveProvisionalAdvice(advice=SchoolAdvice.VSO, given_on=date(2026, 1, 15))
    )
    clock.now = MAR_10
    given(school, pupil_id, HIGHER)
    start_session(browser, TEACHER)
    shown = browser.get(f"/leerlingen/{pupil_id}/acties/definitief-advies")
    assert 'name="advice"' in shown.text
    refused = submit(browser, pupil_id, "definitief-advies", {"given_on": "2026-03-10"})
    assert refused.status_code == 422
    assert "Kies het definitief advies na beoordeling van de uitslag." in refused.text
    done = submit(
        browser, pupil_id, "definitief-advies", {"given_on": "2026-03-10", "advice": "HAVO"}
    )
    assert done.status_code == 303
    trajectory = browser.get(f"/api/v1/pupils/{pupil_id}/trajectory").json()
    assert trajectory["final_advice"]["advice"]["code"] == "HAVO"


def test_without_a_result_review_the_definitief_advies_form_has_no_advice_to_choose(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil_id = prepared(school, clock, next(c for c in CASES if c.key == "definitief-advies"))
    start_session(browser, TEACHER)
    shown = browser.get(f"/leerlingen/{pupil_id}/acties/definitief-advies")
    assert shown.status_code == 200
    assert 'name="advice"' not in shown.text
    assert "bijgesteld naar havo/vwo" in shown.text
