"""What the browser tests and the screenshots share: Debian's chromium, logging in, and the
checks every visited page must pass — axe-core's WCAG 2.2 A/AA rules with zero violations,
nothing refused by the Content-Security-Policy, no script error, no failed request, and no
sideways scrolling at 360 px."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import ConsoleMessage, Page, Request, Response, ViewportSize

CHROMIUM = os.environ.get("ADVIESTRAJECT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=360, height=740)
# axe-core's tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def today() -> str:
    """Today at the school (the served app's clock is the real one), for date fields."""
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()


def chromium_present() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


@dataclass
class PageProblems:
    """What the browser reported while a page was used: CSP refusals, script errors, requests
    that failed or were answered with 4xx/5xx (other than the page itself, which a test may
    expect to be a 422)."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.messages.append(f"console: {message.text}")

    def response(self, response: Response) -> None:
        kind = response.request.resource_type
        if response.status >= 400 and kind not in {"document", "xhr", "fetch"}:
            self.messages.append(f"{kind} {response.url}: {response.status}")

    def failed(self, request: Request) -> None:
        self.messages.append(f"request failed: {request.url} {request.failure}")


_PROBLEMS: dict[int, PageProblems] = {}


def watch(page: Page) -> Page:
    """Record the page's problems for `assert_accessible`."""
    problems = PageProblems()
    _PROBLEMS[id(page)] = problems
    page.on("console", problems.console)
    page.on("pageerror", lambda error: problems.messages.append(f"script error: {error}"))
    page.on("response", problems.response)
    page.on("requestfailed", problems.failed)
    return page


def forget(page: Page) -> None:
    _PROBLEMS.pop(id(page), None)


_AXE = Axe()


def axe_violations(page: Page) -> list[str]:
    """Every WCAG 2.2 A/AA violation axe-core finds on the page, one entry per element."""
    results = _AXE.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(
                f"{violation['id']} ({violation['impact']}) at "
                f"{' > '.join(map(str, node['target']))}\n"
                f"    {node['html'][:240]}\n"
                f"    {summary[:400]}"
            )
    return lines


def accessibility_problems(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 A/AA violations, and what the browser reported since the last check:
    CSP refusals, script errors, failed requests."""
    page.wait_for_load_state("load")
    problems = _PROBLEMS.get(id(page), PageProblems())
    before = len(problems.messages)
    found = axe_violations(page)
    during = [f"(while axe ran) {message}" for message in problems.messages[before:]]
    reported = [*found, *problems.messages[:before], *during]
    problems.messages.clear()
    return reported


def assert_accessible(page: Page) -> None:
    """Zero axe-core violations (WCAG 2.2 A/AA), nothing refused by the CSP, no script error
    and no failed request since the last check."""
    reported = accessibility_problems(page)
    assert not reported, f"{page.url}: {len(reported)} problem(s):\n" + "\n".join(reported)


def fit_problems(page: Page, width: int = PHONE["width"]) -> list[str]:
    """At this viewport width, whatever makes the page scroll sideways (a wide table may
    scroll inside its own container); the viewport stays at this width."""
    page.set_viewport_size({"width": width, "height": PHONE["height"]})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width <= width:
        return []
    wide = page.evaluate(_WIDE_ELEMENTS, width)
    return [f"{scroll_width} px wide at a {width} px viewport; too wide: {', '.join(wide)}"]


def assert_fits(page: Page, width: int = PHONE["width"]) -> None:
    """At this viewport width the page does not scroll sideways."""
    reported = fit_problems(page, width)
    assert not reported, f"{page.url}: " + "\n".join(reported)


# the innermost elements whose box or content (a long word, a URL) reaches past the right edge
_WIDE_ELEMENTS = """(width) => {
  const clips = (e) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(e).overflowX);
  const over = (e) => e.getBoundingClientRect().right > width + 1 ||
    (e.scrollWidth > e.clientWidth + 1 && !clips(e));
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    if (!over(e) || Array.from(e.children).some(over) || clips(e.parentElement)) continue;
    const r = e.getBoundingClientRect();
    const cls = typeof e.className === "string" ? e.className.trim().split(/ +/)[0] : "";
    const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (cls ? "." + cls : "");
    const text = (e.textContent || "").trim().slice(0, 60);
    out.push(`${name}: ${Math.round(r.width)} px box, ${e.scrollWidth} px content: ${text}`);
  }
  return out.slice(0, 8);
}"""


def assert_accessible_at_both_widths(page: Page) -> None:
    """The checks at desktop width, then at 360 px (axe again: reflow can hide a label or
    overlap targets), and back to desktop."""
    assert_accessible(page)
    assert_fits(page)
    assert_accessible(page)
    page.set_viewport_size(DESKTOP)


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("load")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url("**/login**")
