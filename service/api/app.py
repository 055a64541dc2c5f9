"""The FastAPI application factory: routers, error handlers and the request-id middleware."""

from __future__ import annotations

import copy
import ctypes
import logging
import multiprocessing
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import logs
from service.accounts import me_api, token_api, users_api
from service.advice import api as advice_api
from service.advice import (
    enrolment_api,
    history_api,
    overview_api,
    parents_api,
    reconsideration_api,
    transfer_test_api,
)
from service.api import docs, headers, health, problems
from service.api.limits import BodyLimitMiddleware, BodyLimits
from service.api.nul_guard import NulGuardMiddleware
from service.bootstrap import Container, bootstrap
from service.gcpause import freeze_what_lives_now
from service.intake import api as intake_api
from service.intake import report_api
from service.intake import standard as chain_standard
from service.logs import REQUEST_ID
from service.settings import Settings
from service.web import accesslog as web_accesslog
from service.web import assets, classes, deliveries, home, login, pupil
from service.web import availability as web_availability
from service.web import beheer as web_beheer
from service.web import calendar as web_calendar
from service.web import commands as web_commands
from service.web import dossier as web_dossier
from service.web import grid as web_grid
from service.web import invitations as web_invitations
from service.web import parents as web_parents
from service.web import reports as web_reports
from service.web import rollover as web_rollover
from service.web import settings as web_settings
from service.web import talks as web_talks
from service.web import uploads as web_uploads
from service.web import worklist as web_worklist
from service.web.chain_status import ChainStatusMiddleware
from service.web.not_found import html_not_found, wants_page

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestIdMiddleware:
    """Every request gets an id (the caller's `X-Request-ID` if it is sane, else a new one),
    in `request.state.request_id` and in the response's `X-Request-ID` header.

    Plain ASGI, not `@app.middleware("http")`: that wrapper runs each request through an extra
    task and memory stream, a noticeable share of a request that does little else.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                if scope["method"] in _WRITES and 200 <= message["status"] < 300:
                    # a write went through: storage works again, whatever failed before
                    problems.record_storage_success(scope["app"].state)
            await send(message)

        token = REQUEST_ID.set(request_id)  # every log line of this request carries it
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        container.close()

    app = FastAPI(
        title="adviestraject",
        summary="Het schooladviestraject van groep 8",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # /docs and /redoc from our own static files: service/api/docs.py
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.html_not_found, app.state.wants_page = html_not_found, wants_page  # Dutch 404 page
    problems.install(app)

    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(ChainStatusMiddleware, engine=container.engine)  # base.html's chain alert
    settings = container.settings
    limits = BodyLimits(
        settings.max_body_bytes, settings.max_chain_body_bytes, settings.body_timeout
    )
    app.add_middleware(BodyLimitMiddleware, limits=limits)  # before anything reads the body
    app.add_middleware(RequestIdMiddleware)  # added last: runs first, so the guard has an id
    headers.install(app, production=settings.environment == "production")  # around it all

    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(advice_api.router)
    app.include_router(overview_api.router)
    app.include_router(enrolment_api.router)
    app.include_router(history_api.router)
    app.include_router(transfer_test_api.router)
    app.include_router(reconsideration_api.router)
    app.include_router(parents_api.router)
    app.include_router(token_api.router)
    app.include_router(intake_api.router)
    app.include_router(report_api.router)
    app.include_router(users_api.router)
    app.include_router(me_api.router)
    app.include_router(login.router)
    app.include_router(home.router)
    app.include_router(classes.router)
    app.include_router(pupil.router)
    app.include_router(web_dossier.router)
    app.include_router(web_reports.router)
    app.mount("/static", assets.static_files(), name="static")
    app.include_router(deliveries.router)
    app.include_router(web_beheer.router)
    app.include_router(web_invitations.router)
    app.include_router(web_parents.router)
    app.include_router(web_worklist.router)
    app.include_router(web_uploads.router)
    app.include_router(web_rollover.router)
    app.include_router(web_commands.router)
    app.include_router(web_grid.router)
    app.include_router(web_settings.router)
    app.include_router(web_availability.router)
    app.include_router(web_calendar.router)
    app.include_router(web_talks.router)
    app.include_router(web_accesslog.router)
    _document_problem(app)
    return app


def _document_problem(app: FastAPI) -> None:
    """Add the RFC 9457 Problem schema that every error response refers to."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = {
            "type": "object",
            "required": ["type", "title", "status", "code"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "request_id": {"type": "string"},
                "current_version": {"type": "integer"},
                "error": {"type": "string", "description": "The token endpoint's RFC 6749 code"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
        standard = copy.deepcopy(chain_standard.components()["schemas"])
        if clash := standard.keys() & components["schemas"].keys():
            raise RuntimeError(f"OpenAPI schema names collide with the standard's: {clash}")
        components["schemas"].update(standard)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn (`--factory`): settings from the environment."""
    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    _exit_with_the_master()
    app = create_app(bootstrap(settings))
    freeze_what_lives_now()
    return app


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _exit_with_the_master() -> None:
    """In a worker process of `serve --workers N`: be sent SIGTERM when the master dies.

    Without this, a master killed with -9 leaves its workers serving on the port, and a new
    `serve` cannot start. A process not started by the master (one worker, tests) is left alone.
    """
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        logging.getLogger("adviestraject.api").warning("cannot follow the master's death")
        return
    if os.getppid() != parent.pid:  # the master died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
