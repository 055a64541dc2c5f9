"""`adviestraject import …`: pupils and parents, and toets results, from CSV exports.

The import is credited to the account named with `--as` (or ADVIESTRAJECT_ACTOR): an active
intern begeleider or directie member of the schools in the file, as on the web's upload page.
Imports before this were credited to `import:<OS user>`; those events keep that actor.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from service.accounts.roles import Role
from service.audit.cli import AsOpt, acting_account
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
IMPORTERS = frozenset({Role.IB, Role.DIRECTIE})  # as the web's upload page (service/web/uploads.py)


def _run(
    description: str,
    importer: Callable[..., ImportReport],
    fields: Sequence[Field],
    column: list[str] | None,
    acting_as: str | None,
    **options: Any,
) -> None:
    """Open the database, import with a progress bar, report; exit 2 on any refusal."""
    with container() as opened:
        require_schema(opened)
        who = acting_account(opened, acting_as, IMPORTERS, "import", options.get("school"))
        try:
            mapping = parse_mapping(column or [], fields)
            with progress(description) as advance:
                report = importer(
                    opened,
                    mapping=mapping,
                    actor=who.user_id,
                    role=who.role.value,
                    allowed=who.school_ids,
                    progress=advance,
                    **options,
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


@import_app.command("pupils")
def pupils_command(
    file: FileArg,
    school: SchoolOpt = None,
    school_year: Annotated[
        str | None, typer.Option(help="Schooljaar, bijv. 2026-2027 (standaard: het huidige)")
    ] = None,
    column: ColumnOpt = None,
    dry_run: DryRunOpt = False,
    acting_as: AsOpt = None,
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
        acting_as,
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
    acting_as: AsOpt = None,
) -> None:
    """Toetsuitslagen uit een export van de toetsaanbieder; hoger dan het voorlopig advies
    betekent meteen: heroverweging nodig."""
    _run(
        "uitslagen inlezen",
        import_results,
        RESULT_FIELDS,
        column,
        acting_as,
        path=file,
        school=school,
        provider=test,
        dry_run=dry_run,
    )
