"""The races of issue 12's fault probes, short, against `serve --workers 2` in real processes on
both databases (the full probes, with kills and outages, are `python -m bench.faults`).

- One bulk enrolment with one Idempotency-Key sent 6x at the same moment: every sender is
  answered without a 5xx, all with the same pupils, and the class is in the register and the
  log once (PostgreSQL answered 5 of 6 with 500 on `pupils_pkey` before enrolment owned its
  atomicity).
- The first free-text command of a fresh pupil (its sealing key is made then) raced 30x (60x in
  `bench.faults`, on its private cluster: here the shared test server's 100 connections are
  shared with other tests, and 60 requests at once open up to 60): no 5xx, and every
  acknowledged command is stored exactly once, found back by its request id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.faults.infra import Cleanup
from bench.faults.probes import Env, Options, race_bulk, race_first_key


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Env]:
    """The demo school, an IB account with a token and `serve --workers 2` on loopback."""
    cleanup = Cleanup()
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    try:
        env = Env(backend, tmp_path, cleanup, Options(clients=4), url=database_url, in_process=True)
        env.ensure_server()
        yield env
    finally:
        cleanup.run()


def test_racing_senders_of_one_bulk_key_and_of_a_first_free_text_get_no_5xx_and_store_once(
    served: Env,
) -> None:
    bulk = race_bulk(served, rounds=1, senders=6, size=10)
    first = race_first_key(served, pupils_n=1, senders=30)

    assert bulk.failures == [], bulk.figures
    assert bulk.figures["register"] == "10/10"
    assert bulk.figures["enrolled_events"] == "10/10"
    assert bulk.figures["pupil_sets"] == "1"
    assert first.failures == [], first.figures
    assert first.figures["requests"] == 30
    assert first.figures["lost"] == first.figures["doubled"] == 0
    assert first.figures["acked"] >= 1
