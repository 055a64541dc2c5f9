"""The pages every user meets, in chromium: the login, a wrong password, the start page after
logging in (and out again), the Toetsuitslagen page reached from the menu, and the class page's
filter swapping only the results with htmx. Each passes axe-core (WCAG 2.2 A/AA) with zero
violations at desktop width and at 360 px, does not scroll sideways at 360 px, and has nothing
refused by the Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_DIRECTOR, DEMO_PASSWORD, DEMO_TEACHER
from tests.browser.helpers import assert_accessible_at_both_widths, log_in
from tests.browser.served import Served

pytestmark = pytest.mark.browser


def test_the_login_page_is_accessible_and_shows_no_pupil_data(page: Page) -> None:
    page.goto("/login")
    expect(page).to_have_title("Inloggen – Adviestraject groep 8")
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    expect(page.get_by_text("Noor de Vries")).to_have_count(0)
    assert_accessible_at_both_widths(page)


def test_a_wrong_password_says_so_in_dutch_beside_the_form(page: Page, served: Served) -> None:
    log_in(page, DEMO_TEACHER, "niet-het-wachtwoord")
    expect(page.get_by_role("alert")).to_contain_text(
        "Dit e-mailadres en wachtwoord horen niet bij elkaar"
    )
    expect(page.get_by_label("E-mailadres")).to_have_value(DEMO_TEACHER)
    assert page.url == served.url("/login")
    assert_accessible_at_both_widths(page)


def test_directie_opens_the_toetsuitslagen_page_from_the_menu(page: Page) -> None:
    log_in(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Toetsuitslagen").click()
    page.wait_for_url("**/toetsuitslagen")
    expect(page.get_by_role("heading", name="Toetsuitslagen").first).to_be_visible()
    expect(page.get_by_role("heading", name="OBS De Vuurtoren (demo) (BRIN 99ZZ)")).to_be_visible()
    assert_accessible_at_both_widths(page)


def test_the_teacher_logs_in_sees_the_start_page_and_logs_out(page: Page) -> None:
    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    expect(page.get_by_text("Juf Demi (demo)")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url("**/login")
    expect(page.get_by_role("button", name="Uitloggen")).to_have_count(0)
    page.goto("/klassen")
    page.wait_for_url("**/login**")


def test_the_class_page_filters_with_htmx_without_reloading_the_page(page: Page) -> None:
    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Klassen").click()
    page.wait_for_url("**/klassen**")
    expect(page.get_by_role("link", name="Luuk Bakker", exact=True)).to_be_visible()
    page.evaluate("window.stillThisPage = true")

    waiting = "groep 8, wacht op voorlopig advies"
    page.get_by_label("Stand van zaken").select_option(label=waiting)
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true") as swapped:
        page.get_by_role("button", name="Toon").click()
    assert "status=" in swapped.value.url
    page.wait_for_url("**status=**")  # the address follows the filter (hx-push-url)
    expect(page.get_by_role("link", name="Luuk Bakker", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Sara El Amrani", exact=True)).to_have_count(0)
    results = page.locator("#app-klas-resultaat tbody tr")
    for row in range(results.count()):
        expect(results.nth(row)).to_contain_text(waiting)
    assert page.evaluate("window.stillThisPage === true"), "the whole page was loaded again"
    assert_accessible_at_both_widths(page)
