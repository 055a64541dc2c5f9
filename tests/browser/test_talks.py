"""A heroverweging talk in the browser, from the invitation to the decision, against the real
service (`serve` with its embedded worker) and the demo school, whose teacher published her
afternoons of 15-24 March and whose pupil Noor has two parents with e-mail addresses:

a test provider delivers a toetsadvies above Noor's voorlopig advies through the chain; the
worker opens the heroverweging, the planner proposes a talk in the teacher's time and both
parents get an invitation; a parent opens the link and asks for another time (not on Tuesday
afternoons); the teacher sees that on the worklist and the talk's page and moves the talk to a
Thursday; the parent gets a new e-mail and accepts from its link; the decision is not offered
and refused before the talk, and accepted after the teacher recorded the talk as held.

Every page visited passes axe-core (WCAG 2.2 A/AA) and fits 360 px.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import (
    AMSTERDAM,
    DEMO_EDU_TO,
    DEMO_OIN,
    DEMO_PASSWORD,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    demo_pupil_id,
)
from tests.browser.chain import mandated_provider
from tests.browser.helpers import assert_accessible, assert_fits, log_in, today
from tests.browser.served import Served, ServiceError
from workflows.calendar import SchoolYear

pytestmark = pytest.mark.browser

NOOR = str(demo_pupil_id("Noor", "de Vries"))
PARENT = "ouder1.noor.devries@demo.adviestraject.nl"
PARENT_LINK = r"/ouders/[A-Za-z0-9_\-]+"


def checked(page: Page) -> None:
    assert_accessible(page)
    assert_fits(page)


def a_newer_link(served: Served, old: str | None, timeout: float = 30) -> str:
    """The link in the newest e-mail to the parent, once it is not `old` any more."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            link = served.mail_to(PARENT, PARENT_LINK, timeout=2)
        except ServiceError:
            link = None
        if link is not None and link != old:
            return link
        if time.monotonic() > deadline:
            raise AssertionError(f"no new e-mail with a link to {PARENT} after {timeout} s")
        time.sleep(0.3)


def thursday_in_the_heroverweging_week() -> date:
    year = SchoolYear.containing(datetime.now(AMSTERDAM).date())
    day = date(year.start_year + 1, 3, 15)
    while day.isoweekday() != 4:
        day += timedelta(days=1)
    return day


def parent_asks_for_another_time(page: Page, link: str) -> None:
    page.goto(link)
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Gesprek over het schooladvies van Noor"
    )
    expect(main).to_contain_text("De school stelt dit moment voor")
    for other in ("Daan", "Sara", "Jansen", "El Amrani"):
        expect(main).not_to_contain_text(other)
    checked(page)
    page.locator("#veld-niet-dinsdag-middag").check()
    page.locator("#veld-liefst-donderdag-middag").check()
    page.locator("#veld-bericht-ander").fill("Op dinsdag werk ik; donderdagmiddag past goed.")
    page.get_by_role("button", name="Vraag een ander moment").click()
    expect(main).to_contain_text("De school weet dat dit moment niet past")
    checked(page)


def teacher_sees_the_question_and_moves_the_talk(page: Page, to: date) -> None:
    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    page.goto("/heroverwegingen")
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name="Noor de Vries", exact=True)
    )
    expect(row).to_contain_text("ouders vragen een ander moment")
    checked(page)
    row.get_by_role("link", name=re.compile("Gesprek openen|In de week bekijken")).first.click()
    # loaded (the week's script too: leaving while it loads aborts it, a failed request)
    page.wait_for_url(re.compile(r"/gesprekken[/?]"))
    if "/gesprekken?" in page.url:  # the week: the talk's block leads to its page
        page.get_by_role("main").get_by_role("link", name=re.compile("Noor")).first.click()
    page.wait_for_url(re.compile(r"/gesprekken/[0-9a-f-]+$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("De ouders vragen een ander moment")
    expect(main).to_contain_text("donderdagmiddag past goed")
    checked(page)
    page.get_by_label("Nieuwe datum").fill(to.isoformat())
    page.get_by_label("Begintijd").fill("14:00")
    page.get_by_label("Reden").fill("Op verzoek van de ouders naar donderdagmiddag.")
    page.get_by_role("button", name="Verzetten").click()
    expect(page.get_by_role("main")).to_contain_text(to.strftime("%d-%m-%Y"))
    checked(page)


def parent_accepts_the_new_time(page: Page, link: str, on: date) -> None:
    page.goto(link)
    main = page.get_by_role("main")
    expect(main).to_contain_text("donderdag")
    expect(main).to_contain_text(str(on.day))
    page.get_by_role("button", name="Ik kom op dit moment").click()
    expect(main).to_contain_text("De school weet dat u komt")
    checked(page)


def the_decision_waits_for_the_talk_and_follows_it(page: Page) -> None:
    page.goto(f"/leerlingen/{NOOR}")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Gevoerd gesprek vastleggen")).to_be_visible()
    expect(main.get_by_role("link", name="Advies bijstellen")).to_have_count(0)
    checked(page)

    refused = page.goto(f"/leerlingen/{NOOR}/acties/advies-bijstellen")
    assert refused is not None
    assert refused.status == 409
    expect(page.get_by_role("main")).to_contain_text("gesprek")
    checked(page)

    page.goto(f"/leerlingen/{NOOR}")
    page.get_by_role("link", name="Gevoerd gesprek vastleggen").click()
    page.get_by_label("Gevoerd op").fill(today())
    page.get_by_label("Aantekeningen").fill("Ouders en Noor zien vwo zitten.")
    page.get_by_role("button", name="Opslaan").click()
    # the talk is planned for March: it cannot have been held today (it unlocked the decision)
    expect(page.get_by_role("main")).to_contain_text("staat gepland op")
    checked(page)
    page.goto(f"/leerlingen/{NOOR}")
    page.get_by_role("link", name="Ouders zien af van een gesprek").click()
    page.get_by_label("Afgezien op").fill(today())
    page.get_by_label("Aantekeningen").fill(
        "Ouders en Noor zien vwo zitten; een gesprek hoeft niet."
    )
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/leerlingen/[0-9a-f-]+(\?.*)?$"))

    page.get_by_role("link", name="Advies bijstellen").click()
    page.get_by_label("Nieuw advies").select_option(label="vwo")
    page.get_by_label("Besloten op").fill(today())
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/leerlingen/[0-9a-f-]+(\?.*)?$"))
    expect(page.get_by_role("main")).to_contain_text("Het advies is bijgesteld")
    checked(page)


def test_a_heroverweging_talk_from_invitation_to_decision(
    served: Served, new_page: Callable[[], Page]
) -> None:
    provider = mandated_provider(served, DEMO_SCHOOL.brin, DEMO_EDU_TO, DEMO_OIN)
    assert provider.deliver(NOOR, "vwo") == 202
    invitation = a_newer_link(served, None)

    parent = new_page()
    parent_asks_for_another_time(parent, served.url(invitation))

    thursday = thursday_in_the_heroverweging_week()
    teacher = new_page()
    teacher_sees_the_question_and_moves_the_talk(teacher, thursday)

    update = a_newer_link(served, invitation)
    parent_accepts_the_new_time(parent, served.url(update), thursday)

    the_decision_waits_for_the_talk_and_follows_it(teacher)
