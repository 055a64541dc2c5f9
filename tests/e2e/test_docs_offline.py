"""`/docs` and `/redoc` work offline: their pages load only our own `/static` copies of Swagger UI
and Redoc (vendored with licence and version), under a policy that names no other origin and
allows no inline script. With Debian's chromium present, a real browser renders both while
every request to another origin is refused."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.bootstrap import Container, bootstrap
from service.settings import Settings
from service.store.migrate import upgrade
from service.web.pages import STATIC_DIR
from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, chromium_present
from tests.browser.served import free_port
from tests.conftest import sqlite_url

LINKED = re.compile(r'(?:src|href|spec-url|data-openapi-url)="([^"]*)"')
OPENAPI = "/api/v1/openapi.json"


@pytest.fixture
def docs_container(tmp_path: Path) -> Iterator[Container]:
    """The docs need no data: SQLite only."""
    settings = Settings(
        database_url=sqlite_url(tmp_path / "docs.db"),
        key_file=tmp_path / "keys.kek",
        worker_status_dir=tmp_path / "worker",
    )
    container = bootstrap(settings)
    upgrade(container.engine)
    yield container
    container.close()


@pytest.fixture
def client(docs_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(docs_container)) as test_client:
        yield test_client


def links(html: str) -> list[str]:
    return LINKED.findall(html)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_page_loads_only_our_static_files(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    found = links(page.text)
    assert OPENAPI in found
    assert [url for url in found if url != OPENAPI and not url.startswith("/static/")] == []
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert "<script>" not in page.text  # no inline script: every <script> has a src
    assert len(re.findall(r"<script\b", page.text)) == len(re.findall(r"<script src=", page.text))
    for url in found:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert len(answer.content) > 100, url
    scripts = [u for u in found if u.split("?")[0].endswith(".js")]
    assert scripts
    for url in scripts:
        assert "javascript" in client.get(url).headers["content-type"], url


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_policy_names_no_other_origin_and_no_inline_script(
    client: TestClient, path: str
) -> None:
    policy = client.get(path).headers["content-security-policy"]
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert "http" not in policy  # no CDN, no fonts service
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    if path == "/docs":
        assert directives["style-src"] == "'self'"  # Swagger UI needs no inline style
    else:
        # Redoc writes its styles from script (styled-components): on this page only
        assert directives["style-src"] == "'self' 'unsafe-inline'"
        assert directives["worker-src"] == "blob:"


def test_the_vendored_copies_carry_their_licence_and_version() -> None:
    for folder, version in (("swagger-ui", "swagger-ui-dist 5.35.0"), ("redoc", "redoc 2.5.4")):
        directory = STATIC_DIR / "vendor" / folder
        assert (directory / "LICENSE").stat().st_size > 500
        note = (directory / "VERSION.md").read_text(encoding="utf-8")
        assert note.startswith(f"# {version}\n")
        assert "sha256 of the tarball: " in note
    assert (STATIC_DIR / "vendor" / "swagger-ui" / "NOTICE").is_file()


@pytest.fixture
def served_app(docs_container: Container) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(docs_container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
@pytest.mark.skipif(not chromium_present(), reason=f"needs Debian's chromium at {CHROMIUM}")
def test_a_browser_without_internet_renders_both_docs_pages(
    served_app: str, tmp_path: Path
) -> None:
    from playwright.sync_api import Route, sync_playwright  # noqa: PLC0415 (browser tests only)

    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(served_app):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", offline)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            page.goto(f"{served_app}/docs")
            page.wait_for_selector(".opblock-tag", timeout=15_000)
            page.click(".opblock-summary >> nth=0")  # GET /health: try it out
            page.click("button.try-out__btn")
            page.click("button.execute")
            status = page.wait_for_selector(".live-responses-table .response .response-col_status")
            assert status is not None
            assert status.inner_text().strip() == "200"
            assert errors == []
            assert elsewhere == []

            page.goto(f"{served_app}/redoc")
            page.wait_for_selector("h1", timeout=15_000)
            assert "adviestraject" in page.inner_text("h1")
            page.fill("input[placeholder='Search...']", "health")
            results = page.locator("[data-role='search:results']")
            results.get_by_text("Health", exact=True).first.wait_for(timeout=10_000)
            # Redoc's own "API docs by Redocly" logo is the one thing it asks of another origin:
            # the policy refuses it, and Redoc leaves the image out
            assert [e for e in errors if "cdn.redoc.ly" not in e] == []
            assert [u for u in elsewhere if "cdn.redoc.ly" not in u] == []
            page.screenshot(path=str(tmp_path / "redoc.png"))
        finally:
            browser.close()
