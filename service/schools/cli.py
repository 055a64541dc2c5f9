"""`adviestraject school …`: the schools and their routing in the doorstroomtoets chain."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from service.clitools import container, fail, require_schema

schools_app = typer.Typer(help="Scholen en hun ketenroutering.", no_args_is_help=True)
_ROUTE = re.compile(r"^[0-9A-Za-z]{20}$")


@schools_app.command("list")
def list_command() -> None:
    """Every school with its BRIN and chain routing."""
    with container() as opened:
        require_schema(opened)
        for school in opened.register.schools():
            route = opened.register.routing_of(school.id)
            where = f"edu-to={route[0]} edu-from={route[1]}" if route else "geen ketenroutering"
            print(f"{school.brin}  {school.name}  {where}")


@schools_app.command("routing")
def routing_command(
    brin: str,
    edu_to: Annotated[str, typer.Option(help="Routeringskenmerk van de schooladministratie")],
    oin: Annotated[str, typer.Option(help="OIN van de school (edu-from)")],
) -> None:
    """Set where test providers address the school's results (20 letters and digits each)."""
    for name, value in (("--edu-to", edu_to), ("--oin", oin)):
        if not _ROUTE.match(value):
            raise fail(f"{name} takes 20 letters and digits, got {value!r}")
    with container() as opened:
        require_schema(opened)
        by_brin = {s.brin.upper(): s for s in opened.register.schools()}
        school = by_brin.get(brin.upper())
        if school is None:
            raise fail(f"unknown school (BRIN): {brin}")
        taken = opened.register.school_by_route(edu_to)
        if taken is not None and taken[0].id != school.id:
            raise fail(f"edu-to {edu_to} belongs to {taken[0].brin} already")
        opened.register.set_routing(school.id, edu_to, oin)
    print(f"{school.brin}: edu-to={edu_to} edu-from={oin}")
