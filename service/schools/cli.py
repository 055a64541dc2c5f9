"""`adviestraject school …`: the schools and their routing in the doorstroomtoets chain.

Adding a school and setting its routing or chain data are done for a beheer account named with
`--as` (or ADVIESTRAJECT_ACTOR) and go into the administration trail, as `user …` does
(`service/accounts/cli.py`: `acting_admin`, and its exception for a fresh installation), in the
change's own transaction.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import typer

from service.accounts.cli import acting_admin
from service.accounts.onboarding import CHAIN_CODES, SchoolInputError, add_school, check_school
from service.accounts.roles import Role
from service.audit.cli import AsOpt, acting_account, record_cli_reads
from service.bootstrap import Container
from service.chain.messages import (
    ADVICE_PATH,
    REGISTER_PATH,
    ChainSchool,
    InvalidMessageError,
    advice_list,
    chain_pupils,
    chain_school,
    participants_list,
)
from service.chain.sending import ChainRefusedError, ChainUnavailableError, send
from service.clitools import container, fail, require_schema
from service.schools.register import School
from workflows.calendar import SchoolYear
from workflows.errors import DomainError

schools_app = typer.Typer(help="Scholen en hun ketenroutering.", no_args_is_help=True)
_ROUTE = re.compile(r"^[0-9A-Za-z]{20}$")


@schools_app.command("list")
def list_command() -> None:
    """Every school: BRIN, id (for the API), name and chain routing."""
    with container() as opened:
        require_schema(opened)
        for school in opened.register.schools():
            route = opened.register.routing_of(school.id)
            where = f"edu-to={route[0]} edu-from={route[1]}" if route else "geen ketenroutering"
            print(f"{school.brin}  {school.id}  {school.name}  {where}")


_FLAGS = {
    "brin": "BRIN",
    "name": "NAME",
    "provider_url": "--provider-url",
    "edu_route": "--edu-to",
    "oin": "--oin",
}
CodeOpt = Annotated[str | None, typer.Option(help="Zie 'school chain'")]


@schools_app.command("add")
def add_command(
    brin: Annotated[str, typer.Argument(help="BRIN-nummer: 2 cijfers en 2 letters, bijv. 12AB")],
    name: Annotated[str, typer.Argument(help='Naam van de school, bijv. "OBS De Regenboog"')],
    vestigingscode: Annotated[
        str | None, typer.Option(help="Vestigingscode (2 cijfers), bijv. 00")
    ] = None,
    onderwijsaanbiedercode: Annotated[
        str | None, typer.Option(help="OnderwijsaanbiederID uit RIO, bijv. 123A123")
    ] = None,
    onderwijslocatiecode: Annotated[
        str | None, typer.Option(help="Onderwijslocatiecode uit RIO, bijv. 123X123")
    ] = None,
    administratienr: Annotated[
        str | None, typer.Option(help="Administratienummer in het LAS (2 cijfers)")
    ] = None,
    provider_url: Annotated[
        str | None, typer.Option(help="Basis-URL van de keten-API van de toetsaanbieder")
    ] = None,
    edu_to: Annotated[
        str | None, typer.Option(help="Routeringskenmerk van de schooladministratie (20 tekens)")
    ] = None,
    oin: Annotated[str | None, typer.Option(help="OIN van de school (edu-from, 20 tekens)")] = None,
    acting_as: AsOpt = None,
) -> None:
    """Add a school; its chain codes now or later ('school chain', 'school routing')."""
    codes = {
        "vestigingscode": vestigingscode,
        "onderwijsaanbiedercode": onderwijsaanbiedercode,
        "onderwijslocatiecode": onderwijslocatiecode,
        "administratienr": administratienr,
    }
    try:
        new = check_school(brin, name, codes, provider_url, edu_to, oin)
    except SchoolInputError as error:
        raise fail(_one_line(error)) from None
    with container() as opened:
        require_schema(opened)
        actor = acting_admin(opened, acting_as, "add schools")
        try:
            school = add_school(opened.engine, new, actor=actor, at=opened.clock())
        except SchoolInputError as error:
            raise fail(_one_line(error)) from None
    print(f"school {school.brin} added: {school.name}, id {school.id}")


def _one_line(error: SchoolInputError) -> str:
    return "; ".join(
        f"{_FLAGS.get(name, '--' + name)}: {text}" for name, text in error.errors.items()
    )


@schools_app.command("routing")
def routing_command(
    brin: str,
    edu_to: Annotated[str, typer.Option(help="Routeringskenmerk van de schooladministratie")],
    oin: Annotated[str, typer.Option(help="OIN van de school (edu-from)")],
    acting_as: AsOpt = None,
) -> None:
    """Set where test providers address the school's results (20 letters and digits each)."""
    for name, value in (("--edu-to", edu_to), ("--oin", oin)):
        if not _ROUTE.match(value):
            raise fail(f"{name} takes 20 letters and digits, got {value!r}")
    with container() as opened:
        require_schema(opened)
        actor = acting_admin(opened, acting_as, "set a school's routing")
        school = _school(opened, brin)
        taken = opened.register.school_by_route(edu_to)
        if taken is not None and taken[0].id != school.id:
            raise fail(f"edu-to {edu_to} belongs to {taken[0].brin} already")
        opened.register.set_routing(school.id, edu_to, oin, actor=actor, at=opened.clock())
    print(f"{school.brin}: edu-to={edu_to} edu-from={oin}")


@schools_app.command("chain")
def chain_command(
    brin: str,
    vestigingscode: Annotated[str, typer.Option(help="Vestigingscode (2 cijfers), bijv. 00")],
    onderwijsaanbiedercode: Annotated[str, typer.Option(help="OnderwijsaanbiederID uit RIO")],
    onderwijslocatiecode: Annotated[str, typer.Option(help="Onderwijslocatiecode uit RIO")],
    administratienr: Annotated[str, typer.Option(help="Administratienummer in het LAS")],
    provider_url: Annotated[
        str, typer.Option(help="Basis-URL van de keten-API van de toetsaanbieder")
    ],
    acting_as: AsOpt = None,
) -> None:
    """Set the school's identity in the chain and where its test provider receives messages."""
    codes = {
        "vestigingscode": vestigingscode,
        "onderwijsaanbiedercode": onderwijsaanbiedercode,
        "onderwijslocatiecode": onderwijslocatiecode,
        "administratienr": administratienr,
    }
    problems = {  # the same forms as 'school add': the standard's Deelnemersgroep
        name: f"de {name} is {CHAIN_CODES[name][1]}"
        for name, value in codes.items()
        if not CHAIN_CODES[name][0].match(value.upper())
    }
    if not provider_url.startswith(("https://", "http://")) or len(provider_url) > 500:
        problems["provider_url"] = "geef het adres van de keten-API als https://…"
    if problems:
        raise fail(_one_line(SchoolInputError(problems)))
    with container() as opened:
        require_schema(opened)
        actor = acting_admin(opened, acting_as, "set a school's chain data")
        school = _school(opened, brin)
        upper = {name: value.upper() for name, value in codes.items()}
        opened.register.set_chain_codes(
            school.id, upper, provider_url, actor=actor, at=opened.clock()
        )
    print(f"{school.brin}: keten naar {provider_url}")


SchoolYearOpt = Annotated[
    str | None, typer.Option(help="Schooljaar, bijv. 2026-2027 (standaard: het huidige)")
]
PrintOpt = Annotated[
    bool, typer.Option("--print", help="Het bericht tonen in plaats van versturen")
]
# who may send (or --print) a school's pupils to its test provider: the school's staff, named with
# --as; the pupils sent or shown go into the access log (service/audit/cli.py)
SENDERS = frozenset({Role.IB, Role.DIRECTIE})


@schools_app.command("send-participants")
def send_participants_command(
    brin: str, school_year: SchoolYearOpt = None, show: PrintOpt = False, acting_as: AsOpt = None
) -> None:
    """Send the Deelnemerslijst (the groep 8 pupils) to the school's test provider."""
    with container() as opened:
        require_schema(opened)
        who = acting_account(opened, acting_as, SENDERS, "send or print the school's pupils", brin)
        school, year = _chain_school(opened, brin, school_year)
        found = chain_pupils(opened.engine, school.id, year)
        what = "deelnemerslijst " + ("getoond" if show else "verstuurd")
        record_cli_reads(opened, who, [p.id for p in found], what)
        try:
            message, left_out = participants_list(school, found, year, opened.clock())
        except InvalidMessageError as error:
            raise fail(str(error)) from None
        for pupil, reason in left_out:
            print(f"niet verstuurd: {pupil.given_name} {pupil.family_name}: {reason}")
        if message is None:
            raise fail(f"{school.brin}: geen leerlingen om te versturen in {year}")
        _deliver(opened, school, REGISTER_PATH, message, show)
        count = len(message["deelnemers"])
        print(f"{school.brin}: Deelnemerslijst met {count} leerling{'en' if count != 1 else ''}")


@schools_app.command("send-advice")
def send_advice_command(
    brin: str, school_year: SchoolYearOpt = None, show: PrintOpt = False, acting_as: AsOpt = None
) -> None:
    """Send every voorlopig advies (Schooladviezenlijst) to the school's test provider."""
    with container() as opened:
        require_schema(opened)
        who = acting_account(opened, acting_as, SENDERS, "send or print the school's pupils", brin)
        school, year = _chain_school(opened, brin, school_year)
        found = chain_pupils(opened.engine, school.id, year)
        what = "schooladviezenlijst " + ("getoond" if show else "verstuurd")
        record_cli_reads(opened, who, [p.id for p in found if p.provisional_advice], what)
        try:
            message = advice_list(school, found, year, opened.clock())
        except InvalidMessageError as error:
            raise fail(str(error)) from None
        if message is None:
            raise fail(f"{school.brin}: nog geen voorlopige adviezen in {year}")
        _deliver(opened, school, ADVICE_PATH, message, show)
        count = len(message["voorlopigSchooladviezen"])
        print(f"{school.brin}: Schooladviezenlijst met {count} advie{'zen' if count != 1 else 's'}")


def _school(opened: Container, brin: str) -> School:
    school = {s.brin.upper(): s for s in opened.register.schools()}.get(brin.upper())
    if school is None:
        raise fail(f"unknown school (BRIN): {brin}")
    return school


def _chain_school(opened: Container, brin: str, school_year: str | None) -> tuple[ChainSchool, str]:
    try:
        year = SchoolYear.parse(school_year) if school_year else None
    except (DomainError, ValueError) as error:
        raise fail(f"--school-year: {getattr(error, 'message', error)}") from None
    found = chain_school(opened.engine, _school(opened, brin).id)
    if found is None:  # pragma: no cover - _school found it a moment ago
        raise fail(f"unknown school (BRIN): {brin}")
    return found, str(year or SchoolYear.containing(opened.clock().date()))


def _deliver(
    opened: Container, school: ChainSchool, path: str, message: dict[str, Any], show: bool
) -> None:
    if show:
        print(json.dumps(message, indent=2, ensure_ascii=False))
        return
    try:
        melding = send(
            school,
            path,
            message,
            token=opened.settings.chain_token,
            timeout=opened.settings.chain_timeout,
        )
    except (ChainRefusedError, ChainUnavailableError) as error:
        raise fail(str(error)) from None
    print(f"ontvangen: {melding.get('melding', '202')}")
