"""/docs (Swagger UI) and /redoc render the API offline, in chromium: every request the pages
make goes to the service itself (anything else is cut off here and fails the test), and the
operations show. The vendored documentation tools are not held to our axe-core rule (Swagger UI
has colour-contrast findings of its own)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.helpers import DESKTOP
from tests.browser.served import Served

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "title", "operation"),
    [
        ("/docs", "adviestraject – Swagger UI", "/api/v1/pupils/{pupil_id}/provisional-advice"),
        ("/redoc", "adviestraject – ReDoc", "Record the voorlopig schooladvies"),
    ],
    ids=["docs", "redoc"],
)
def test_the_api_documentation_renders_without_the_internet(
    browser: Browser, served: Served, path: str, title: str, operation: str
) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=served.base_url)
    outside: list[str] = []

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(served.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_service)
    try:
        page = context.new_page()
        page.goto(path)
        expect(page).to_have_title(title)
        shown = (
            page.get_by_text(operation)
            if path == "/docs"
            else page.get_by_role("heading", name=operation)
        )
        expect(shown.first).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        assert outside == [], f"{path} reached outside the service: {outside}"
    finally:
        context.close()
