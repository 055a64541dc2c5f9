"""The worker's two loops: a test provider that keeps the outbox waiting does not hold up the
results. Here the provider's chain API takes a request and does not answer until the test has
seen the delivered result become a heroverweging (a single loop would never get there)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from service.bootstrap import Container
from service.store.schema import outbox
from service.worker import work
from tests.conftest import Clock
from tests.e2e.intake import EDU_TO, OIN, SCHOOL, pupil_with_advice
from tests.e2e.test_result_intake import delivery
from workflows.scale import SchoolAdvice

CODES = {
    "vestigingscode": "00",
    "onderwijsaanbiedercode": "123A123",
    "onderwijslocatiecode": "123X123",
    "administratienr": "99",
}


class SlowProvider:
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.url = ""


@pytest.fixture
def slow_provider() -> Iterator[SlowProvider]:
    state = SlowProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            state.entered.set()
            state.release.wait(timeout=30)
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def test_a_slow_provider_does_not_hold_up_the_heroverweging(
    container: Container, clock: Clock, slow_provider: SlowProvider
) -> None:
    container.register.add_school(SCHOOL)
    container.register.set_routing(SCHOOL.id, EDU_TO, OIN)
    container.register.set_chain_codes(SCHOOL.id, CODES, slow_provider.url)
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)  # its advice: to the provider
    clock.now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    container.inbox.accept(SCHOOL.id, "provider", delivery(pupil, "vwo"))

    stopping = threading.Event()
    worker = threading.Thread(target=work, args=(container, stopping), kwargs={"interval": 0.05})
    worker.start()
    try:
        assert slow_provider.entered.wait(timeout=20), "the outbox sent the advice"
        flagged = threading.Event()
        for _ in range(200):
            if container.trajectories.load(pupil).status.value == "reconsideration_required":
                flagged.set()
                break
            stopping.wait(0.05)
        assert flagged.is_set(), "the result waited for the provider"
        assert not slow_provider.release.is_set(), "...while the provider still had the request"
    finally:
        slow_provider.release.set()
        stopping.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    with container.engine.connect() as conn:
        sent = conn.execute(
            select(outbox.c.done_at).where(outbox.c.topic == "chain_provisional_advice")
        ).all()
    assert [row.done_at is not None for row in sent] == [True]
