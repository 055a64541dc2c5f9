"""The trajectories read model has one definition, and the database agrees with it.

The upsert, the rebuild's COPY and the PostgreSQL append function all write `TRAJECTORIES`'s
columns; a column added to the table but not to the definition (or to the definition but not to
the function) would silently stop updating on one path. These tests fail first.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, inspect, text

from service.projections.trajectories import TRAJECTORIES


def test_the_table_has_exactly_the_definitions_columns(engine: Engine) -> None:
    columns = [c["name"] for c in inspect(engine).get_columns("trajectories")]
    assert sorted(columns) == sorted(TRAJECTORIES.columns)
    assert TRAJECTORIES.key in columns


def test_the_postgresql_append_function_writes_every_column_of_the_read_model(
    postgres_engine: Engine,
) -> None:
    with postgres_engine.connect() as conn:
        body = conn.execute(
            text("SELECT pg_get_functiondef('adviestraject_append'::regproc)")
        ).scalar_one()
    assert "INSERT INTO trajectories" in body, "the function no longer writes the read model"
    updated = set(re.findall(r"(\w+)\s*=\s*excluded\.(\w+)", body))
    assert {a for a, b in updated if a == b} == set(TRAJECTORIES.columns) - {TRAJECTORIES.key}
