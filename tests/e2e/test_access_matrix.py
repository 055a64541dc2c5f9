"""Every endpoint of /api/v1 × every role × own / other school / other class, from the app itself.

The endpoints are taken from the running app's OpenAPI document, so a new endpoint without a row in
`KINDS` fails the suite. Commands are sent with an empty body: a caller who passes the gate gets
the body's 422 (`validation_failed`), one who does not gets 404 (the pupil or school is not
theirs: its existence does not leak) or 403 (they see it but may not do this). Nothing is stored,
and only answered pupil reads reach the access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.schools.register import Pupil, School
from tests.conftest import enrolled_pupil

OWN = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school
OTHER = School(id="school-2", brin="02BB", name="De Andere School")

# What each endpoint is, for access: whose data it touches and who may act.
(
    PUPIL_READ,
    SCHOOL_READ,
    WRITE,
    STAFF_WRITE,
    DIRECTIE_WRITE,
    ENROL,
    AUDIT,
    ADMIN,
    INTAKE,
    DELIVERIES,
    SELF,
) = range(11)
KINDS: dict[tuple[str, str], int] = {
    ("GET", "/api/v1/pupils/{pupil_id}/trajectory"): PUPIL_READ,
    ("GET", "/api/v1/pupils/{pupil_id}/events"): PUPIL_READ,
    ("GET", "/api/v1/pupils/{pupil_id}/reads"): AUDIT,
    ("GET", "/api/v1/schools/{school_id}/pupils"): SCHOOL_READ,
    ("GET", "/api/v1/schools/{school_id}/reconsiderations"): SCHOOL_READ,
    ("POST", "/api/v1/schools/{school_id}/pupils"): ENROL,
    ("POST", "/api/v1/schools/{school_id}/pupils/bulk"): ENROL,
    ("POST", "/api/v1/pupils/{pupil_id}/orientation-advice"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/groep-8"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/provisional-advice"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/provisional-advice/corrections"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/final-advice"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/national-registrations"): STAFF_WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/exemption"): STAFF_WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/test-absence"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/catch-up-test"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/no-test-result"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/reconsideration/conversation"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/reconsideration/conversation/moves"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/reconsideration/conversation/cancellation"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/reconsideration/conversation/outcome"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/reconsideration/decision"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/objections"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/objections/{objection_id}/decision"): DIRECTIE_WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/okr-conversation"): WRITE,
    ("POST", "/api/v1/pupils/{pupil_id}/leaving"): WRITE,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("GET", "/api/v1/users/{user_id}/tokens"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/tokens"): ADMIN,
    ("POST", "/api/v1/tokens/{token_id}/revoke"): ADMIN,
    ("POST", "/doorstroomtoetsketen/v1.1/leerlingresultaat"): INTAKE,
    ("GET", "/api/v1/schools/{school_id}/deliveries"): DELIVERIES,
    ("GET", "/api/v1/me"): SELF,
    ("GET", "/api/v1/schools"): SELF,
    ("POST", "/api/v1/users/{user_id}/enable"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/invitation"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/disable"): ADMIN,  # last: beheer switches itself off
}
# The chain standard's own endpoint answers as the standard says: application/json with a
# `melding`, 401 for any sender the school did not mandate.
CHAIN = {"/doorstroomtoetsketen/v1.1/leerlingresultaat"}
EDU_TO, EDU_FROM = "0000000700011BB00530", "0000000700011BB00000"
# Past the gate, these answer otherwise than 200 (GET) or the empty body's 422 (POST).
GATE_PASSED = {
    ("POST", "/api/v1/users/{user_id}/disable"): 200,  # no body: done
    ("POST", "/api/v1/users/{user_id}/enable"): 200,
    ("POST", "/api/v1/users/{user_id}/invitation"): 202,  # a link for beheer's own account
    ("POST", "/api/v1/tokens/{token_id}/revoke"): 404,  # an unknown token
}
# Reached without a principal: the token endpoint authenticates a machine client's own
# credentials (tests/e2e/test_machine_clients.py).
PUBLIC = {"/api/v1/oauth/token", "/health"}  # and the load balancer's health check

OK = 0  # passed the gate: 200 for a read, the empty body's 422 for a command
# role, school, class: expected per kind (PUPIL_READ, SCHOOL_READ, WRITE, STAFF_WRITE,
# DIRECTIE_WRITE, ENROL, AUDIT, ADMIN, INTAKE, DELIVERIES, SELF). The pupil is in class 8A of
# OWN. Every account may ask who it is and which schools it sees (SELF).
NONE = (404,) * 7 + (403, 401, 404, OK)
MATRIX = [
    ("leerkracht", OWN.id, "8A", (OK, OK, OK, 403, 403, 403, 403, 403, 401, 403, OK)),
    ("leerkracht", OWN.id, "8B", (404, OK, 404, 404, 404, 403, 404, 403, 401, 403, OK)),
    ("leerkracht", OTHER.id, "8A", NONE),
    ("ib", OWN.id, "", (OK, OK, OK, OK, 403, OK, 403, 403, 401, OK, OK)),
    ("ib", OTHER.id, "", NONE),
    ("directie", OWN.id, "", (OK, OK, OK, OK, OK, OK, OK, 403, 401, OK, OK)),
    ("directie", OTHER.id, "", NONE),
    ("bestuur", OWN.id, "", (OK, OK, 403, 403, 403, 403, 403, 403, 401, OK, OK)),  # never writes
    ("bestuur", OTHER.id, "", NONE),
    ("beheer", None, "", (404,) * 7 + (OK, 401, 404, OK)),  # users and settings, never pupils
    ("toetsaanbieder", OWN.id, "", (*NONE[:8], OK, 404, OK)),  # only the results intake
    ("toetsaanbieder", OTHER.id, "", NONE),  # a school that did not mandate it
]


def api_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every operation the app serves, as its own OpenAPI document lists them."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.register.add_school(OWN)
    container.register.add_school(OTHER)
    container.register.set_routing(OWN.id, EDU_TO, EDU_FROM)
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def pupil(container: Container, client: TestClient) -> uuid.UUID:
    pupil_id = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil_id), OWN.id, "Noor", "de Vries", "8A"))
    return pupil_id


def url(path: str, pupil: uuid.UUID, user_id: str = "someone") -> str:
    if path in CHAIN:
        return f"{path}?edu-to={EDU_TO}&edu-from={EDU_FROM}"
    return path.format(
        pupil_id=pupil,
        school_id=OWN.id,
        objection_id="verzoek-1",
        user_id=user_id,
        token_id="token-1",
    )


def test_every_api_endpoint_has_its_place_in_the_matrix(client: TestClient) -> None:
    routes = api_routes(client)
    assert set(KINDS) == {(m, p) for m, p in routes if p not in PUBLIC}


def test_every_api_endpoint_refuses_a_caller_without_a_token(
    client: TestClient, pupil: uuid.UUID
) -> None:
    for method, path in KINDS:
        response = client.request(method, url(path, pupil), json={})
        assert response.status_code == 401, (method, path)
        kind = "application/json" if path in CHAIN else "application/problem+json"
        assert response.headers["content-type"] == kind
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("role", "school", "class_name", "expected"), MATRIX)
def test_each_role_reaches_each_endpoint_only_where_it_may(
    client: TestClient,
    container: Container,
    pupil: uuid.UUID,
    role: str,
    school: str | None,
    class_name: str,
    expected: tuple[int, ...],
) -> None:
    email = f"{role}@school.nl"
    me = container.accounts.add_user(
        email, role, Role(role), [Scope(school, class_name)] if school else []
    ).user_id
    token = container.accounts.issue_token(email, "matrix", days=7).token
    headers = {"Authorization": f"Bearer {token}"}
    stored_before = container.store.read_all()
    answered_pupil_reads = 0

    for (method, path), kind in KINDS.items():
        response = client.request(method, url(path, pupil, me), headers=headers, json={})
        want = expected[kind]
        got = response.status_code
        where = f"{role}@{school}/{class_name} {method} {path}: {response.text[:200]}"
        if want == OK:
            passed = GATE_PASSED.get((method, path), 200 if method == "GET" else 422)
            assert got == passed, where
            if got == 422:
                refused = "schema_invalid" if path in CHAIN else "validation_failed"
                assert response.json()["code"] == refused, where
        else:
            assert got == want, where
            codes = {"forbidden", "pupil_not_found", "school_not_found", "not_mandated"}
            assert response.json()["code"] in codes | {"unauthenticated"}, where
            assert got in (401, 404) or response.json()["code"] == "forbidden", where
        if got >= 400:
            media = "application/json" if path in CHAIN else "application/problem+json"
            assert response.headers["content-type"] == media, where
        answered_pupil_reads += kind in (PUPIL_READ, AUDIT) and got == 200

    assert container.store.read_all() == stored_before
    logged = [r for r in reads_of(container.engine, str(pupil)) if r[2] == role]
    # the pupil's own reads, plus its row in the class overview when that was answered (it is
    # not in the heroverweging worklist: no result yet)
    lists = 1 if expected[SCHOOL_READ] == OK and expected[PUPIL_READ] == OK else 0
    assert len(logged) == answered_pupil_reads + lists
