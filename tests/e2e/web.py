"""What the website's tests share: a browser logged in through the real login form, the hidden
fields (CSRF token, version) a page's form carries, and a pupil page's action form sent as a
person sends it.

Logging in:
- `browse(container, email)`: a new browser, logged in as `email` (None: a visitor);
- `log_in(client, email)`: log an open browser in as `email`, asserting it worked;
- `try_log_in(client, email, password)`: send the login form and return the answer unchecked,
  for the tests of refused logins;
- `start_session(client, email)`: a session as the login form starts it, without the form (the
  password hash costs time; the form itself is tested in test_web_login.py).

Reading: `table_rows(page)`, the cells of a page's table as text, row by row.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Mapping

import httpx2
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.deps import SESSION_COOKIE
from service.bootstrap import Container

PASSWORD = "een-lang-wachtwoord"


def hidden(html: str, name: str) -> str:
    """The value of the page's first hidden field `name`; the field must be there and not empty."""
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name!r} with a value in: {html}"
    return found.group(1)


def csrf(html: str) -> str:
    """The CSRF token of the page's (first) form."""
    return hidden(html, "csrf_token")


def try_log_in(
    client: TestClient, email: str, password: str = PASSWORD, *, keep_cookies: bool = False
) -> httpx2.Response:
    """Send the login form as a browser does: open `/login` for its token, then post it with
    `email` and `password`. The answer is returned unchecked. The client's cookies are cleared
    first (a live session would send `/login` on to the start page), unless `keep_cookies`."""
    if not keep_cookies:
        client.cookies.clear()
    form = client.get("/login")
    data = {"email": email, "password": password, "csrf_token": csrf(form.text)}
    return client.post("/login", data=data)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    """Log `client` in as `email` through the login form (a 303 to the start page)."""
    answer = try_log_in(client, email, password)
    assert answer.status_code == 303, answer.text
    return client


def browse(container: Container, email: str | None) -> TestClient:
    """A new browser on the app (redirects not followed), logged in as `email` with
    `PASSWORD`; None: a visitor who has not logged in."""
    client = TestClient(create_app(container), follow_redirects=False)
    return client if email is None else log_in(client, email)


def start_session(client: TestClient, email: str) -> None:
    """Give `client` a session of `email` as the login form starts it, without the form."""
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    who = next(a.principal for a in container.accounts.accounts() if a.principal.email == email)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, container.sessions.start(who, "testclient").cookie)


def submit(
    client: TestClient, pupil_id: uuid.UUID, key: str, data: Mapping[str, object]
) -> httpx2.Response:
    """Open the pupil page's action form `key` as a person would, then send it with `data`, its
    CSRF token and version."""
    form = client.get(f"/leerlingen/{pupil_id}/acties/{key}")
    assert form.status_code == 200, form.text
    sent = {"csrf_token": csrf(form.text), "version": hidden(form.text, "version")}
    return client.post(f"/leerlingen/{pupil_id}/acties/{key}", data={**sent, **data})


def table_rows(page: str) -> list[tuple[str, ...]]:
    """The cells of the page's (first) table body as text, row by row."""
    body = page.split('<tbody class="utrecht-table__body">', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r'<td class="utrecht-table__cell" data-label="[^"]*">(.*?)</td>', row)
        if cells:
            rows.append(tuple(html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells))
    return rows
