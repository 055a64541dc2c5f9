"""Under CI=true a PostgreSQL test without a server fails instead of skipping silently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
TARGET = (
    "tests/integration/test_append_only.py"
    "::test_truncating_the_events_table_is_rejected_on_postgresql"
)


def run_target(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ADVIESTRAJECT_TEST_POSTGRES_URL"}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_without_ci_a_missing_postgresql_is_a_visible_skip() -> None:
    result = run_target(None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "ADVIESTRAJECT_TEST_POSTGRES_URL" in result.stdout


def test_under_ci_a_missing_postgresql_fails_the_run() -> None:
    result = run_target("true")
    assert result.returncode != 0
    assert "CI must test PostgreSQL" in result.stdout
