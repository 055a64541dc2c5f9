"""Accounts on both databases: users with a role and a scope, passwords, personal API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.accounts.accounts import AccountError
from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.schools.register import School
from service.store.schema import api_tokens, users
from tests.conftest import Clock

PASSWORD = "lange-zin-als-wachtwoord"


@pytest.fixture
def school(container: Container) -> School:
    school = School(id="school-a", brin="12AB", name="OBS De Vuurtoren")
    container.register.add_school(school)
    return school


def test_a_teacher_is_added_with_their_class_and_can_log_in_with_the_password(
    container: Container, school: School
) -> None:
    added = container.accounts.add_user(
        "Juf.Anna@School.NL", "Anna de Wit", Role.LEERKRACHT, [Scope(school.id, "8A")], PASSWORD
    )
    assert added.email == "juf.anna@school.nl"
    who = container.accounts.check_password("juf.anna@school.nl", PASSWORD)
    assert who is not None
    assert (who.role, who.scopes) == (Role.LEERKRACHT, frozenset({Scope(school.id, "8A")}))
    assert container.accounts.check_password("juf.anna@school.nl", PASSWORD + "x") is None
    with container.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("role", "scopes", "password", "code"),
    [
        (Role.LEERKRACHT, [Scope("school-a")], PASSWORD, "class_missing"),
        (Role.DIRECTIE, [], PASSWORD, "school_missing"),
        (Role.BEHEER, [Scope("school-a")], PASSWORD, "scope_not_allowed"),
        (Role.IB, [Scope("school-x")], PASSWORD, "school_unknown"),
        (Role.IB, [Scope("school-a")], "kort", "password_too_weak"),
    ],
)
def test_a_user_who_cannot_be_right_is_refused_and_nothing_is_stored(
    container: Container,
    school: School,
    role: Role,
    scopes: list[Scope],
    password: str,
    code: str,
) -> None:
    with pytest.raises(AccountError) as refused:
        container.accounts.add_user("iemand@school.nl", "Iemand", role, scopes, password)
    assert refused.value.code == code
    assert container.accounts.list_users() == []


def test_an_email_address_is_used_once(container: Container, school: School) -> None:
    container.accounts.add_user("d@school.nl", "Directeur", Role.DIRECTIE, [Scope(school.id)])
    with pytest.raises(AccountError) as refused:
        container.accounts.add_user(" D@School.nl ", "Ander", Role.IB, [Scope(school.id)])
    assert refused.value.code == "email_taken"
    assert [u.name for u in container.accounts.list_users()] == ["Directeur"]


def test_a_token_is_shown_once_stored_hashed_and_works_until_it_expires(
    container: Container, school: School, clock: Clock
) -> None:
    container.accounts.add_user("ib@school.nl", "Intern Begeleider", Role.IB, [Scope(school.id)])
    issued = container.accounts.issue_token("ib@school.nl", "rapportage-script", days=30)
    assert issued.token.startswith("adv_")
    with container.engine.connect() as conn:
        hashes = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert issued.token not in hashes
    assert len(hashes) == 1
    who = container.accounts.authenticate_token(issued.token)
    assert who is not None
    assert who.email == "ib@school.nl"
    assert container.accounts.authenticate_token(issued.token + "x") is None
    clock.now += timedelta(days=30)
    assert container.accounts.authenticate_token(issued.token) is None


def test_a_revoked_token_or_a_disabled_account_no_longer_authenticates(
    container: Container, school: School
) -> None:
    container.accounts.add_user("d@school.nl", "Directeur", Role.DIRECTIE, [Scope(school.id)])
    first = container.accounts.issue_token("d@school.nl", "eerste", days=10)
    second = container.accounts.issue_token("d@school.nl", "tweede", days=10)
    container.accounts.revoke_token(first.id)
    assert container.accounts.authenticate_token(first.token) is None
    assert container.accounts.authenticate_token(second.token) is not None
    with pytest.raises(AccountError):
        container.accounts.revoke_token(first.id)
    container.accounts.disable("d@school.nl")
    assert container.accounts.authenticate_token(second.token) is None
    assert [t.name for t in container.accounts.tokens_of("d@school.nl")] == ["eerste", "tweede"]


def test_a_token_lives_at_most_a_year(container: Container, school: School) -> None:
    container.accounts.add_user("d@school.nl", "Directeur", Role.DIRECTIE, [Scope(school.id)])
    with pytest.raises(AccountError) as refused:
        container.accounts.issue_token("d@school.nl", "te lang", days=366)
    assert refused.value.code == "token_days_invalid"
    assert container.accounts.tokens_of("d@school.nl") == []
