"""The heroverweging on the pupil page and the worklist: a decision taken is shown (what, by
whom, when) with the definitief advies as the next step, and before the conversation with
parents and pupil the pages say so instead of offering a decision the machine refuses."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from service.bootstrap import Container
from tests.conftest import Clock
from tests.e2e import review_world
from tests.e2e.review_world import (
    BOTH,
    HELD,
    HIGHER,
    JAN_20,
    MAR_10,
    PROVISIONAL,
    TEACHER,
    events,
    given,
    pupil_in,
    sign_in,
    text_of,
)
from tests.e2e.web import submit

database_url, school, browser = review_world.database_url, review_world.school, review_world.browser


def actions_of(html: str) -> list[str]:
    """The labels of the pupil page's action buttons, in order."""
    part = html.split("Wat kan nu")[1].split("Geschiedenis", maxsplit=1)[0]
    return [text_of(a) for a in re.findall(r"<a [^>]*utrecht-button[^>]*>(.*?)</a>", part, re.S)]


def facts_of(html: str) -> str:
    return text_of(html.split("Wat kan nu", maxsplit=1)[0])


@BOTH
def test_after_raising_the_pupil_page_and_the_worklist_show_the_decision_and_the_next_step(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = JAN_20
    given(school, pupil, PROVISIONAL)
    clock.now = MAR_10
    given(school, pupil, HIGHER, HELD)
    sign_in(browser, TEACHER)
    raised = submit(
        browser, pupil, "advies-bijstellen", {"advice": "HAVO_TM_VWO", "decided_on": "2026-03-10"}
    )
    assert raised.status_code == 303, raised.text
    assert events(school, pupil)[-1] == "advice_raised"

    html = browser.get(f"/leerlingen/{pupil}").text
    facts = facts_of(html)
    assert "besloten, definitief advies nog vast te leggen" in facts
    assert "heroverweging nodig" not in facts
    assert (
        "Besluit heroverweging Advies bijgesteld naar havo/vwo op 10-03-2026, "
        "door Juf Anna (leerkracht)" in facts
    )
    shown = actions_of(html)
    assert shown[0] == "Definitief advies vastleggen"
    assert "Advies bijstellen" not in shown
    assert "Advies handhaven" not in shown
    assert shown[-2:] == ["Besluit wijzigen: bijstellen", "Besluit wijzigen: handhaven"]

    listed = browser.get("/heroverwegingen").text
    assert "Geen open heroverwegingen." in listed  # no longer among the open ones
    decided = text_of(listed.split("Besloten, definitief advies nog vast te leggen")[1])
    assert "Noor de Vries" in decided
    assert "Advies bijgesteld naar havo/vwo op 10-03-2026" in decided
    assert f'href="/leerlingen/{pupil}/acties/definitief-advies"' in listed
    assert "Advies bijstellen voor Noor de Vries" not in listed


def test_before_the_conversation_both_pages_say_why_and_link_to_the_talk_not_to_a_refusal(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = JAN_20
    given(school, pupil, PROVISIONAL)
    clock.now = MAR_10
    given(school, pupil, HIGHER)
    sign_in(browser, TEACHER)
    plan = f'href="/leerlingen/{pupil}/acties/gesprek-plannen"'

    listed = browser.get("/heroverwegingen").text
    row = listed.split("Noor de Vries</a>")[1].split("</tr>")[0]
    assert "Eerst het gesprek met ouders en leerling; daarna bijstellen of handhaven." in row
    assert "acties/advies-bijstellen" not in row
    assert "acties/advies-handhaven" not in row
    assert plan in row
    # the form it used to link to is refused by the machine: the pages agree with the guard
    assert browser.get(f"/leerlingen/{pupil}/acties/advies-bijstellen").status_code == 409

    html = browser.get(f"/leerlingen/{pupil}").text
    waiting = text_of(html.split("Wat kan nu")[1].split("Geschiedenis")[0])
    assert waiting.startswith(
        "Advies bijstellen of handhaven kan nog niet. Eerst het gesprek met ouders en leerling"
    )
    assert plan in html

    given(school, pupil, HELD)  # the conversation held: now the decision is offered
    listed = browser.get("/heroverwegingen").text
    row = listed.split("Noor de Vries</a>")[1].split("</tr>")[0]
    assert "Eerst het gesprek" not in row
    assert "acties/advies-bijstellen" in row
    assert "acties/advies-handhaven" in row
    html = browser.get(f"/leerlingen/{pupil}").text
    assert "kan nog niet" not in html
    assert actions_of(html)[:2] == ["Advies bijstellen", "Advies handhaven"]
