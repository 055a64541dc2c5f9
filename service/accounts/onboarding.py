"""A real school starts: beheer adds the school (its BRIN and, when known, its codes in the
doorstroomtoets chain) and invites its people; directie invites its own teachers and IB.

`check_school` says what is wrong with every field at once, in Dutch, so that a form can show
each message beside its field and the command line can print them on one line. `add_school`
writes the school in one transaction: a school is there with all it was given, or not at all.

Who manages which accounts (`may_manage`):
- beheer: every account, except that it sets no password for anyone (the website invites);
- directie: the leerkrachten and intern begeleiders of its own school(s), nothing else. It
  already sees every pupil of the school, so inviting a colleague gives it no access it did not
  have, and a new teacher does not wait for the board's IT. It may not make a directie, bestuur
  or beheer account, nor touch an account that also works at another school.
Every other role manages no accounts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select

from service.accounts.roles import Principal, Role
from service.schools.register import School
from service.store.schema import schools
from service.trail import Actor, write

BRIN = re.compile(r"^[0-9]{2}[A-Z]{2}$")
ROUTE = re.compile(r"^[0-9A-Za-z]{20}$")
# The standard's Deelnemersgroep (doorstroomtoetsketen v1.1.0): each code's form, and in Dutch.
CHAIN_CODES: dict[str, tuple[re.Pattern[str], str]] = {
    "vestigingscode": (re.compile(r"^[0-9]{2}$"), "2 cijfers, bijv. 00"),
    "onderwijsaanbiedercode": (
        re.compile(r"^[0-9]{3}A[0-9]{3}$"),
        "3 cijfers, de letter A en 3 cijfers, bijv. 123A123",
    ),
    "onderwijslocatiecode": (
        re.compile(r"^[0-9]{3}X[0-9]{3}$"),
        "3 cijfers, de letter X en 3 cijfers, bijv. 123X123",
    ),
    "administratienr": (re.compile(r"^[0-9]{2}$"), "2 cijfers, bijv. 01"),
}
MAX_NAME = 200
STAFF_ROLES = frozenset({Role.LEERKRACHT, Role.IB})  # what directie may invite


class SchoolInputError(Exception):
    """What is wrong, per field (Dutch); nothing was stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class NewSchool:
    brin: str
    name: str
    codes: dict[str, str] = field(default_factory=dict)  # only the codes given
    provider_url: str | None = None
    edu_route: str | None = None
    oin: str | None = None


def _given(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def check_school(
    brin: str,
    name: str,
    codes: dict[str, str | None] | None = None,
    provider_url: str | None = None,
    edu_route: str | None = None,
    oin: str | None = None,
) -> NewSchool:
    """The school as it will be stored, or a `SchoolInputError` naming every wrong field.
    A chain code, the provider's URL and the routing may each be left out and set later
    (`adviestraject school chain` / `school routing`)."""
    errors: dict[str, str] = {}
    brin = brin.strip().upper()
    if not BRIN.match(brin):
        errors["brin"] = "een BRIN-nummer is 2 cijfers en 2 letters, bijv. 12AB"
    name = " ".join(name.split())
    if not name:
        errors["name"] = "geef de naam van de school"
    elif len(name) > MAX_NAME:
        errors["name"] = f"de naam heeft hoogstens {MAX_NAME} tekens"
    given: dict[str, str] = {}
    for code, typed in (codes or {}).items():
        value = _given(typed)
        if value is None:
            continue
        pattern, form = CHAIN_CODES[code]
        if not pattern.match(value.upper()):
            errors[code] = f"de {code} is {form}"
        given[code] = value.upper()
    url = _given(provider_url)
    if url is not None and (not url.startswith(("https://", "http://")) or len(url) > 500):
        errors["provider_url"] = "geef het adres van de keten-API als https://…"
    route, school_oin = _given(edu_route), _given(oin)
    for key, value in (("edu_route", route), ("oin", school_oin)):
        if value is not None and not ROUTE.match(value):
            errors[key] = "20 letters en cijfers"
    if (route is None) != (school_oin is None):
        missing = "oin" if school_oin is None else "edu_route"
        errors.setdefault(missing, "geef het routeringskenmerk (edu-to) en de OIN samen")
    if errors:
        raise SchoolInputError(errors)
    return NewSchool(brin, name, given, url, route, school_oin)


def add_school(
    engine: Engine, new: NewSchool, *, actor: Actor | None = None, at: datetime | None = None
) -> School:
    """The school, in one transaction (with its administration trail row when added for an
    `actor`); refused when its BRIN or routing is taken."""
    school = School(id=str(uuid.uuid4()), brin=new.brin, name=new.name)
    with engine.begin() as conn:
        taken = conn.execute(
            select(schools.c.name).where(func.upper(schools.c.brin) == new.brin)
        ).first()
        if taken is not None:
            raise SchoolInputError({"brin": f"BRIN {new.brin} is al van {taken.name}"})
        if new.edu_route is not None:
            routed = conn.execute(
                select(schools.c.brin).where(schools.c.edu_route == new.edu_route)
            ).first()
            if routed is not None:
                raise SchoolInputError(
                    {"edu_route": f"dit routeringskenmerk hoort al bij {routed.brin}"}
                )
        conn.execute(
            insert(schools).values(
                id=school.id,
                brin=school.brin,
                name=school.name,
                edu_route=new.edu_route,
                oin=new.oin,
                provider_url=new.provider_url,
                **new.codes,
            )
        )
        if actor is not None:
            given = {"naam": school.name, **new.codes, "provider": new.provider_url}
            given |= {"edu-to": new.edu_route, "edu-from": new.oin}
            after = {key: value for key, value in given.items() if value}
            subject = f"{school.brin} {school.name}"
            at = at or datetime.now(UTC)
            write(
                conn,
                actor,
                "school.added",
                at,
                subject_id=school.id,
                subject=subject,
                schools=[school.id],
                after=after,
            )
    return school


def may_manage(who: Principal, role: Role, school_ids: Iterable[str]) -> bool:
    """Whether `who` may invite, disable, enable or reset an account of `role` at these schools."""
    if who.role is Role.BEHEER:
        return True
    if who.role is Role.DIRECTIE:
        wanted = set(school_ids)
        return role in STAFF_ROLES and bool(wanted) and wanted <= who.school_ids
    return False


def manages_accounts(who: Principal) -> bool:
    return who.role in (Role.BEHEER, Role.DIRECTIE)
