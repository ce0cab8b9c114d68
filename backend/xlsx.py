"""Writing Excel workbooks the same way everywhere: the content type, a styled header row, safe cells."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2F6B3A")
# What an export route declares it answers (``@bp.doc(responses=XLSX_RESPONSES)``).
XLSX_RESPONSES = {200: {"description": "Excel 工作簿", "content": {XLSX_TYPE: {}}}}


def workbook_response(data: bytes, fallback: str, name: str) -> Response:
    """A workbook as a download named ``name`` (UTF-8), ``fallback`` for clients without RFC 5987; never cached."""
    return Response(data, mimetype=XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename={fallback}; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


def append_row(sheet: Worksheet, values: list[Any]) -> None:
    """Add a row, without the control characters Excel cannot hold.

    The API refuses them on input (backend/fields.py), but rows stored before that, some inside immutable
    amendments, still carry them; an export must not fail for ever because of one.
    """
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in values])


def header_row(sheet: Worksheet, columns: list[tuple[str, int]]) -> None:
    """The first row of a write-only sheet: bold titles on green, column widths, frozen below."""
    cells = []
    for index, (title, width) in enumerate(columns):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cells.append(cell)
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(cells)
