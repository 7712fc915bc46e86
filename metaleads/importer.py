"""Lead import from a CSV or Excel file: read the table, then apply the same rules as Meta leads.

Rows go through ``lead_intake`` (duplicates by phone merge, round-robin assignment); a bad row is
reported with its line number in the file and never stops the others.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm.models import LeadSource

from .intake import import_form, lead_intake
from .mapping import MappedLead, phone_e164
from .models import MetaForm

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024


class ImportFileError(ValueError):
    """The file cannot be read as a table (shown to the user)."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]  # data rows; file line = index + 2


@dataclass
class ImportReport:
    created: int = 0
    merged: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores phone numbers as floats
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise ImportFileError("This is not an Excel (.xlsx) file we can read") from exc
    sheet = book.worksheets[0]
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1)]
    book.close()
    return rows


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[_cell(v) for v in row] for row in itertools.islice(csv.reader(io.StringIO(text), dialect), MAX_ROWS + 1)]


def table_read(*, name: str, data: bytes) -> Table:
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB")
    rows = _read_xlsx(data) if name.lower().endswith((".xlsx", ".xlsm")) else _read_csv(data)
    if not rows or not any(rows[0]):
        raise ImportFileError("The file is empty or has no header row")
    if len(rows) > MAX_ROWS + 1:
        raise ImportFileError(f"At most {MAX_ROWS} rows per file")
    return Table(headers=rows[0], rows=rows[1:])


def _email_ok(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def leads_import(*, table: Table, columns: dict[str, int | None], source: str, form: MetaForm | None) -> ImportReport:
    """Create or merge one lead per row. ``columns`` maps name/phone/email/city to a column index."""
    report = ImportReport()
    form = form or import_form()
    source = source if source in LeadSource.values else LeadSource.CSV_IMPORT

    def value(row: list[str], key: str) -> str:
        index = columns.get(key)
        return row[index] if index is not None and index < len(row) else ""

    for offset, row in enumerate(table.rows):
        line = offset + 2
        if not any(row):
            continue
        name, raw_phone = value(row, "name"), value(row, "phone")
        if not name or not raw_phone:
            report.bad.append((line, "name and phone are required"))
            continue
        phone, valid = phone_e164(raw_phone)
        if not valid:
            report.bad.append((line, f"{raw_phone!r} is not a valid phone number"))
            continue
        email = value(row, "email")
        if email and not _email_ok(email):
            report.bad.append((line, f"{email!r} is not a valid email address"))
            continue
        answers = {h or f"column_{i + 1}": (row[i] if i < len(row) else "") for i, h in enumerate(table.headers)}
        mapped = MappedLead(
            name=name[:160],
            phone=phone,
            phone_valid=True,
            email=email[:254],
            city=value(row, "city")[:80],
            source=source,
            answers=answers,
        )
        result = lead_intake(mapped=mapped, form=form, actor_label="Import")
        if result.created:
            report.created += 1
        else:
            report.merged += 1
    return report
