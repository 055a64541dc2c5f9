"""A Dutch page for an address that does not exist, for a person in a browser.

The API's handlers answer every unknown address with problem+json (RFC 9457). A browser that
asks for a page (its Accept names text/html) and is not under `/api/` gets this page instead:
the same 404, in Dutch, with the header of a signed-in person when there is a session and a link
to the start page. Clients that do not accept HTML, and everything under `/api/`, keep
problem+json. `service.api.app` hands `html_not_found` to the handlers (`service.api.problems`
does not import the web edge).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from service.web.pages import page, session_of

HEADING = "Pagina niet gevonden"
MESSAGE = (
    "Deze pagina bestaat niet. Misschien is de link oud of verkeerd overgenomen. Kies hieronder "
    "de startpagina, of gebruik het menu."
)


def wants_page(request: Request) -> bool:
    """A browser asking for a page: Accept names text/html, and the address is not the API's."""
    path = request.url.path
    api = path == "/api" or path.startswith("/api/")
    return not api and "text/html" in request.headers.get("accept", "")


def html_not_found(request: Request) -> HTMLResponse:
    """The Dutch 404 page; with the person's header when the request carries a live session."""
    container = getattr(request.app.state, "container", None)
    session = None
    if container is not None:
        try:
            session = session_of(request, container)
        except SQLAlchemyError:  # the page still says "not found" when the database is away
            session = None
    context: dict[str, Any] = {"heading": HEADING, "message": MESSAGE, "kind": "warning"}
    if session is not None:
        context |= {"who": session.principal, "csrf_token": session.csrf_token}
    return page("message.html", 404, **context)
