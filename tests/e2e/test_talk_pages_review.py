"""The talk page after the usability walkthrough, through the real app on SQLite and PostgreSQL:
a talk still planned for a later day cannot be recorded as held (web form hidden with why, the
domain's refusal on the talk page and the API alike), the held date defaults to the planned day,
what the parents said stays on the page after the talk was replanned, and a held talk's page
says when it was held, who attended, the notes and where the heroverweging goes on."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.scheduling import views
from service.shared.context import Actor
from tests.conftest import Clock
from tests.e2e.heroverweging import SCHOOL, pupil_with_result
from tests.e2e.web import PASSWORD, browse, csrf
from workflows.calendar import SchoolYear
from workflows.conversations import Period, TalkKind, TalkStatus
from workflows.cycles import ConversationRound, MonthDay, RoundKind
from workflows.enums import ConversationParty
from workflows.policy import SchoolPolicy
from workflows.scale import TestAdvice

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SYSTEM = Actor("planner", "systeem")


@pytest.fixture
def school(container: Container, clock: Clock) -> Container:
    container.register.add_school(SCHOOL)
    container.accounts.add_user(
        "juf@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")], PASSWORD
    )
    return container


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Dutch local time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=AMSTERDAM)


def noor_with_talk(container: Container, clock: Clock, day: int = 17) -> tuple[str, str]:
    """Noor of 8A (toetsadvies vwo above vmbo-gt), her heroverweging talk planned on `day`
    March 14:00; the clock on Monday 16 March 2026, 08:00 in Amsterdam."""
    pupil = str(pupil_with_result(container, clock, "Noor", "8A", TestAdvice.VWO))
    clock.now = datetime(2026, 3, 16, 7, tzinfo=UTC)
    talk = container.talks.request(pupil, TalkKind.RECONSIDERATION, SYSTEM)
    container.talks.plan(talk, at(day, 14), "lokaal 12", SYSTEM)
    return pupil, talk


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def form_of(html: str) -> dict[str, str]:
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version
    return {"csrf_token": csrf(html), "version": version.group(1)}


def status(container: Container, talk: str) -> TalkStatus:
    row = views.talk(container.engine, talk)
    assert row is not None
    return TalkStatus(str(getattr(row.status, "value", row.status)))


HELD_BEFORE = (
    "het gesprek staat gepland op 17-03-2026 en kan niet op 16-03-2026 gevoerd zijn; is het "
    "eerder gevoerd, zeg het dan eerst af en leg daarna vast op welke dag het gevoerd is"
)


def test_a_talk_planned_for_a_later_day_is_not_recorded_as_held_on_the_page_or_the_api(
    school: Container, clock: Clock
) -> None:
    pupil, talk = noor_with_talk(school, clock)  # on 16 March, for 17 March
    token = school.accounts.issue_token("juf@school.nl", "tests", days=30).token

    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/gesprekken/{talk}").text
        sent = juf.post(
            f"/gesprekken/{talk}/gevoerd",
            data={**form_of(page), "gevoerd_op": "2026-03-16", "aanwezig": ["parents"]},
        )
    with TestClient(create_app(school), headers={"Authorization": f"Bearer {token}"}) as api:
        answer = api.post(
            f"/api/v1/pupils/{pupil}/reconsideration/conversation/outcome",
            json={"outcome": "held", "held_on": "2026-03-16", "attendees": ["parents"]},
        )

    assert f'action="/gesprekken/{talk}/gevoerd"' not in page  # no form before the talk's day
    assert (
        "Dit gesprek staat gepland op dinsdag 17-03-2026. Vanaf die dag legt u hier vast dat het "
        "gevoerd is." in text_of(page)
    )
    assert sent.status_code == 422
    assert f'id="veld-gevoerd_op-fout">H{HELD_BEFORE[1:]}.<' in sent.text  # beside the date
    assert 'value="2026-03-16"' in sent.text  # the input kept
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "held_before_planned"
    assert HELD_BEFORE in answer.text
    assert status(school, talk) is TalkStatus.PROPOSED  # nothing stored
    assert school.trajectories.load(uuid.UUID(pupil)).conversation.value == "planned"


def test_the_held_form_shows_from_the_talk_s_day_with_that_day_as_its_date(
    school: Container, clock: Clock
) -> None:
    _, talk = noor_with_talk(school, clock)
    clock.now = at(19, 9)  # two days after the talk

    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/gesprekken/{talk}").text

    assert f'action="/gesprekken/{talk}/gevoerd"' in page
    held = re.search(r'<input[^>]*id="veld-gevoerd_op"[^>]*>', page)
    assert held
    assert 'value="2026-03-17"' in held.group(0)  # the planned day, not today (19 March)


def test_what_the_parents_said_stays_on_the_talk_page_after_it_was_replanned(
    school: Container, clock: Clock
) -> None:
    _, talk = noor_with_talk(school, clock, day=18)
    parent = "ouder-1"  # the pupil has no parents in the register: any parent may answer
    who = Actor(parent, "ouder")
    clock.now = at(16, 10)
    school.talks.parents_view(talk, parent, "Noor wil graag naar het vwo.", who)
    busy = Period(start=at(18, 8), end=at(18, 18))
    school.talks.parents_other_time(talk, parent, "Dan werk ik, liever later.", [busy], [], who)
    clock.now = at(16, 11)
    school.talks.move(talk, at(19, 14), "lokaal 12", "Op verzoek van de ouders", SYSTEM)
    clock.now = at(16, 12)
    school.talks.parents_accept(talk, parent, who)

    with browse(school, "juf@school.nl") as juf:
        page = text_of(juf.get(f"/gesprekken/{talk}").text)

    history = page[page.index("Verloop: alles wat de ouders zeiden, op volgorde") :]
    assert "De ouders vragen een ander moment" not in page  # the request is answered
    assert "16-03-2026 10:00 De ouders gaven hun zienswijze: “Noor wil graag naar het vwo.”" in (
        history
    )
    assert "16-03-2026 10:00 De ouders vroegen een ander moment: “Dan werk ik, liever later.”" in (
        history
    )
    assert "Niet beschikbaar: woensdag 18-03-2026 08:00–18:00" in history
    assert "16-03-2026 11:00 Nieuw moment: donderdag 19-03-2026 14:00" in history
    assert "16-03-2026 12:00 De ouders bevestigden het gesprek" in history


def test_a_held_talk_s_page_says_when_who_and_what_and_links_on_to_the_decision(
    school: Container, clock: Clock
) -> None:
    pupil, talk = noor_with_talk(school, clock)
    clock.now = at(17, 16)
    school.talks.hold(
        talk,
        date(2026, 3, 17),
        [ConversationParty.PARENTS, ConversationParty.TEACHER],
        "Ouders steunen vwo; Noor ook.",
        Actor("juf-1", "leerkracht"),
    )

    with browse(school, "juf@school.nl") as juf:
        html = juf.get(f"/gesprekken/{talk}").text
        week = juf.get("/gesprekken?week=2026-W12").text
    page = text_of(html)

    assert "Het gesprek is gevoerd Gevoerd op 17-03-2026" in page
    assert "Aanwezig ouders/verzorgers, leerkracht" in page
    assert "Ouders steunen vwo; Noor ook." in page
    assert "Wanneer" not in page
    assert "Gepland op dinsdag 17-03-2026, 14:00–14:30" in page
    assert f'href="/leerlingen/{pupil}/acties/advies-bijstellen"' in html
    assert f'href="/leerlingen/{pupil}/acties/advies-handhaven"' in html
    assert f'action="/gesprekken/{talk}/gevoerd"' not in html
    # the week's list: a held talk is looked at, no longer opened to be moved
    assert "Openen / verzetten" not in week
    assert f'href="/gesprekken/{talk}" aria-label="Gesprek met Noor Jansen op dinsdag' in week
    assert '14:00–14:30 bekijken">Bekijken</a>' in week


def test_the_week_page_jumps_to_the_next_talk_and_the_rounds_and_the_start_page_lists_it(
    school: Container, clock: Clock
) -> None:
    _, talk = noor_with_talk(school, clock)  # on 16 March, for Tuesday 17 March 14:00
    settings = school.policies.settings(SCHOOL.id)
    rounds = (
        ConversationRound(
            "oudergesprek mei", RoundKind.PROGRESS, 8, MonthDay(5, 11), MonthDay(5, 22)
        ),
    )
    school.policies.change(
        SCHOOL.id,
        SchoolYear(2025),
        SchoolPolicy(rounds=rounds),
        user_id="d",
        user_name="Dirk",
        role="directie",
        expected_version=settings.version,
    )

    with browse(school, "juf@school.nl") as juf:
        week = juf.get("/gesprekken?week=2026-W02").text  # an empty week in January
        home = juf.get("/").text

    jump = text_of(week)
    assert (
        '<a class="utrecht-link" href="/gesprekken?week=2026-W12">'
        "Naar het eerstvolgende gesprek</a>" in week
    )
    assert "Naar het eerstvolgende gesprek (dinsdag 17-03-2026, Noor Jansen)" in jump
    assert '<a class="utrecht-link" href="/gesprekken?week=2026-W20">oudergesprek mei</a>' in week
    assert "Gespreksronde oudergesprek mei (11-05-2026 t/m 22-05-2026)" in jump
    start = text_of(home)
    assert (
        "Uw volgende gesprekken dinsdag 17-03-2026, 14:00–14:30: Noor Jansen "
        "(heroverwegingsgesprek," in start
    )
    assert f'href="/gesprekken/{talk}"' in home
