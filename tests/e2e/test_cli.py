"""The command line: migrate and seed-demo set a database up, repeatably; failures exit 2."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.bootstrap import bootstrap
from service.cli import app
from service.schools.demo import DEMO_SCHOOL
from service.settings import Settings
from service.store.migrate import head_revision
from service.store.schema import events, pupils

runner = CliRunner()


def test_migrate_then_seed_demo_twice_adds_the_demo_school_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    migrated = runner.invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert head_revision() in migrated.output

    first = runner.invoke(app, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "added" in first.output

    container = bootstrap(Settings(database_url=database_url))
    try:
        with container.engine.connect() as conn:
            count_events = conn.execute(select(func.count()).select_from(events)).scalar_one()
            count_pupils = conn.execute(select(func.count()).select_from(pupils)).scalar_one()
        assert count_pupils == 8
        assert count_events > count_pupils  # every pupil enrolled, some with an advice

        second = runner.invoke(app, ["seed-demo"])
        assert second.exit_code == 0, second.output
        assert "0 pupils added, 0 events appended" in second.output
        with container.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(events)).scalar_one() == (
                count_events
            )
        assert [s.name for s in container.register.schools()] == [DEMO_SCHOOL.name]
    finally:
        container.close()


def test_seed_demo_on_an_unmigrated_database_says_so_and_exits_2(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    result = runner.invoke(app, ["seed-demo"])
    assert result.exit_code == 2
    assert "run 'adviestraject migrate' first" in result.output


def test_an_unsupported_database_url_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", "mysql://root@localhost/x")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "unsupported database" in result.output


def test_an_unreachable_database_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ADVIESTRAJECT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert result.output.startswith("adviestraject: database error")
    assert result.output.strip().count("\n") == 0
