"""The 'Advies bijstellen' form says what the rules say: only the levels a heroverweging may
raise to (above the advice, up to the toetsadvies), and reason and motivering marked as required
for a partial raise, whose refusal names them beside the field."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from service.bootstrap import Container
from tests.conftest import Clock
from tests.e2e import review_world
from tests.e2e.review_world import (
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


def test_the_raise_form_offers_the_allowed_levels_and_marks_what_a_partial_raise_needs(
    browser: TestClient, school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school)
    clock.now = JAN_20
    given(school, pupil, PROVISIONAL)  # vmbo-gt
    clock.now = MAR_10
    given(school, pupil, HIGHER, HELD)  # toetsadvies havo/vwo
    sign_in(browser, TEACHER)

    form = browser.get(f"/leerlingen/{pupil}/acties/advies-bijstellen").text
    select = form.split('name="advice"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert offered == [
        ("", "Kies een advies"),
        ("VMBO_GL/TL_TM_HAVO", "vmbo-gt/havo"),
        ("HAVO", "havo"),
        ("HAVO_TM_VWO", "havo/vwo"),
    ]
    words = text_of(form)
    assert "Hoger dan vmbo-gt, tot en met het toetsadvies havo/vwo." in words
    assert "Reden (verplicht bij gedeeltelijk bijstellen)" in words
    assert "Motivering (verplicht bij gedeeltelijk bijstellen)" in words
    assert "(niet verplicht)" not in words

    before = events(school, pupil)
    partial = submit(
        browser, pupil, "advies-bijstellen", {"advice": "HAVO", "decided_on": "2026-03-10"}
    )
    assert partial.status_code == 422
    reason = partial.text.split('id="veld-reason-fout"')[1].split("</div>")[0]
    assert "reden en motivering" in reason
    assert events(school, pupil) == before

    done = submit(
        browser,
        pupil,
        "advies-bijstellen",
        {
            "advice": "HAVO",
            "decided_on": "2026-03-10",
            "reason": "work_attitude",
            "motivation": "Werkhouding wisselend; havo past nu het best.",
        },
    )
    assert done.status_code == 303, done.text
    assert events(school, pupil)[-1] == "advice_raised"
