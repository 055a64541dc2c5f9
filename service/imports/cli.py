"""`adviestraject import …`: pupils and parents, and toets results, from CSV exports."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from service.clitools import container, fail, progress, require_schema
from service.imports.csvfile import Field, ImportFileError, parse_mapping
from service.imports.pupils import FIELDS as PUPIL_FIELDS
from service.imports.pupils import import_pupils
from service.imports.results import FIELDS as RESULT_FIELDS
from service.imports.results import import_results
from service.imports.running import ImportReport
from workflows.calendar import SchoolYear
from workflows.errors import DomainError

import_app = typer.Typer(
    help="CSV-bestanden inlezen: leerlingen en ouders, toetsuitslagen.", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="Het CSV-bestand (; , of tab gescheiden)")]
SchoolOpt = Annotated[
    str | None, typer.Option("--school", help="BRIN van de school, als het bestand er geen heeft")
]
ColumnOpt = Annotated[
    list[str] | None,
    typer.Option("--column", help="Koppel een veld aan een kolom: veld=Kolomnaam (herhaalbaar)"),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Alles controleren, niets opslaan")]


def _run(
    description: str,
    importer: Callable[..., ImportReport],
    fields: Sequence[Field],
    column: list[str] | None,
    **options: Any,
) -> None:
    """Open the database, import with a progress bar, report; exit 2 on any refusal."""
    with container() as opened:
        require_schema(opened)
        try:
            mapping = parse_mapping(column or [], fields)
            with progress(description) as advance:
                report = importer(
                    opened, mapping=mapping, actor=_actor(), progress=advance, **options
                )
        except ImportFileError as error:
            raise fail(str(error)) from None
    _finish(report)


def _finish(report: ImportReport) -> None:
    for error in report.errors:
        print(error, file=sys.stderr)
    if report.errors:
        raise fail(report.summary())
    print(report.summary())


def _actor() -> str:
    try:
        return f"import:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "import"


@import_app.command("pupils")
def pupils_command(
    file: FileArg,
    school: SchoolOpt = None,
    school_year: Annotated[
        str | None, typer.Option(help="Schooljaar, bijv. 2026-2027 (standaard: het huidige)")
    ] = None,
    column: ColumnOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Leerlingen (groep 7 en 8) en hun ouders uit een export van de schooladministratie."""
    try:
        year = SchoolYear.parse(school_year) if school_year else None
    except (DomainError, ValueError) as error:
        raise fail(f"--school-year: {getattr(error, 'message', error)}") from None
    _run(
        "leerlingen inlezen",
        import_pupils,
        PUPIL_FIELDS,
        column,
        path=file,
        school=school,
        school_year=year,
        dry_run=dry_run,
    )


@import_app.command("results")
def results_command(
    file: FileArg,
    school: SchoolOpt = None,
    test: Annotated[
        str | None,
        typer.Option("--test", help="Naam van de doorstroomtoets, als het bestand er geen heeft"),
    ] = None,
    column: ColumnOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Toetsuitslagen uit een export van de toetsaanbieder; hoger dan het voorlopig advies
    betekent meteen: heroverweging nodig."""
    _run(
        "uitslagen inlezen",
        import_results,
        RESULT_FIELDS,
        column,
        path=file,
        school=school,
        provider=test,
        dry_run=dry_run,
    )
