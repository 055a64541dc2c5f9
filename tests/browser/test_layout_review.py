"""The staff menu in chromium (the demo school of `make run`): at 360 px directie's 14 links
fold behind "Menu" so the page's heading is in the first screen; the keyboard opens it (Enter on
the summary) and reaches the links; at 1280 px every link shows without the toggle; axe finds
nothing at either width. Screenshots go to var/shots/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_DIRECTOR, DEMO_PASSWORD
from tests.browser.helpers import DESKTOP, PHONE, assert_accessible, log_in

SHOTS = Path(__file__).parents[2] / "var" / "shots"


def test_the_menu_folds_on_a_phone_opens_by_keyboard_and_stays_open_on_a_desktop(
    page: Page,
) -> None:
    log_in(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto("/")
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    toggle = nav.locator("summary")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_text("Menu: Startpagina")
    expect(nav.get_by_role("link", name="Toegangslog")).to_be_hidden()
    heading = page.get_by_role("heading", level=1)
    box = heading.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] < PHONE["height"] / 2  # the content starts high on screen
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "review_menu_closed_360.png"))
    assert_accessible(page)

    toggle.focus()
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name="Toegangslog")).to_be_visible()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Startpagina"
    page.screenshot(path=str(SHOTS / "review_menu_open_360.png"))
    assert_accessible(page)

    page.set_viewport_size(DESKTOP)
    page.goto("/")
    expect(nav.locator("summary")).to_be_hidden()
    expect(nav.get_by_role("link", name="Toegangslog")).to_be_visible()
    expect(nav.get_by_role("link", name="Rapportage")).to_be_visible()
    page.screenshot(path=str(SHOTS / "review_menu_1280.png"))
    assert_accessible(page)
