"""Schemathesis against the live app's own OpenAPI: generated requests, as a teacher and as
directie, on a seeded demo school. No server error, and every response (status, content type,
headers, body) matches the schema; at least 1,000 requests.

Each generated request is sent as generated (mostly unknown ids: the 404 paths) and again with
its path pointed at a real demo pupil or the demo school (the paths that reach the rules).
`positive_data_acceptance` is left out on purpose: the rules refuse some schema-valid requests
(a date outside the school year, an advice in the wrong state) with a documented 422.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.api.app import create_app
from service.bootstrap import bootstrap
from service.schools.demo import (
    DEMO_DIRECTOR,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    demo_pupil_ids,
    seed_demo,
    seed_demo_users,
)
from service.settings import Settings
from service.store.migrate import upgrade
from tests.conftest import empty_database

EXAMPLES = 60  # per operation; x 2 roles, x 2 paths where the path has an id


@pytest.mark.parametrize(
    ("backend", "examples", "at_least"),
    [("sqlite", EXAMPLES, 1000), pytest.param("postgres", 12, 500, marks=pytest.mark.postgres)],
)
def test_generated_requests_get_schema_conforming_answers_and_no_server_error(
    backend: str,
    examples: int,
    at_least: int,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """The full run on SQLite (the issue's figure); a shorter one on PostgreSQL, whose text and
    integer types refuse what SQLite stores (a NUL, a 64-bit overflow) — server errors there."""
    url = empty_database(backend, request, tmp_path)
    container = bootstrap(Settings(database_url=url, mail_dir=tmp_path / "mail"))
    upgrade(container.engine)
    seed_demo(container.register, container.trajectories, datetime.now(UTC).date())
    seed_demo_users(container.accounts)
    tokens = [
        container.accounts.issue_token(u, "fuzz", 1).token for u in (DEMO_TEACHER, DEMO_DIRECTOR)
    ]
    pupils = itertools.cycle([str(pupil) for pupil in demo_pupil_ids()])
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(container))
    sent: list[int] = []

    def send(case: Any) -> None:
        for token in tokens:
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                excluded_checks=[positive_data_acceptance],
            )
            sent.append(response.status_code)

    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 6
    for operation in operations:

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            send(case)
            real = dict(case.path_parameters or {})
            if "pupil_id" in real or "school_id" in real:
                if "pupil_id" in real:
                    real["pupil_id"] = next(pupils)
                if "school_id" in real:
                    real["school_id"] = DEMO_SCHOOL.id
                case.path_parameters = real
                send(case)

        exercise()
    container.close()
    print(f"schemathesis: {len(sent)} requests, statuses {sorted(set(sent))}")
    assert len(sent) >= at_least
    assert not [status for status in sent if status >= 500]
    assert {200, 403, 404, 422} <= set(sent), "the fuzz reached the rules, not only 404s"
