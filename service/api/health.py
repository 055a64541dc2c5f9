"""Liveness with the database: 200 when a query and the schema revision can be read, else 503."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import ContainerDep
from service.api.problems import PROBLEM_JSON, problem
from service.store.migrate import current_revision

router = APIRouter(tags=["health"])
log = logging.getLogger("adviestraject.health")


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"description": "The database is unreachable", "content": {PROBLEM_JSON: {}}}},
)
def health(request: Request, container: ContainerDep) -> Health | JSONResponse:
    try:
        revision = current_revision(container.engine)
    except SQLAlchemyError:
        log.exception("health check: database unreachable")
        return problem(request, 503, "database_unavailable", "De database is niet bereikbaar")
    return Health(status="ok", database=container.engine.dialect.name, schema_revision=revision)
