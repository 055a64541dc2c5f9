"""What the intake tests share: a school with chain routing, a mandated provider's client, and
pupils with a voorlopig advies given in January."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import Pupil, School
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school
EDU_TO, OIN = "0000000700011BB00530", "0000000700011BB00000"
URL = f"/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to={EDU_TO}&edu-from={OIN}"


@contextmanager
def provider_client(container: Container, clock: Clock) -> Iterator[TestClient]:
    """An HTTP client as the school's test provider, on 10 March (its token lasts an hour)."""
    container.register.add_school(SCHOOL)
    container.register.set_routing(SCHOOL.id, EDU_TO, OIN)
    client = container.clients.add("koppeling@iep.nl", "IEP-koppeling", [SCHOOL.id])
    clock.now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    token = container.clients.exchange(client.client_id, client.client_secret)
    assert token is not None
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token.token}"},
    ) as http:
        yield http


def pupil_with_advice(
    container: Container, clock: Clock, advice: SchoolAdvice = SchoolAdvice.HAVO
) -> uuid.UUID:
    now, clock.now = clock.now, datetime(2026, 1, 15, 12, tzinfo=UTC)
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
    give = GiveProvisionalAdvice(advice=advice, given_on=date(2026, 1, 15))
    container.trajectories.execute(pupil, give, CommandContext(actor=Actor("juf", "leerkracht")))
    clock.now = now
    return pupil
