"""Moving a talk by drag and drop in the week calendar, in Chromium against the real service.

A test provider delivers a toetsadvies above Daan's voorlopig advies (vmbo-gt/havo → havo/vwo)
through the chain; the worker opens the heroverweging and the planner proposes a talk in the
demo teacher's afternoons of 15-24 March. The teacher opens that week and drags the talk's block:
onto a Monday morning (she published no time then) the refusal is announced in Dutch in the
page's live region and the talk stays where it was; onto a free quarter of her published time
the week shows the talk at the new time, and so does the talk's own page.

Daan, not Noor: tests/browser/test_talks.py uses Noor in the same served app; this test does not
depend on the order the tests run in (it finds free time around whatever else is planned).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import create_engine

from service.scheduling import views
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
from tests.browser.helpers import assert_accessible, log_in
from tests.browser.served import Served

pytestmark = pytest.mark.browser

DAAN = str(demo_pupil_id("Daan", "Jansen"))
SLOT = timedelta(minutes=15)  # the week's rows when every talk starts on a quarter


def planned_talk(served: Served, timeout: float = 60) -> tuple[str, datetime]:
    """Daan's talk once the worker planned it: its id and its start (Amsterdam time)."""
    engine = create_engine(served.env["ADVIESTRAJECT_DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while True:
            for row in views.for_pupil(engine, DAAN):
                if row.status.value == "proposed" and row.start is not None:
                    return row.talk_id, row.start.astimezone(AMSTERDAM)
            if time.monotonic() > deadline:
                raise AssertionError(f"no talk planned for Daan after {timeout} s")
            time.sleep(0.3)
    finally:
        engine.dispose()


def week_of(start: datetime) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def daans_block(page: Page) -> Locator:
    return page.locator(".g-block[data-move]").filter(has_text="Daan Jansen")


def free_time_elsewhere(page: Page, now: datetime, minutes: int) -> datetime:
    """A start in the teacher's published time (a striped cell) on another day than the talk,
    with every quarter the talk would take free too (no other talk there)."""
    free = {
        datetime.fromisoformat(value).replace(tzinfo=AMSTERDAM)
        for value in page.locator("td.g-grid__slot--free[data-start]").evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-start'))"
        )
    }
    quarters = range(0, minutes, 15)
    for start in sorted(free):
        if start.date() == now.date() or start.minute % 15:
            continue
        if all(start + timedelta(minutes=m) in free for m in quarters):
            return start
    raise AssertionError(f"no free {minutes} minutes in the teacher's week: {sorted(free)}")


def drag(page: Page, to: datetime) -> None:
    """Drag Daan's block with the mouse onto the week's cell of this start."""
    box = daans_block(page).bounding_box()
    assert box is not None
    # below the name's link (not draggable itself), on the block
    daans_block(page).drag_to(
        page.locator(f'td[data-start="{stamp(to)}"]'),
        source_position={"x": 8, "y": box["height"] - 6},
    )


def confirm(page: Page, reason: str) -> None:
    """The dialog a drop opens: it says where to; an empty reason is asked for; then sent."""
    dialog = page.get_by_role("dialog", name="Gesprek verzetten?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Het gesprek met Daan Jansen naar ")
    expect(page.get_by_label("Reden")).to_be_focused()
    assert_accessible(page)
    dialog.get_by_role("button", name="Verzetten").click()
    expect(dialog).to_contain_text("Schrijf waarom het gesprek verzet wordt.")
    expect(dialog).to_be_visible()
    page.get_by_label("Reden").fill(reason)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the keyboard sends it: "Verzetten" is next
    expect(dialog).to_be_hidden()


def the_talk_page_says(page: Page, talk_id: str, at: datetime) -> None:
    page.goto(f"/gesprekken/{talk_id}")
    main = page.get_by_role("main")
    expect(main).to_contain_text(at.strftime("%d-%m-%Y"))
    expect(main).to_contain_text(at.strftime("%H:%M"))


def test_the_teacher_drags_a_talk_to_free_time_and_is_refused_outside_her_time(
    served: Served, page: Page
) -> None:
    provider = mandated_provider(served, DEMO_SCHOOL.brin, DEMO_EDU_TO, DEMO_OIN)
    assert provider.deliver(DAAN, "havo/vwo") == 202
    talk_id, start = planned_talk(served)
    week = f"/gesprekken?week={week_of(start)}"

    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    page.goto(week)
    block = daans_block(page)
    expect(block).to_contain_text(start.strftime("%H:%M"))
    times = re.search(r"(\d\d):(\d\d)\D+(\d\d):(\d\d)", block.inner_text())
    assert times is not None
    h1, m1, h2, m2 = map(int, times.groups())
    minutes = (h2 * 60 + m2) - (h1 * 60 + m1)
    assert_accessible(page)

    # a Monday morning of that week: the teacher published no time then
    monday = (start - timedelta(days=start.weekday())).replace(hour=10, minute=0)
    assert page.locator(f'td[data-start="{stamp(monday)}"]').count() == 1
    drag(page, monday)
    confirm(page, "Ouders kunnen dan niet.")
    answer = page.locator("#g-answer[role=status][aria-live=polite]")
    expect(answer).to_contain_text("niet beschikbaar", timeout=15_000)
    expect(answer).to_contain_text("maandag")
    expect(page).to_have_url(re.compile(re.escape(week) + "$"))  # no navigation
    page.reload()
    expect(daans_block(page)).to_contain_text(start.strftime("%H:%M"))
    the_talk_page_says(page, talk_id, start)

    # a free quarter of her published afternoons, on another day
    page.goto(week)
    to = free_time_elsewhere(page, start, minutes)
    drag(page, to)
    confirm(page, "De juf heeft dan meer tijd.")
    page.wait_for_url(re.compile(rf"verzet={talk_id}"))
    main = page.get_by_role("main")
    expect(main.locator(".utrecht-alert")).to_contain_text(
        re.compile(rf"Het gesprek met Daan Jansen staat nu op \w+ {to:%d-%m-%Y} van {to:%H:%M}")
    )
    expect(daans_block(page)).to_contain_text(to.strftime("%H:%M"))
    assert_accessible(page)
    the_talk_page_says(page, talk_id, to)
