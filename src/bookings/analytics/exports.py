"""Writes query results as CSV, JSON, a terminal table or an Excel workbook (one sheet each)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

EXCEL_SHEET_NAME_LIMIT = 31


def write_csv(table: pa.Table, path: Path) -> None:
    options = pacsv.WriteOptions(quoting_style="needed")
    pacsv.write_csv(table, path, write_options=options)


def csv_text(table: pa.Table) -> str:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().decode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rows_as_json(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]


def to_json(table: pa.Table) -> str:
    return json.dumps(rows_as_json(table), ensure_ascii=False, indent=1)


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: every timestamp of the lake is UTC.
        return value.replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def sheet_names(names: list[str]) -> dict[str, str]:
    """Unique Excel sheet names (at most 31 characters) for the given table names."""
    result: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        candidate = name[:EXCEL_SHEET_NAME_LIMIT]
        counter = 2
        while candidate.lower() in used:
            suffix = f"~{counter}"
            candidate = name[: EXCEL_SHEET_NAME_LIMIT - len(suffix)] + suffix
            counter += 1
        used.add(candidate.lower())
        result[name] = candidate
    return result


def write_workbook(tables: Mapping[str, pa.Table], path: Path) -> dict[str, str]:
    """One sheet per table, header in the first row; returns table name -> sheet name."""
    names = sheet_names(list(tables))
    book = Workbook(write_only=True)
    for name, table in tables.items():
        sheet = book.create_sheet(title=names[name])
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.column_names, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column) + 2)
        sheet.append(table.column_names)
        for row in table.to_pylist():
            sheet.append([_excel_value(row[c]) for c in table.column_names])
    book.save(path)
    return names


def format_table(table: pa.Table, max_rows: int = 200) -> str:
    """A plain-text table for the terminal."""
    columns = table.column_names
    rows = [
        ["" if v is None else _cell(v) for v in (row[c] for c in columns)]
        for row in table.slice(0, max_rows).to_pylist()
    ]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    if table.num_rows > max_rows:
        lines.append(f"... {table.num_rows - max_rows} more rows")
    lines.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(_json_value(value))
