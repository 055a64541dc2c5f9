"""Every read model can be dropped and rebuilt from the log, and comes back the same."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Table, select

from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container
from service.projections.compliance import ComplianceProjection
from service.projections.rebuild import rebuild
from service.projections.runner import catch_up
from service.store.schema import late_actions, trajectories
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import GiveProvisionalAdvice, ReceiveTestResult
from workflows.scale import SchoolAdvice, TestAdvice

CTX = CommandContext(actor=Actor("t", "leerkracht"))


def rows(container: Container, table: Table) -> list[dict[str, Any]]:
    with container.engine.connect() as conn:
        key = next(iter(table.primary_key.columns))
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(key))]


def a_school_year(container: Container, clock: Clock) -> None:
    """Twelve pupils: some advised on time, some late, results equal, higher and lower."""
    results = [TestAdvice.HAVO_VWO, TestAdvice.VWO, TestAdvice.VMBO_GLTL_HAVO]
    for n in range(12):
        pupil = enrolled_pupil(container)
        clock.now = clock.now.replace(month=1 if n % 4 else 2, day=20 if n % 4 else 3)
        container.trajectories.execute(
            pupil,
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO_TM_VWO, given_on=clock.now.date()),
            CTX,
        )
        if n % 3:
            clock.now = clock.now.replace(month=3, day=11)
            container.trajectories.execute(
                pupil,
                ReceiveTestResult(
                    provider="IEP",
                    delivery_id=f"d{n}",
                    test_advice=results[n % 3],
                    received_on=date(2026, 3, 11),
                ),
                CTX,
            )


def test_the_rebuilt_trajectories_equal_the_live_ones(container: Container, clock: Clock) -> None:
    a_school_year(container, clock)
    live = rows(container, trajectories)
    assert len(live) == 12
    assert rebuild(container.engine, "trajectories") == 12
    assert rows(container, trajectories) == live


def test_the_compliance_view_is_caught_up_and_rebuilt_the_same(
    container: Container, clock: Clock
) -> None:
    a_school_year(container, clock)
    projection = ComplianceProjection()
    handled = catch_up(container.engine, projection, page=7)
    assert handled == len(container.store.read_all(limit=10_000))
    live = rows(container, late_actions)
    assert {r["event_type"] for r in live} == {"provisional_advice_given"}
    assert len(live) == 3  # the pupils advised on 3 February
    assert catch_up(container.engine, projection) == 0, "nothing new, nothing done"
    rebuild(container.engine, "compliance")
    assert rows(container, late_actions) == live
