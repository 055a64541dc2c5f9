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
from tests.conftest import sqlite_url

EXAMPLES = 60  # per operation; x 2 roles, x 2 paths where the path has an id


def test_generated_requests_get_schema_conforming_answers_and_no_server_error(
    tmp_path: Path,
) -> None:
    container = bootstrap(
        Settings(database_url=sqlite_url(tmp_path / "fuzz.db"), mail_dir=tmp_path / "mail")
    )
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
            max_examples=EXAMPLES,
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
    assert len(sent) >= 1000
    assert not [status for status in sent if status >= 500]
    assert {200, 403, 404, 422} <= set(sent), "the fuzz reached the rules, not only 404s"
