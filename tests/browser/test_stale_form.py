"""Two browser tabs on the same pupil, in chromium: the form saved second was rendered from a
version that is no longer current, so it is refused with "Intussen gewijzigd door …" and the
fresh state — never a silent overwrite. A required field left empty says so beside the field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_PASSWORD, DEMO_TEACHER, demo_pupil_id
from tests.browser.helpers import assert_accessible, log_in, today

pytestmark = pytest.mark.browser

MILAN = demo_pupil_id("Milan", "Smit")  # no voorlopig advies in the demo school


def test_a_stale_form_shows_who_changed_the_pupil_and_stores_nothing(page: Page) -> None:
    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    form = f"/leerlingen/{MILAN}/acties/voorlopig-advies"
    page.goto(form)
    other_tab = page.context.new_page()
    other_tab.goto(form)

    page.get_by_role("button", name="Opslaan").click()  # nothing filled in
    expect(page.get_by_text("Niet opgeslagen: verbeter de velden met een melding.")).to_be_visible()
    advice = page.get_by_label("Advies", exact=True)
    expect(advice).to_have_attribute("aria-invalid", "true")
    error_id = (advice.get_attribute("aria-describedby") or "").split()[-1]
    expect(page.locator(f"#{error_id}")).to_contain_text(re.compile(r"\S"))
    assert_accessible(page)

    page.get_by_label("Advies", exact=True).select_option(label="havo")
    page.get_by_label("Gegeven op").fill(today())
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(rf"/leerlingen/{MILAN}(\?.*)?$"))
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"Voorlopig advies\s*havo"))

    other_tab.get_by_label("Advies", exact=True).select_option(label="vwo")
    other_tab.get_by_label("Gegeven op").fill(today())
    other_tab.get_by_role("button", name="Opslaan").click()
    expect(other_tab.get_by_text(re.compile("Intussen gewijzigd door Juf Demi"))).to_be_visible()
    expect(other_tab.get_by_role("main")).to_contain_text(re.compile(r"Voorlopig advies\s*havo"))
    assert_accessible(other_tab)

    page.reload()
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"Voorlopig advies\s*havo"))
    expect(page.get_by_role("main")).not_to_contain_text("vwo")
