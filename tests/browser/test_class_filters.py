"""The class page's filters in chromium: with htmx, "Toon" replaces only the results (the form
and the focus stay where they are) and the address follows, so the back button and a shared link
show the same list; the swapped page still passes axe and the CSP refuses nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_PASSWORD, DEMO_TEACHER
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser


def test_filtering_the_class_replaces_the_results_in_place_and_updates_the_address(
    page: Page,
) -> None:
    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    page.goto("/klassen")
    rows = page.locator("#app-klas-resultaat tbody tr")
    everyone = rows.count()
    assert everyone > 1
    page.evaluate("document.querySelector('form.app-filters').dataset.marker = 'kept'")

    page.get_by_label("Stand van zaken").select_option(value="awaiting_provisional_advice")
    page.get_by_role("button", name="Toon").click()

    expect(page).to_have_url(re.compile(r"/klassen\?.*status=awaiting_provisional_advice"))
    expect(rows.first).to_be_visible()
    filtered = rows.count()
    assert 0 < filtered < everyone
    for badge in rows.locator("td[data-label='Stand van zaken']").all_inner_texts():
        assert "voorlopig" in badge.lower()
    # the same form element: only the results were swapped, not the page
    assert page.evaluate("document.querySelector('form.app-filters').dataset.marker") == "kept"
    assert_accessible(page)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/klassen$"))
