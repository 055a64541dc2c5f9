"""The chain's integrity for every page: a broken chain shows as broken on each page a signed-in
person opens (base.html), not only on the pages that show the status line themselves.

A plain ASGI middleware binds the app's engine to the request's context; the template global
`chain_status()` then reads the stored status with one indexed SELECT (`service.audit.integrity`)
when a page is rendered. Outside a request (or when the database does not answer) it gives None
and the page is shown without it: the status line never makes a page fail.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit.integrity import IntegrityStatus, status

log = logging.getLogger("adviestraject.integrity")
_engine: ContextVar[Engine | None] = ContextVar("adviestraject_chain_engine", default=None)


class ChainStatusMiddleware:
    """Binds `engine` for `chain_status()` during each HTTP request."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _engine.set(self.engine)
        try:
            await self.app(scope, receive, send)
        finally:
            _engine.reset(token)


def chain_status() -> IntegrityStatus | None:
    """The stored status for the request's database; None outside a request or on an error."""
    engine = _engine.get()
    if engine is None:
        return None
    try:
        return status(engine)
    except SQLAlchemyError:
        log.warning("could not read the chain's integrity status", exc_info=True)
        return None
