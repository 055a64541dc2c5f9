"""The login throttle on both databases: attempts are counted atomically before any password is
checked, per endpoint, per account and per address."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine, select

from service.accounts.throttle import Limits, LoginThrottle
from service.store.schema import login_attempts
from tests.conftest import Clock


def burst(throttle: LoginThrottle, count: int, account: str, address: str) -> list[int]:
    """`count` threads asking at the same moment; their answers (0: admitted)."""
    start = threading.Barrier(count)
    waits: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        start.wait()
        wait = throttle.admit("web", account, address)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return waits


def test_a_parallel_burst_on_one_account_is_admitted_exactly_up_to_the_limit(
    engine: Engine, clock: Clock
) -> None:
    throttle = LoginThrottle(engine, clock)
    waits = burst(throttle, 20, "juf@school.nl", "198.51.100.7")
    assert waits.count(0) == 5
    assert all(0 < wait <= 15 * 60 + 1 for wait in waits if wait)
    # refused attempts gave their address slot back: only the five admitted ones count there
    other = [throttle.admit("web", f"gok{n}@school.nl", "198.51.100.7") for n in range(30)]
    assert other.count(0) == 25


def test_a_parallel_burst_from_one_address_is_admitted_exactly_up_to_its_limit(
    engine: Engine, clock: Clock
) -> None:
    throttle = LoginThrottle(engine, clock, Limits(per_account=100, per_address=7))
    waits = burst(throttle, 20, "juf@school.nl", "198.51.100.7")
    assert waits.count(0) == 7


def test_the_web_login_and_the_token_endpoint_count_apart(engine: Engine, clock: Clock) -> None:
    throttle = LoginThrottle(engine, clock)
    for _ in range(5):
        assert throttle.admit("oauth", "juf@school.nl", "198.51.100.7") == 0
        throttle.settle("oauth", "juf@school.nl", "198.51.100.7", succeeded=False)
    assert throttle.admit("oauth", "juf@school.nl", "198.51.100.7") > 0
    assert throttle.admit("web", "juf@school.nl", "198.51.100.7") == 0
    with engine.connect() as conn:
        endpoints = conn.execute(select(login_attempts.c.endpoint)).scalars().all()
    assert endpoints == ["oauth"] * 5


def test_a_success_starts_the_account_afresh_and_the_window_ends(
    engine: Engine, clock: Clock
) -> None:
    throttle = LoginThrottle(engine, clock)
    for _ in range(4):
        assert throttle.admit("web", "juf@school.nl", "a") == 0
    throttle.settle("web", "juf@school.nl", "a", succeeded=True)
    for _ in range(5):
        assert throttle.admit("web", "juf@school.nl", "a") == 0
    wait = throttle.admit("web", "juf@school.nl", "a")
    assert 0 < wait <= 15 * 60 + 1
    clock.now += timedelta(seconds=wait)
    assert throttle.admit("web", "juf@school.nl", "a") == 0


def test_pruning_forgets_ended_windows_and_old_attempts(engine: Engine, clock: Clock) -> None:
    throttle = LoginThrottle(engine, clock)
    throttle.admit("web", "juf@school.nl", "a")
    throttle.settle("web", "juf@school.nl", "a", succeeded=False)
    clock.now += timedelta(days=91)
    assert throttle.prune() == 1
    for _ in range(5):
        assert throttle.admit("web", "juf@school.nl", "a") == 0
