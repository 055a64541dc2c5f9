"""What a teacher reads has no internal names or jargon: the service's own actors by a Dutch
name, the history's check in plain words (the chain's position only in the technical details),
a delivery by where it came from, and what was read in the access log in Dutch."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from service.audit.integrity import check_now
from service.bootstrap import Container
from service.shared.context import Actor, CommandContext
from tests.conftest import Clock
from tests.e2e import review_world
from tests.e2e.review_world import (
    BOTH,
    DIRECTIE,
    JAN_20,
    MAR_10,
    PROVISIONAL,
    TEACHER,
    given,
    pupil_in,
    sign_in,
    text_of,
)
from workflows.commands import PlanConversation, ReceiveTestResult
from workflows.scale import TestAdvice

database_url, school, browser = review_world.database_url, review_world.school, review_world.browser
PLANNER = CommandContext(actor=Actor("talk-planner", "systeem"))


def visible(html: str) -> str:
    """The words shown without opening a <details> element."""
    return text_of(re.sub(r"<details.*?</details>", " ", html, flags=re.S))


@BOTH
def test_pupil_page_and_dossier_name_the_planner_and_say_the_check_in_plain_dutch(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = JAN_20
    given(school, pupil, PROVISIONAL)
    check_now(school)  # the daily full check, at 20-01-2026 11:00 Dutch time
    clock.now = MAR_10
    csv = ReceiveTestResult(
        provider="IEP",
        delivery_id="csv-83727cf4a1b2c3d4e5f6",
        test_advice=TestAdvice.HAVO_VWO,
        received_on=date(2026, 3, 10),
    )
    given(school, pupil, csv)
    plan = PlanConversation(planned_at=datetime(2026, 3, 12, 14, tzinfo=UTC))
    school.trajectories.execute(pupil, plan, PLANNER)
    sign_in(browser, DIRECTIE)

    html = browser.get(f"/leerlingen/{pupil}").text
    shown = visible(html)
    assert "door de gesprekkenplanner (automatisch)" in shown
    assert "gepland op 12-03-2026 15:00" in shown  # 14:00 UTC, in Dutch time
    assert "talk-planner" not in html
    assert "(systeem)" not in shown
    assert "Geschiedenis gecontroleerd op 20-01-2026 om 11:00: ongewijzigd." in shown
    assert "positie" not in shown
    assert "hash" not in shown.lower()
    technical = text_of(html.split("app-integrity__details", 1)[1].split("</details>")[0])
    assert "Keten geverifieerd tot en met positie 2 op 20-01-2026 om 11:00" in technical
    assert "Wat daarna is vastgelegd, wordt bij de volgende controle meegenomen." in technical

    dossier = browser.get(f"/leerlingen/{pupil}/dossier").text
    shown = visible(dossier)
    assert "door de gesprekkenplanner (automatisch)" in shown
    assert "Geschiedenis gecontroleerd op 20-01-2026 om 11:00: ongewijzigd." in shown
    assert (
        "feiten van deze leerling zijn op 10-03-2026 om 13:00 opnieuw gecontroleerd: ongewijzigd"
        in shown
    )
    levering = text_of(dossier.split('data-label="Levering"')[1].split("</td>")[0])
    assert levering == "> CSV-bestand ingelezen door test-setup op 10-03-2026 13:00"
    assert "csv-83727cf4" not in shown


def test_before_any_check_the_page_says_so_in_plain_dutch_and_the_log_says_what_in_dutch(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = JAN_20
    given(school, pupil, PROVISIONAL)
    sign_in(browser, TEACHER)
    assert "De geschiedenis is nog niet gecontroleerd." in visible(
        browser.get(f"/leerlingen/{pupil}").text
    )
    sign_in(browser, DIRECTIE)
    assert browser.get(f"/leerlingen/{pupil}/dossier.pdf").status_code == 200
    clock.now += timedelta(minutes=1)
    log = browser.get("/toegangslog").text
    rows = [text_of(row) for row in log.split("<tbody")[1].split("</tr>")[:-1]]
    assert any(row.endswith("dossier als pdf") for row in rows), rows
    assert "dossier-pdf" not in log
