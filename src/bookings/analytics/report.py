"""The report: every KPI view of ``sql/`` as a CSV, one Excel workbook, and the dashboards."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from bookings.analytics import sql_files
from bookings.analytics.engine import connect, kpi_query, run_sql
from bookings.analytics.exports import write_csv, write_workbook

WORKBOOK_NAME = "kpis.xlsx"


@dataclass
class ReportResult:
    out_dir: Path
    csv_files: list[Path] = field(default_factory=list)
    workbook: Path | None = None
    dashboards: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def run_kpis(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """Every KPI view, in dependency order, each sorted as its header says."""
    return {entry.name: run_sql(con, kpi_query(entry)) for entry in sql_files.kpis()}


def build_report(lake: str | Path, out_dir: str | Path, *, dashboards: bool = True) -> ReportResult:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out_dir=out)
    started = time.perf_counter()
    con = connect(lake)
    try:
        tables = run_kpis(con)
        result.seconds["kpis"] = time.perf_counter() - started
        for name, table in tables.items():
            path = out / f"{name}.csv"
            write_csv(table, path)
            result.csv_files.append(path)
        mark = time.perf_counter()
        result.workbook = out / WORKBOOK_NAME
        entries = {entry.name: entry for entry in sql_files.kpis()}
        write_workbook(tables, result.workbook, definitions=entries)
        result.seconds["workbook"] = time.perf_counter() - mark
        if dashboards:
            from bookings.analytics.dashboards import write_dashboards

            mark = time.perf_counter()
            result.dashboards = write_dashboards(con, tables, out)
            result.seconds["dashboards"] = time.perf_counter() - mark
    finally:
        con.close()
    result.seconds["total"] = time.perf_counter() - started
    return result
