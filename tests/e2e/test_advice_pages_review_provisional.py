"""The voorlopig advies form: asks for the onderbouwing (stored with the advice since v3 and
shown in the history and the dossier), says exactly how a date outside the legal period is
marked, and warns before saving when the date falls outside it (also as the date is typed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.bootstrap import Container
from service.store.streams import trajectory_stream
from tests.conftest import Clock
from tests.e2e import review_world
from tests.e2e.review_world import (
    BOTH,
    JAN_20,
    TEACHER,
    pupil_in,
    sign_in,
    text_of,
)
from tests.e2e.web import submit
from workflows.events import CODEC, ProvisionalAdviceGiven

database_url, school, browser = review_world.database_url, review_world.school, review_world.browser
FORM = "/leerlingen/{}/acties/voorlopig-advies"


def given_on(form: str) -> str:
    found = re.search(r'<input[^>]*name="given_on"[^>]*>', form)
    assert found
    return found.group(0)


WHY = "Noor werkt zelfstandig en gemotiveerd; begrijpend lezen 2F, rekenen 1S."


@BOTH
def test_the_onderbouwing_is_stored_with_the_advice_and_shown_in_history_and_dossier(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = JAN_20
    sign_in(browser, TEACHER)
    form = browser.get(FORM.format(pupil)).text
    words = text_of(form)
    assert "Onderbouwing" in words
    assert "eerder als 'vóór de wettelijke periode', later als 'te laat'" in words
    assert 'value="2026-01-20"' in given_on(form)  # today: in the period
    assert "20-01-2026 valt in de wettelijke periode (10 tot en met 31 januari 2026)." in words

    saved = submit(
        browser,
        pupil,
        "voorlopig-advies",
        {"advice": "HAVO", "given_on": "2026-01-20", "motivation": WHY},
    )
    assert saved.status_code == 303, saved.text
    stored = school.trajectories.store.read_stream(trajectory_stream(pupil))[-1]
    assert (stored.event_type, stored.schema_version) == ("provisional_advice_given", 3)

    page = text_of(browser.get(f"/leerlingen/{pupil}").text)
    assert "Voorlopig schooladvies: havo" in page
    assert f"Waarom: {WHY}" in page
    sign_in(browser, review_world.DIRECTIE)
    dossier = text_of(browser.get(f"/leerlingen/{pupil}/dossier").text)
    assert f"Onderbouwing {WHY}" in dossier
    assert "Grond –" not in dossier.split("Definitief schooladvies")[0]


def test_outside_the_period_the_date_is_not_today_and_the_form_warns_before_saving(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = datetime(2025, 12, 1, 9, tzinfo=UTC)  # a Monday in December, groep 8 of 2025-26
    sign_in(browser, TEACHER)
    form = browser.get(FORM.format(pupil)).text
    assert (
        'name="given_on" required' in form or 'value=""' in form.split('name="given_on"')[0][-80:]
    )
    assert 'value="2025-12-01"' not in form
    words = text_of(form)
    assert (
        "Vandaag (01-12-2025) valt buiten de wettelijke periode (10 tot en met 31 januari 2026)."
        in words
    )
    assert 'hx-get="/leerlingen/' in form  # the note follows the date as it is typed

    early = browser.get(FORM.format(pupil) + "/termijn", params={"given_on": "2025-12-01"})
    assert early.status_code == 200
    assert (
        "Let op: 01-12-2025 ligt vóór de wettelijke periode (10 tot en met 31 januari 2026). "
        "Het advies wordt wel vastgelegd, maar gemarkeerd als 'vóór de wettelijke periode'."
    ) in text_of(early.text)
    late = text_of(
        browser.get(FORM.format(pupil) + "/termijn", params={"given_on": "2026-02-02"}).text
    )
    assert "ligt na de wettelijke periode" in late
    assert "gemarkeerd als 'te laat'" in late
    inside = text_of(
        browser.get(FORM.format(pupil) + "/termijn", params={"given_on": "2026-01-12"}).text
    )
    assert inside == "12-01-2026 valt in de wettelijke periode (10 tot en met 31 januari 2026)."

    # saving an early date anyway: recorded, and marked exactly as the form said
    saved = submit(browser, pupil, "voorlopig-advies", {"advice": "HAVO", "given_on": "2025-12-01"})
    assert saved.status_code == 303, saved.text
    page = text_of(browser.get(f"/leerlingen/{pupil}").text)
    assert "Voorlopig schooladvies: havo vóór de wettelijke periode" in page


def test_the_api_takes_the_motivation_and_still_accepts_an_advice_without_one(
    school: Container, clock: Clock
) -> None:
    clock.now = JAN_20
    token = school.accounts.issue_token(TEACHER, "tests", days=30).token
    with_it, without = pupil_in(school), pupil_in(school, "Sem")
    with TestClient(create_app(school), headers={"Authorization": f"Bearer {token}"}) as client:
        for pupil, body in (
            (with_it, {"advice": "havo", "given_on": "2026-01-15", "motivation": WHY}),
            (without, {"advice": "havo", "given_on": "2026-01-15"}),
        ):
            answer = client.post(f"/api/v1/pupils/{pupil}/provisional-advice", json=body)
            assert answer.status_code == 201, answer.text
    for pupil, expected in ((with_it, WHY), (without, None)):
        stored, data = school.trajectories.audit_trail(pupil)[-1]
        event = CODEC.decode(stored.event_type, stored.schema_version, data)
        assert isinstance(event, ProvisionalAdviceGiven)
        assert event.motivation == expected
