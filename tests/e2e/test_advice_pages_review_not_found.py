"""An unknown address asked for by a browser is a Dutch page; the API keeps problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.e2e import review_world
from tests.e2e.review_world import TEACHER, sign_in

database_url, school, browser = review_world.database_url, review_world.school, review_world.browser

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
UNKNOWN = ("/bestaatniet", "/gesprekken/abc", "/leerlingen/abc/x/y")


def test_a_browser_gets_a_dutch_page_for_an_unknown_address(browser: TestClient) -> None:
    for signed_in in (False, True):
        if signed_in:  # then with the person's header and menu
            sign_in(browser, TEACHER)
        for path in UNKNOWN:
            answer = browser.get(path, headers=HTML)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"].startswith("text/html"), path
            assert "Pagina niet gevonden" in answer.text
            assert 'href="/"' in answer.text
            assert ("Juf Anna" in answer.text) is signed_in


def test_the_api_and_clients_without_html_keep_problem_json(browser: TestClient) -> None:
    for path, headers in (
        ("/api/v1/bestaatniet", HTML),  # the API's addresses: always problem+json
        ("/api/bestaatniet", HTML),
        ("/bestaatniet", {"accept": "application/json"}),  # a client that does not ask for HTML
        ("/bestaatniet", {}),
    ):
        answer = browser.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path
        assert answer.json()["code"] == "not_found"
