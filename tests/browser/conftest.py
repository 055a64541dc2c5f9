"""Fixtures of the browser tests: Debian's chromium, driven by Playwright, against the real
service (tests/browser/served.py: migrate and seed-demo, then `serve` with its embedded worker
as a subprocess on a fresh SQLite file and a free port). Server and browser are shared by the
package's tests and stopped after its last one, not held while the rest of the suite runs.

Chromium must be Debian's (/usr/bin/chromium, or ADVIESTRAJECT_CHROMIUM): Playwright's own
browser download cannot work here. Without it the tests are skipped with that reason, except
under CI=true, where a missing chromium fails them (.ci/run installs it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, chromium_present, forget, watch
from tests.browser.served import Served, ServiceError, serve


def chromium_or_skip() -> None:
    if chromium_present():
        return
    reason = (
        f"browser tests need Debian's chromium at {CHROMIUM} "
        "(apt-get install chromium; .ci/run installs it)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The service as `make run` starts it, with the demo school, for the browser tests."""
    chromium_or_skip()
    try:
        with serve(tmp_path_factory.mktemp("served")) as running:
            yield running
    except ServiceError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    chromium_or_skip()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def new_page(browser: Browser, served: Served) -> Iterator[Callable[[], Page]]:
    """Fresh browser contexts (no cookies shared) at desktop width, in Dutch: one per user."""
    pages: list[Page] = []

    def make() -> Page:
        context = browser.new_context(viewport=DESKTOP, locale="nl-NL", base_url=served.base_url)
        context.set_default_timeout(10_000)
        opened = watch(context.new_page())
        pages.append(opened)
        return opened

    yield make
    for opened in pages:
        forget(opened)
        opened.context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()
