"""By keyboard alone, in chromium: the skip link comes first, logging in works with Tab and
Enter, and every element the Tab key reaches shows where the focus is (WCAG 2.4.7, which axe-core
cannot check)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_DIRECTOR, DEMO_PASSWORD

pytestmark = pytest.mark.browser

# what the focused element shows: its outline, or a box shadow in its place
_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  return {
    what: e.tagName.toLowerCase() + " " + (e.textContent || e.getAttribute("name") || "").trim(),
    indicated: outline || (s.boxShadow && s.boxShadow !== "none"),
    visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0,
  };
}"""


def focused(page: Page) -> dict[str, object]:
    found = page.evaluate(_FOCUS)
    assert found is not None, f"{page.url}: the focus went nowhere"
    return dict(found)


def test_log_in_by_keyboard_and_see_the_focus_on_every_stop(page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert "Direct naar de inhoud" in str(skip["what"]), skip
    assert skip["visible"], skip
    assert skip["indicated"], skip

    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.name") != "email":
        page.keyboard.press("Tab")
    page.keyboard.type(DEMO_DIRECTOR)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()

    seen: list[dict[str, object]] = []
    for _ in range(60):  # every Tab stop of the start page, until the focus leaves the page
        page.keyboard.press("Tab")
        stop = page.evaluate(_FOCUS)
        if stop is None:
            break
        seen.append(stop)
        assert stop["visible"], f"Tab stop {len(seen)} is not on screen: {stop}"
        assert stop["indicated"], f"Tab stop {len(seen)} shows no focus: {stop}"
    names = [str(stop["what"]) for stop in seen]
    assert any("Uitloggen" in name for name in names), names
    assert any("Toetsuitslagen" in name for name in names), names
