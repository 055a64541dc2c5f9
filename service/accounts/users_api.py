"""HTTP routes for `beheer`: the accounts of the board's people, and their personal API tokens.

The same operations as `adviestraject user …`, for an IT admin who works from a browser or a
script. Only the `beheer` role reaches them (403 for every other); no route here shows a pupil.
A new token is in the answer once and never again; a password is never shown. Beheer makes no
token for an account that sees pupils (leerkracht, IB, directie, bestuur): 403
`token_not_allowed`, so that it cannot read pupils through someone else's token. For the same
reason beheer chooses no password for such an account (403 `password_not_allowed`): the account
is added without one and `POST /users/{id}/invitation` e-mails its owner a one-time link to
choose it (the website's accounts page does the same). The command line keeps `user add
--password` for the first account of an installation.

Every change goes into the administration trail under the token's account, as made through the
API, in the change's own transaction (`service/audit/admin_trail.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from service.accounts.access import READERS
from service.accounts.accounts import MAX_TOKEN_DAYS, Account, AccountError
from service.accounts.invitation_mail import send_invitation
from service.accounts.roles import Principal, Role, Scope
from service.api.deps import ContainerDep, PrincipalDep
from service.api.problems import UNAUTHENTICATED_401, ProblemError, problem_responses
from service.audit import admin_trail
from service.audit.admin_trail import Actor
from service.bootstrap import Container
from service.outbox.mail import mailer_from

router = APIRouter(prefix="/api/v1", tags=["beheer"])

_ERRORS = problem_responses(
    {
        401: UNAUTHENTICATED_401,
        403: "Only beheer manages accounts; beheer makes no token (token_not_allowed) and "
        "chooses no password (password_not_allowed) for an account that sees pupils",
        404: "No such user or token",
        409: "An account with this e-mail address exists",
        422: "Invalid input, or a rule for accounts that says no (the code says which)",
    }
)
_STATUS = {
    "user_unknown": 404,
    "token_unknown": 404,
    "email_taken": 409,
    "token_not_allowed": 403,
    "password_not_allowed": 403,
    "user_disabled": 409,
}
UserId = Annotated[str, Path(max_length=36, description="The user's id")]


def get_beheer(who: PrincipalDep) -> Principal:
    if who.role is not Role.BEHEER:
        raise ProblemError(
            403,
            "forbidden",
            "Geen toegang",
            f"als {who.role.label} beheert u geen gebruikers; vraag uw beheerder",
        )
    return who


BeheerDep = Annotated[Principal, Depends(get_beheer)]


def _actor(who: Principal) -> Actor:
    """The token's account, as the administration trail records a change made with it."""
    return Actor.of(who, admin_trail.API)


def refused(error: AccountError) -> ProblemError:
    status = _STATUS.get(error.code, 422)
    title = "Geen toegang" if status == 403 else "Dit kan niet bij gebruikers"
    return ProblemError(status, error.code, title, error.message)


class ScopeIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: str = Field(max_length=36)
    class_name: str = Field(default="", max_length=20, description='For a teacher: "8A"')


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, examples=["juf.anna@school.nl"])
    name: str = Field(min_length=1, max_length=200, examples=["Anna de Groot"])
    role: Role
    scopes: list[ScopeIO] = Field(default=[], max_length=100)
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1000,
        description="A first password for the website (at least 12 characters), only for an "
        "account that sees no pupils (beheer, toetsaanbieder); others get an invitation",
    )


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    scopes: list[ScopeIO]
    active: bool

    @classmethod
    def of(cls, account: Account) -> UserOut:
        who = account.principal
        return cls(
            id=who.user_id,
            email=who.email,
            name=who.name,
            role=who.role,
            scopes=sorted(
                (ScopeIO(school_id=s.school_id, class_name=s.class_name) for s in who.scopes),
                key=lambda s: (s.school_id, s.class_name),
            ),
            active=account.active,
        )


class UsersOut(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the token is for")
    days: int = Field(default=90, ge=1, le=MAX_TOKEN_DAYS)


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class NewTokenOut(BaseModel):
    id: str
    token: str = Field(description="Shown this once; only its hash is kept")
    expires_at: datetime


def _account(container: Container, user_id: str) -> Account:
    found = container.accounts.accounts(user_id)
    if not found:
        raise ProblemError(404, "user_unknown", "Niet gevonden", "deze gebruiker bestaat niet")
    return found[0]


@router.get("/users", responses=_ERRORS, summary="The accounts, by e-mail address (beheer)")
def list_users(
    _who: BeheerDep,
    container: ContainerDep,
    role: Annotated[Role | None, Query(description="Only this role")] = None,
    school_id: Annotated[str | None, Query(max_length=36, description="Only this school")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UsersOut:
    found = [
        account
        for account in container.accounts.accounts()
        if (role is None or account.principal.role is role)
        and (school_id is None or school_id in account.principal.school_ids)
    ]
    items = [UserOut.of(account) for account in found[offset : offset + limit]]
    return UsersOut(items=items, total=len(found), limit=limit, offset=offset)


@router.post("/users", status_code=201, responses=_ERRORS, summary="Add an account (beheer)")
def add_user(body: UserIn, who: BeheerDep, container: ContainerDep, response: Response) -> UserOut:
    if body.password is not None and body.role in READERS:
        raise ProblemError(
            403,
            "password_not_allowed",
            "Geen toegang",
            f"beheer kiest geen wachtwoord voor een {body.role.label}: voeg het account toe "
            "zonder wachtwoord en stuur een uitnodiging (POST /api/v1/users/{id}/invitation)",
            field="password",
        )
    try:
        added = container.accounts.add_user(
            body.email,
            body.name,
            body.role,
            [Scope(s.school_id, s.class_name) for s in body.scopes],
            body.password,
            actor=_actor(who),
        )
    except AccountError as error:
        raise refused(error) from None
    response.headers["Location"] = f"/api/v1/users/{added.user_id}"
    return UserOut.of(_account(container, added.user_id))


@router.get("/users/{user_id}", responses=_ERRORS, summary="One account (beheer)")
def get_user(user_id: UserId, _who: BeheerDep, container: ContainerDep) -> UserOut:
    return UserOut.of(_account(container, user_id))


@router.post(
    "/users/{user_id}/disable",
    responses=_ERRORS,
    summary="Switch an account off: its password, sessions and tokens stop working at once",
)
def disable_user(user_id: UserId, who: BeheerDep, container: ContainerDep) -> UserOut:
    account = _account(container, user_id)
    container.accounts.disable(account.principal.email, actor=_actor(who))
    return UserOut.of(_account(container, user_id))


@router.get("/users/{user_id}/tokens", responses=_ERRORS, summary="An account's API tokens")
def list_tokens(user_id: UserId, _who: BeheerDep, container: ContainerDep) -> list[TokenOut]:
    account = _account(container, user_id)
    return [
        TokenOut(
            id=t.id,
            name=t.name,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )
        for t in container.accounts.tokens_of(account.principal.email)
    ]


@router.post(
    "/users/{user_id}/tokens",
    status_code=201,
    responses=_ERRORS,
    summary="Make a personal API token for an account that sees no pupils (beheer, "
    "toetsaanbieder); it is shown this once",
)
def issue_token(
    user_id: UserId, body: TokenIn, who: BeheerDep, container: ContainerDep
) -> NewTokenOut:
    account = _account(container, user_id)
    try:
        issued = container.accounts.issue_token(
            account.principal.email, body.name, body.days, issued_by=who, actor=_actor(who)
        )
    except AccountError as error:
        raise refused(error) from None
    return NewTokenOut(id=issued.id, token=issued.token, expires_at=issued.expires_at)


@router.post(
    "/tokens/{token_id}/revoke",
    status_code=204,
    responses=_ERRORS,
    summary="Revoke a token: it stops working at once",
)
def revoke_token(
    token_id: Annotated[str, Path(max_length=36)], who: BeheerDep, container: ContainerDep
) -> Response:
    try:
        container.accounts.revoke_token(token_id, actor=_actor(who))
    except AccountError as error:
        raise refused(error) from None
    return Response(status_code=204)


@router.post(
    "/users/{user_id}/enable",
    responses=_ERRORS,
    summary="Switch an account on again (its password works again; earlier links do not)",
)
def enable_user(user_id: UserId, who: BeheerDep, container: ContainerDep) -> UserOut:
    account = _account(container, user_id)
    container.accounts.enable(account.principal.email, actor=_actor(who))
    return UserOut.of(_account(container, user_id))


class InvitationOut(BaseModel):
    email: str = Field(description="Where the link was sent")
    expires_at: datetime = Field(description="The link works once, until then")


@router.post(
    "/users/{user_id}/invitation",
    status_code=202,
    responses=problem_responses(
        {
            401: UNAUTHENTICATED_401,
            403: "Only beheer manages accounts",
            404: "No such user",
            409: "The account is disabled (user_disabled): enable it first",
            503: "The e-mail could not be sent (mail_failed); the account has no password "
            "now: try again",
        }
    ),
    summary="E-mail the account's owner a one-time link (72 hours) to choose a password; "
    "the account's password, web sessions and earlier links stop working at once",
)
def send_invitation_link(user_id: UserId, who: BeheerDep, container: ContainerDep) -> InvitationOut:
    _account(container, user_id)
    had_password = container.accounts.account_states().get(user_id) == "actief"
    try:
        invited = container.accounts.reset(user_id, by=who, actor=_actor(who))
    except AccountError as error:
        raise refused(error) from None
    names = {s.id: s.name for s in container.register.schools()}
    try:
        send_invitation(
            mailer_from(container.settings),
            invited,
            by=who.name,
            where=sorted(names.get(i, i) for i in invited.principal.school_ids),
            public_url=container.settings.public_url,
            reset=had_password,
        )
    except OSError:
        raise ProblemError(
            503,
            "mail_failed",
            "E-mail niet verstuurd",
            "de uitnodiging kon niet worden verstuurd; probeer het later opnieuw",
        ) from None
    return InvitationOut(email=invited.principal.email, expires_at=invited.expires_at)
