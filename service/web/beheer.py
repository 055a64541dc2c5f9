"""The beheer pages: `/beheer/scholen` (the schools, add one) and `/beheer/accounts` (the
accounts with role, schools, classes and status; invite, disable, enable, send a new link).

Beheer sees every school and every account. Directie opens `/beheer/accounts` for its own
school: it sees the accounts that work there and invites, disables, enables and resets its
leerkrachten and intern begeleiders (`may_manage`). No page here shows a pupil.

Nobody chooses a password for someone else in the browser: a new account gets an invitation
e-mail with a one-time link (`/uitnodiging/{token}`), and "Nieuwe link sturen" resets an account
(its password, sessions and earlier links stop working). The command line keeps `user add
--password` for the first beheer account of an installation.

Every POST checks the session's CSRF token; bad input gets the form back with the error beside
its field and 422, and nothing is stored; a change ends with 303 to the list and a notice, and
goes into the administration trail under the signed-in account, in the change's own transaction
(`service/audit/admin_trail.py`, shown at `/beheer/logboek` and, per account, on the account's
page: `service/web/admin_log.py`).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from service.accounts.accounts import Account, AccountError, Invited, scopes_fingerprint
from service.accounts.invitation_mail import send_invitation
from service.accounts.onboarding import (
    CHAIN_CODES,
    STAFF_ROLES,
    SchoolInputError,
    add_school,
    check_school,
    manages_accounts,
    may_manage,
)
from service.accounts.roles import Principal, Role, Scope
from service.accounts.sessions import SessionUser
from service.api.deps import ContainerDep
from service.audit import admin_trail
from service.audit.admin_trail import Actor
from service.bootstrap import Container
from service.outbox.mail import mailer_from
from service.schools.register import School
from service.store.schema import schools
from service.web import admin_log
from service.web.pages import message_page, page, session_of, tokens_match

router = APIRouter(include_in_schema=False)
router.include_router(admin_log.router)
log = logging.getLogger("adviestraject.accounts")

SCHOOLS, ACCOUNTS = "/beheer/scholen", "/beheer/accounts"
INVITABLE = (Role.LEERKRACHT, Role.IB, Role.DIRECTIE, Role.BESTUUR, Role.BEHEER)
_FIELD_OF_ERROR = {
    "email_invalid": "email",
    "email_taken": "email",
    "name_missing": "name",
    "name_too_long": "name",
    "school_missing": "school",
    "school_unknown": "school",
    "scope_not_allowed": "school",
    "class_missing": "classes",
    "class_too_long": "classes",
}
_STATE_KIND = {
    "actief": "success",
    "uitgenodigd": "active",
    "uitgeschakeld": "inactive",
    "zonder wachtwoord": "warning",
}
_USER_ID = re.compile(r"^[0-9a-f-]{36}$")
Text = Annotated[str, Form(max_length=500)]


def _school_label(school: School) -> str:
    return f"{school.brin} {school.name}"


def _open(request: Request, container: Container, *, beheer_only: bool) -> SessionUser | Response:
    """The session of someone who may use this page, or the answer for anyone else."""
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    allowed = who.role is Role.BEHEER if beheer_only else manages_accounts(who)
    if not allowed:
        return message_page(
            session,
            403,
            "Geen toegang",
            f"Als {who.role.label} beheert u geen "
            f"{'scholen' if beheer_only else 'accounts'}; vraag uw beheerder.",
        )
    return session


def _actor(who: Principal) -> Actor:
    """The signed-in account, as the administration trail records it."""
    return Actor.of(who, admin_trail.WEB)


def _csrf_refused(session: SessionUser, sent: str) -> HTMLResponse | None:
    if tokens_match(session.csrf_token, sent):
        return None
    return message_page(
        session,
        403,
        "Verzoek geweigerd",
        "Het formulier was verlopen of kwam niet van deze website. Open de pagina opnieuw en "
        "probeer het nog eens.",
    )


# --- schools ------------------------------------------------------------------------------


def _school_rows(container: Container) -> list[dict[str, object]]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(schools).order_by(schools.c.name)).all()
    return [
        {
            "id": r.id,
            "brin": r.brin,
            "name": r.name,
            "chain": all(getattr(r, code) for code in CHAIN_CODES) and bool(r.provider_url),
            "routing": r.edu_route is not None,
        }
        for r in rows
    ]


def _schools_page(
    container: Container,
    session: SessionUser,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    return page(
        "o_schools.html",
        status,
        who=session.principal,
        csrf_token=session.csrf_token,
        active=SCHOOLS,
        schools=_school_rows(container),
        values=values or {},
        errors=errors or {},
        notice=notice,
        codes=CHAIN_CODES,
    )


@router.get(SCHOOLS, response_class=HTMLResponse)
def schools_page(
    request: Request,
    container: ContainerDep,
    toegevoegd: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    opened = _open(request, container, beheer_only=True)
    if not isinstance(opened, SessionUser):
        return opened
    notice = ""
    if re.fullmatch(r"[0-9]{2}[A-Z]{2}", toegevoegd):
        notice = f"School {toegevoegd} is toegevoegd. Nodig nu de mensen van de school uit."
    return _schools_page(container, opened, notice=notice)


@router.post(SCHOOLS, response_class=HTMLResponse)
def add_school_form(
    request: Request,
    container: ContainerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    brin: Text = "",
    name: Text = "",
    vestigingscode: Text = "",
    onderwijsaanbiedercode: Text = "",
    onderwijslocatiecode: Text = "",
    administratienr: Text = "",
    provider_url: Text = "",
    edu_route: Text = "",
    oin: Text = "",
) -> Response:
    opened = _open(request, container, beheer_only=True)
    if not isinstance(opened, SessionUser):
        return opened
    if refused := _csrf_refused(opened, csrf_token):
        return refused
    codes: dict[str, str | None] = {
        "vestigingscode": vestigingscode,
        "onderwijsaanbiedercode": onderwijsaanbiedercode,
        "onderwijslocatiecode": onderwijslocatiecode,
        "administratienr": administratienr,
    }
    values = {
        "brin": brin,
        "name": name,
        "provider_url": provider_url,
        "edu_route": edu_route,
        "oin": oin,
        **{k: v or "" for k, v in codes.items()},
    }
    try:
        school = add_school(
            container.engine,
            check_school(brin, name, codes, provider_url, edu_route, oin),
            actor=_actor(opened.principal),
            at=container.clock(),
        )
    except SchoolInputError as error:
        return _schools_page(container, opened, status=422, values=values, errors=error.errors)
    log.info("school %s (%s) added by %s", school.brin, school.id, opened.principal.user_id)
    return RedirectResponse(f"{SCHOOLS}?toegevoegd={school.brin}", status_code=303)


# --- accounts -----------------------------------------------------------------------------


def _visible_accounts(container: Container, who: Principal) -> list[Account]:
    every = container.accounts.accounts()
    if who.role is Role.BEHEER:
        return every
    return [a for a in every if a.principal.school_ids & who.school_ids]


def _where(account: Principal, names: dict[str, School]) -> list[str]:
    """ "12AB De Regenboog: 8A, 8B" or "12AB De Regenboog (hele school)", per school."""
    lines = []
    for school_id in sorted(account.school_ids, key=lambda i: names[i].brin if i in names else i):
        school = names.get(school_id)
        label = _school_label(school) if school else school_id
        classes = sorted(s.class_name for s in account.scopes if s.school_id == school_id)
        if all(classes):
            lines.append(f"{label}: {', '.join(classes)}")
        else:
            lines.append(f"{label} (hele school)")
    return lines


def _roles_for(who: Principal) -> list[Role]:
    return (
        list(INVITABLE) if who.role is Role.BEHEER else [r for r in INVITABLE if r in STAFF_ROLES]
    )


def _accounts_page(
    container: Container,
    session: SessionUser,
    *,
    status: int = 200,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    notice_kind: str = "ok",
) -> HTMLResponse:
    who = session.principal
    every = container.register.schools()
    names = {s.id: s for s in every}
    states = container.accounts.account_states()
    rows = [
        {
            "id": a.principal.user_id,
            "name": a.principal.name,
            "email": a.principal.email,
            "email_local": a.principal.email.partition("@")[0],
            "email_domain": a.principal.email.partition("@")[2],
            "role": a.principal.role.label,
            "where": _where(a.principal, names),
            "state": states.get(a.principal.user_id, "actief"),
            "kind": _STATE_KIND.get(states.get(a.principal.user_id, ""), "neutral"),
            "active": a.active,
            "manage": may_manage(who, a.principal.role, a.principal.school_ids)
            and a.principal.user_id != who.user_id,
            # a test provider's machine client logs in with its client secret, never a password
            "invitable": a.principal.role is not Role.TOETSAANBIEDER,
        }
        for a in _visible_accounts(container, who)
    ]
    own = every if who.role is Role.BEHEER else [s for s in every if s.id in who.school_ids]
    return page(
        "o_accounts.html",
        status,
        who=who,
        csrf_token=session.csrf_token,
        active=ACCOUNTS,
        accounts=rows,
        roles=[(r.value, r.label) for r in _roles_for(who)],
        schools=[(s.id, _school_label(s)) for s in own],
        values=values or {"role": Role.LEERKRACHT.value, "school": []},
        errors=errors or {},
        notice=notice,
        notice_kind=notice_kind,
    )


_NOTICES = {
    "uitgenodigd": ("De uitnodiging is verstuurd naar {email}.", "ok"),
    "uitgeschakeld": ("Het account van {name} is uitgeschakeld.", "ok"),
    "ingeschakeld": ("Het account van {name} is weer ingeschakeld.", "ok"),
    "gewijzigd": ("De school en klassen van {name} zijn opgeslagen.", "ok"),
    "nieuwe-link": (
        "Er is een nieuwe link verstuurd naar {email}; het oude wachtwoord en eerdere links "
        "werken niet meer.",
        "ok",
    ),
    "mail-mislukt": (
        "Het account van {name} is klaar, maar de e-mail naar {email} kon niet worden "
        "verstuurd. Probeer het later met “Nieuwe link sturen”.",
        "error",
    ),
}


@router.get(ACCOUNTS, response_class=HTMLResponse)
def accounts_page(
    request: Request,
    container: ContainerDep,
    melding: Annotated[str, Query(max_length=20)] = "",
    account: Annotated[str, Query(max_length=36)] = "",
) -> Response:
    opened = _open(request, container, beheer_only=False)
    if not isinstance(opened, SessionUser):
        return opened
    notice, kind = "", "ok"
    if melding in _NOTICES and _USER_ID.match(account):
        found = [
            a
            for a in container.accounts.accounts(account)
            if opened.principal.role is Role.BEHEER
            or a.principal.school_ids & opened.principal.school_ids
        ]
        if found:
            template, kind = _NOTICES[melding]
            who = found[0].principal
            notice = template.format(name=who.name, email=who.email)
    return _accounts_page(container, opened, notice=notice, notice_kind=kind)


def _scopes(
    who: Principal, role: Role, chosen: list[str], classes: str, own: set[str]
) -> tuple[list[Scope], dict[str, str]]:
    errors: dict[str, str] = {}
    if unknown := [s for s in chosen if s not in own]:
        errors["school"] = f"onbekende school: {', '.join(unknown)}"
    names = [c.strip() for c in re.split(r"[,;]", classes) if c.strip()]
    if role is Role.LEERKRACHT:
        if not names:
            errors["classes"] = "een leerkracht hoort bij een klas: geef bijv. 8A"
        scopes = [Scope(school, name) for school in chosen for name in names]
    else:
        if names:
            errors["classes"] = f"alleen een leerkracht hoort bij klassen; een {role.label} niet"
        scopes = [Scope(school) for school in chosen]
    if role is not Role.BEHEER and not chosen and "school" not in errors:
        errors["school"] = f"kies de school van deze {role.label}"
    if not may_manage(who, role, chosen) and "role" not in errors:
        errors["role"] = (
            "als directie nodigt u alleen leerkrachten en intern begeleiders van uw eigen "
            "school uit"
        )
    return scopes, errors


def _send(container: Container, invited: Invited, by: Principal, reset: bool) -> bool:
    names = {s.id: s.name for s in container.register.schools()}
    where = sorted(names.get(i, i) for i in invited.principal.school_ids)
    try:
        send_invitation(
            mailer_from(container.settings),
            invited,
            by=by.name,
            where=where,
            public_url=container.settings.public_url,
            reset=reset,
        )
    except OSError:
        return False
    return True


@router.post(ACCOUNTS, response_class=HTMLResponse)
def invite_form(
    request: Request,
    container: ContainerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    name: Text = "",
    email: Text = "",
    role: Annotated[str, Form(max_length=20)] = "",
    school: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies the default
    classes: Text = "",
) -> Response:
    opened = _open(request, container, beheer_only=False)
    if not isinstance(opened, SessionUser):
        return opened
    if refused := _csrf_refused(opened, csrf_token):
        return refused
    who = opened.principal
    values: dict[str, object] = {
        "name": name,
        "email": email,
        "role": role,
        "school": school,
        "classes": classes,
    }
    allowed = {r.value: r for r in _roles_for(who)}
    chosen_role = allowed.get(role)
    if chosen_role is None:
        errors = {"role": "kies een rol uit de lijst"}
        return _accounts_page(container, opened, status=422, values=values, errors=errors)
    own = {s.id for s in container.register.schools()}
    if who.role is not Role.BEHEER:
        own &= who.school_ids
    scopes, errors = _scopes(who, chosen_role, list(dict.fromkeys(school)), classes, own)
    if not errors:
        try:
            invited = container.accounts.invite(
                email, name, chosen_role, scopes, invited_by=who, actor=_actor(who)
            )
        except AccountError as error:
            errors = {_FIELD_OF_ERROR.get(error.code, "email"): error.message}
    if errors:
        return _accounts_page(container, opened, status=422, values=values, errors=errors)
    sent = _send(container, invited, who, reset=False)
    log.info(
        "account %s (%s) invited by %s; e-mail %s",
        invited.principal.user_id,
        chosen_role.value,
        who.user_id,
        "sent" if sent else "NOT sent",
    )
    melding = "uitgenodigd" if sent else "mail-mislukt"
    return RedirectResponse(
        f"{ACCOUNTS}?melding={melding}&account={invited.principal.user_id}", status_code=303
    )


@router.post(f"{ACCOUNTS}/{{user_id}}/{{action}}", response_class=HTMLResponse)
def account_action(
    user_id: Annotated[str, Path(max_length=36)],
    action: Annotated[str, Path(max_length=20)],
    request: Request,
    container: ContainerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    opened = _open(request, container, beheer_only=False)
    if not isinstance(opened, SessionUser):
        return opened
    if refused := _csrf_refused(opened, csrf_token):
        return refused
    who = opened.principal
    found = [a for a in _visible_accounts(container, who) if a.principal.user_id == user_id]
    if action not in ("uitschakelen", "inschakelen", "nieuwe-link") or not found:
        return message_page(opened, 404, "Niet gevonden", "Dit account of deze actie bestaat niet.")
    target = found[0].principal
    if not may_manage(who, target.role, target.school_ids):
        return message_page(
            opened,
            403,
            "Geen toegang",
            f"Als {who.role.label} beheert u het account van {target.name} niet; vraag uw "
            "beheerder.",
        )
    if action == "nieuwe-link" and target.role is Role.TOETSAANBIEDER:
        return message_page(
            opened,
            422,
            "Geen link voor een koppeling",
            f"{target.name} is de koppeling van een toetsaanbieder: die logt in met zijn eigen "
            "sleutel, niet met een wachtwoord. Een nieuwe sleutel maakt de beheerder met "
            "'adviestraject client'.",
        )
    if target.user_id == who.user_id:
        return message_page(
            opened,
            403,
            "Niet bij uw eigen account",
            "Uw eigen account schakelt u hier niet uit en zet u niet opnieuw in: vraag een "
            "andere beheerder.",
        )
    melding = {"uitschakelen": "uitgeschakeld", "inschakelen": "ingeschakeld"}.get(action, "")
    try:
        if action == "uitschakelen":
            container.accounts.disable(target.email, actor=_actor(who))
        elif action == "inschakelen":
            container.accounts.enable(target.email, actor=_actor(who))
        else:
            had = container.accounts.account_states().get(target.user_id, "")
            invited = container.accounts.reset(target.user_id, by=who, actor=_actor(who))
            sent = _send(container, invited, who, reset=had == "actief")
            melding = "nieuwe-link" if sent else "mail-mislukt"
    except AccountError as error:
        return _accounts_page(
            container, opened, status=409, notice=error.message, notice_kind="error"
        )
    log.info("account %s: %s by %s", target.user_id, action, who.user_id)
    return RedirectResponse(f"{ACCOUNTS}?melding={melding}&account={target.user_id}", 303)


# --- one account: its schools and classes ------------------------------------------------


def _managed(container: Container, session: SessionUser, user_id: str) -> Account | HTMLResponse:
    """The account `user_id` if the session's user may change it, else the answer."""
    who = session.principal
    found = [a for a in _visible_accounts(container, who) if a.principal.user_id == user_id]
    if not found:
        return message_page(session, 404, "Niet gevonden", "Dit account bestaat niet.")
    target = found[0].principal
    if target.user_id == who.user_id or not may_manage(who, target.role, target.school_ids):
        return message_page(
            session,
            403,
            "Geen toegang",
            f"Als {who.role.label} wijzigt u het account van {target.name} niet; vraag uw "
            "beheerder.",
        )
    return found[0]


def _account_page(
    container: Container,
    session: SessionUser,
    account: Account,
    *,
    status: int = 200,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    who, target = session.principal, account.principal
    every = container.register.schools()
    own = every if who.role is Role.BEHEER else [s for s in every if s.id in who.school_ids]
    current = {
        "school": sorted(target.school_ids),
        "classes": ", ".join(sorted({s.class_name for s in target.scopes if s.class_name})),
    }
    return page(
        "o_account.html",
        status,
        who=who,
        csrf_token=session.csrf_token,
        active=ACCOUNTS,
        account=target,
        state=container.accounts.account_states().get(target.user_id, ""),
        where=_where(target, {s.id: s for s in every}),
        schools=[(s.id, _school_label(s)) for s in own],
        values=values or current,
        fingerprint=scopes_fingerprint(target.scopes),
        errors=errors or {},
        notice=notice,
        trail=admin_trail.entries(
            container.engine, admin_log.concerned(who), subject_id=target.user_id, limit=20
        ),
        trail_columns=admin_trail.COLUMNS,
        brins={s.id: s.brin for s in every},
    )


UserPath = Annotated[str, Path(max_length=36)]


@router.get(f"{ACCOUNTS}/{{user_id}}", response_class=HTMLResponse)
def account_page(user_id: UserPath, request: Request, container: ContainerDep) -> Response:
    opened = _open(request, container, beheer_only=False)
    if not isinstance(opened, SessionUser):
        return opened
    found = _managed(container, opened, user_id)
    if not isinstance(found, Account):
        return found
    return _account_page(container, opened, found)


@router.post(f"{ACCOUNTS}/{{user_id}}", response_class=HTMLResponse)
def change_account(
    user_id: UserPath,
    request: Request,
    container: ContainerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    school: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies the default
    classes: Text = "",
    was: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    opened = _open(request, container, beheer_only=False)
    if not isinstance(opened, SessionUser):
        return opened
    if refused := _csrf_refused(opened, csrf_token):
        return refused
    found = _managed(container, opened, user_id)
    if not isinstance(found, Account):
        return found
    who, target = opened.principal, found.principal
    values: dict[str, object] = {"school": school, "classes": classes}
    own = {s.id for s in container.register.schools()}
    if who.role is not Role.BEHEER:
        own &= who.school_ids
    scopes, errors = _scopes(who, target.role, list(dict.fromkeys(school)), classes, own)
    errors.pop("role", None)
    if not may_manage(who, target.role, {s.school_id for s in scopes}) and "school" not in errors:
        errors["school"] = "kies alleen uw eigen school"
    if errors:
        return _account_page(container, opened, found, status=422, values=values, errors=errors)
    try:
        container.accounts.set_scopes(target.user_id, scopes, expected=was, actor=_actor(who))
    except AccountError as error:
        if error.code != "account_changed":
            field = _FIELD_OF_ERROR.get(error.code, "school")
            return _account_page(
                container, opened, found, status=422, values=values, errors={field: error.message}
            )
        fresh = container.accounts.accounts(target.user_id)
        return _account_page(
            container,
            opened,
            fresh[0] if fresh else found,
            status=409,
            notice="Dit account is intussen gewijzigd. Hieronder staat de nieuwe stand; "
            "pas die zo nodig opnieuw aan.",
        )
    log.info("account %s: schools and classes changed by %s", target.user_id, who.user_id)
    return RedirectResponse(f"{ACCOUNTS}?melding=gewijzigd&account={target.user_id}", 303)
