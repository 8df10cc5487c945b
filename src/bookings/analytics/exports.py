"""Query results as real files and as a terminal table: CSV, JSON, Excel, Parquet (by the engine).

Every writer takes ``Rows`` (a result fetched from DuckDB) or an Arrow table (the report's KPI
tables). Times are UTC everywhere: the lake stores UTC, CSV and JSON write ISO 8601 with the
offset, and Excel (which has no time zones) gets the UTC wall time with "(UTC)" in the header.

``kpis.xlsx`` is written for reading, not only for loading: rates as percentages, counts with
thousands separators, other numbers with two decimals, bold headers with filters, widths that fit
the values, an index of the sheets with each KPI's full name, and the definitions of
``sql/views``' headers (the same text as docs/kpis.md).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bookings.analytics.engine import Rows

if TYPE_CHECKING:
    import pyarrow as pa
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from bookings.analytics.sql_files import SqlEntry

EXCEL_SHEET_NAME_LIMIT = 31
EXCEL_MAX_COLUMN_WIDTH = 60
INDEX_SHEET = "index"
DEFINITIONS_SHEET = "definitions"
# Columns shown as percentages: rates, shares, probabilities and changes (relative changes of
# volumes, differences of rates in points).
_PERCENT_COLUMN = re.compile(r"(_rate|_share|_change|^share_of_.*|probability.*)$")


def as_rows(table: Rows | pa.Table) -> Rows:
    return table if isinstance(table, Rows) else Rows.from_arrow(table)


# --- text values ------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return value


def rows_as_json(table: Rows | pa.Table) -> list[dict[str, Any]]:
    rows = as_rows(table)
    return [
        {column: _json_value(value) for column, value in zip(rows.columns, row, strict=True)}
        for row in rows.rows
    ]


def to_json(table: Rows | pa.Table) -> str:
    return json.dumps(rows_as_json(table), ensure_ascii=False, indent=1)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):  # as Athena's CSV results write them
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, list | dict):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return _json_value(value)


def _write_csv(rows: Rows, handle: Any) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(rows.columns)
    writer.writerows([_csv_value(v) for v in row] for row in rows.rows)


def csv_text(table: Rows | pa.Table) -> str:
    sink = io.StringIO()
    _write_csv(as_rows(table), sink)
    return sink.getvalue()


def write_csv(table: Rows | pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        _write_csv(as_rows(table), handle)


def format_number(value: float) -> str:
    """A float for reading: fixed point with up to six decimals, never an exponent for the
    magnitudes of booking data (``1796301224.5``, ``0.152692``, ``0.000012``)."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-9:
        return f"{value:.6g}"
    decimals = 6 if magnitude >= 1e-3 else 6 - math.floor(math.log10(magnitude)) - 3
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, Decimal):
        return format_number(float(value)) if value != value.to_integral_value() else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, list | dict):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def _is_number(type_name: str) -> bool:
    base = type_name.split("(")[0]
    return base in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
    }


def format_table(table: Rows | pa.Table, max_rows: int = 200) -> str:
    """A plain-text table for the terminal: numbers right-aligned, floats in fixed point."""
    rows = as_rows(table)
    cells = [[_cell(v) for v in row] for row in rows.rows[:max_rows]]
    widths = [
        max([len(column)] + [len(row[i]) for row in cells]) for i, column in enumerate(rows.columns)
    ]
    numeric = [_is_number(t) for t in rows.types] or [False] * len(rows.columns)

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [line(rows.columns), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in cells]
    if rows.num_rows > max_rows:
        lines.append(f"... {rows.num_rows - max_rows} more rows")
    lines.append(f"({rows.num_rows} row{'s' if rows.num_rows != 1 else ''})")
    return "\n".join(lines)


# --- Excel ------------------------------------------------------------------------------------


def sheet_names(names: list[str]) -> dict[str, str]:
    """Unique Excel sheet names (at most 31 characters) for the given table names: the name
    itself when it fits, else without its ``_by`` (``completion_departure_hour_band``), else
    cut, with ``~2``, ``~3`` ... when two would be the same."""
    reserved = {INDEX_SHEET, DEFINITIONS_SHEET}
    result: dict[str, str] = {}
    used: set[str] = set(reserved)
    for name in names:
        short = name if len(name) <= EXCEL_SHEET_NAME_LIMIT else name.replace("_by_", "_")
        candidate = short[:EXCEL_SHEET_NAME_LIMIT]
        counter = 2
        while candidate.lower() in used:
            suffix = f"~{counter}"
            candidate = short[: EXCEL_SHEET_NAME_LIMIT - len(suffix)] + suffix
            counter += 1
        used.add(candidate.lower())
        result[name] = candidate
    return result


class _Styles:
    """The workbook's named styles: header, percentage, count, decimal, date, UTC time."""

    def __init__(self, book: Any) -> None:
        from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill

        def style(name: str, number_format: str = "General", **extra: Any) -> NamedStyle:
            named = NamedStyle(name=name, number_format=number_format, **extra)
            book.add_named_style(named)
            return named

        self.header = style(
            "kpi_header",
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="DDE4EE"),
            alignment=Alignment(vertical="top"),
        )
        self.percent = style("kpi_percent", "0.0%")
        self.change = style("kpi_change", "+0.0%;-0.0%;0.0%")
        self.count = style("kpi_count", "#,##0")
        self.decimal = style("kpi_decimal", "#,##0.00")
        self.day = style("kpi_date", "yyyy-mm-dd")
        self.time = style("kpi_time", "yyyy-mm-dd hh:mm:ss")
        self.wrap = style("kpi_wrap", alignment=Alignment(wrap_text=True, vertical="top"))


def _column_style(name: str, type_name: str, styles: _Styles) -> Any:
    base = type_name.split("(")[0]
    if base in {"DOUBLE", "FLOAT", "DECIMAL"} and _PERCENT_COLUMN.search(name):
        return styles.change if name.endswith("_change") else styles.percent
    if base in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"}:
        return styles.count if not name.endswith(("year", "_start", "wanted")) else None
    if base in {"DOUBLE", "FLOAT", "DECIMAL"}:
        return styles.decimal
    if base == "DATE":
        return styles.day
    if base.startswith("TIMESTAMP"):
        return styles.time
    return None


def _header(name: str, type_name: str) -> str:
    return f"{name} (UTC)" if type_name.startswith("TIMESTAMP") else name


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: the UTC wall time (the header says UTC).
        from datetime import UTC

        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | dict):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return value


def _display_width(value: Any, style: Any, styles: _Styles) -> int:
    if value is None:
        return 0
    if style is styles.percent or style is styles.change:
        return 8
    if style is styles.time:
        return 19
    if style is styles.day:
        return 10
    if isinstance(value, int | float | Decimal):
        return len(f"{value:,.2f}") if style is styles.decimal else len(f"{value:,}")
    return len(str(value))


def _write_sheet(sheet: WriteOnlyWorksheet, rows: Rows, styles: _Styles) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    headers = [_header(c, t) for c, t in zip(rows.columns, rows.types, strict=True)]
    column_styles = [
        _column_style(c, t, styles) for c, t in zip(rows.columns, rows.types, strict=True)
    ]
    widths = [len(h) + 2 for h in headers]
    for row in rows.rows[:1000]:
        for index, value in enumerate(row):
            widths[index] = max(
                widths[index], _display_width(value, column_styles[index], styles) + 2
            )
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width, EXCEL_MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    if rows.columns:
        last = get_column_letter(len(rows.columns))
        sheet.auto_filter.ref = f"A1:{last}{rows.num_rows + 1}"
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.style = styles.header.name
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows.rows:
        cells: list[Any] = []
        for value, style in zip(row, column_styles, strict=True):
            converted = _excel_value(value)
            if style is None or converted is None:
                cells.append(converted)
                continue
            cell = WriteOnlyCell(sheet, value=converted)
            cell.style = style.name
            cells.append(cell)
        sheet.append(cells)


def _write_text_sheet(
    sheet: WriteOnlyWorksheet,
    header: Sequence[str],
    lines: Iterable[Sequence[Any]],
    widths: Sequence[int],
    styles: _Styles,
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.style = styles.header.name
        cells.append(cell)
    sheet.append(cells)
    for values in lines:
        row = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and len(value) > 40:
                cell.style = styles.wrap.name
            row.append(cell)
        sheet.append(row)


CONVENTIONS = (
    "Rates (columns ending in _rate or _share) are shown as percentages; changes (_change) too: "
    "relative changes of volumes, and differences of rates in points.",
    "Counts have thousands separators; other numbers two decimals (the cell keeps every digit).",
    "Times are UTC (the columns marked (UTC)); months and dates of ingests are UTC dates.",
    "Duplicates are excluded from every booking KPI; completion rates count only bookings with "
    "an outcome (live bookings have none yet).",
)


def write_workbook(
    tables: Mapping[str, Rows | pa.Table],
    path: Path,
    *,
    definitions: Mapping[str, SqlEntry] | None = None,
) -> dict[str, str]:
    """One sheet per table (header in the first row), preceded by an index of the sheets and,
    when ``definitions`` gives each table's SQL file, a sheet of the KPIs' definitions;
    returns table name -> sheet name."""
    from openpyxl import Workbook

    names = sheet_names(list(tables))
    book = Workbook(write_only=True)
    styles = _Styles(book)
    index = book.create_sheet(title=INDEX_SHEET)
    if definitions:
        definition_sheet = book.create_sheet(title=DEFINITIONS_SHEET)
    index_lines = []
    for name, table in tables.items():
        rows = as_rows(table)
        entry = (definitions or {}).get(name)
        title = entry.title if entry is not None else name
        index_lines.append([names[name], name, title, rows.num_rows])
        _write_sheet(book.create_sheet(title=names[name]), rows, styles)
    _write_text_sheet(
        index,
        ("sheet", "table (full name)", "title", "rows"),
        index_lines,
        (32, 36, 48, 10),
        styles,
    )
    if definitions:
        lines: list[Sequence[Any]] = [("conventions", "", text, "") for text in CONVENTIONS]
        for name in tables:
            entry = definitions.get(name)
            if entry is None:
                continue
            lines.append(
                (
                    names[name],
                    entry.title,
                    entry.meta.get("definition", ""),
                    entry.meta.get("order", ""),
                )
            )
        _write_text_sheet(
            definition_sheet,
            ("sheet", "KPI", "definition (sql/views header, as docs/kpis.md)", "order"),
            lines,
            (32, 40, 100, 30),
            styles,
        )
    book.save(path)
    return names
