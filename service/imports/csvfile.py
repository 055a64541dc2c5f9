"""Reading a school administration's or a test provider's CSV export.

Exports from ParnasSys, ESIS, Magister and the providers' portals differ in separator (`;` in a
Dutch Excel, `,` or tab elsewhere), encoding (UTF-8 with or without BOM, or Windows-1252) and
column names. The file is read as it is: the separator is sniffed from the header line, the
encoding tried in that order, and every field of an import has a list of header names it is known
by; `veld=Kolom` on the command line maps a column of any other name. Line numbers are the file's
own (the header is line 1), so a report points at the line a spreadsheet shows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ENCODINGS = ("utf-8-sig", "cp1252")
SEPARATORS = ";,\t"


class ImportFileError(Exception):
    """The file as a whole cannot be read (one line for the command line, exit code 2)."""


@dataclass(frozen=True)
class Field:
    name: str  # the import's own field name, used in `veld=Kolom`
    known_as: tuple[str, ...]  # header names it is found under (compared without case/spaces)
    required: bool = False


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # field name -> stripped value ("" when empty or not in the file)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"regel {self.line}{where}: {self.message}"


def _key(header: str) -> str:
    return re.sub(r"[\s_\-./()]+", "", header).casefold()


def parse_mapping(pairs: Sequence[str], fields: Sequence[Field]) -> dict[str, str]:
    """`veld=Kolom` pairs from the command line, checked against the import's fields."""
    names = {f.name for f in fields}
    mapping = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not column.strip():
            raise ImportFileError(f"kolomkoppeling {pair!r}: schrijf veld=Kolomnaam")
        if name.strip() not in names:
            known = ", ".join(sorted(names))
            raise ImportFileError(f"kolomkoppeling {pair!r}: onbekend veld (velden: {known})")
        mapping[name.strip()] = column.strip()
    return mapping


def read_rows(path: Path, fields: Sequence[Field], mapping: Mapping[str, str]) -> list[Row]:
    """Every data row of the file with the import's fields; the header decides the columns."""
    text = _decode(path)
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].strip():
        raise ImportFileError(f"{path}: het bestand is leeg of heeft geen kopregel")
    separator = max(SEPARATORS, key=lines[0].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        header = next(reader)
    except csv.Error as error:
        raise ImportFileError(f"{path}: regel 1: {error}") from None
    columns = _columns(header, fields, mapping, path)
    rows = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # an empty line (spreadsheets add them at the end)
            values = {
                name: cells[index].strip() if index < len(cells) else ""
                for name, index in columns.items()
            }
            rows.append(Row(reader.line_num, values))
    except csv.Error as error:
        raise ImportFileError(f"{path}: regel {reader.line_num}: {error}") from None
    if not rows:
        raise ImportFileError(f"{path}: geen regels onder de kopregel")
    return rows


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror or error}") from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path}: geen UTF-8 of Windows-1252 tekst")  # pragma: no cover


def _columns(
    header: Sequence[str], fields: Sequence[Field], mapping: Mapping[str, str], path: Path
) -> dict[str, int]:
    position: dict[str, int] = {}
    for index, name in enumerate(header):
        position.setdefault(_key(name), index)
    columns: dict[str, int] = {}
    missing = []
    for field in fields:
        wanted = [mapping[field.name]] if field.name in mapping else [field.name, *field.known_as]
        found = next((position[_key(w)] for w in wanted if _key(w) in position), None)
        if found is not None:
            columns[field.name] = found
        elif field.name in mapping:
            column = mapping[field.name]
            raise ImportFileError(f"{path}: kolom {column!r} staat niet in de kopregel")
        elif field.required:
            missing.append(f"{field.name} (bijv. {' / '.join(field.known_as[:3])})")
    if missing:
        raise ImportFileError(
            f"{path}: kolommen ontbreken: {', '.join(missing)}; koppel ze met veld=Kolom"
        )
    return columns


def parse_date(text: str) -> date:
    """A date as exports write it: 31-08-2026, 31/08/2026, 2026-08-31 or 31-8-2026."""
    for pattern in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(f"{text!r} is geen datum (dd-mm-jjjj)")
