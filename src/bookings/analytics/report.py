"""The report: every KPI view of ``sql/`` as a CSV, one Excel workbook, and the dashboards."""

from __future__ import annotations

import time
from collections.abc import Mapping
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
    # The KPIs read from the compaction's summary tables (KPI -> view).
    from_summaries: dict[str, str] = field(default_factory=dict)


def run_kpis(
    con: duckdb.DuckDBPyConnection, read_instead: Mapping[str, str] | None = None
) -> dict[str, pa.Table]:
    """Every KPI view, in dependency order, each sorted as its header says; a KPI named in
    ``read_instead`` is read from the view given there (same columns, same order)."""
    tables = {}
    for entry in sql_files.kpis():
        source = (read_instead or {}).get(entry.name)
        statement = kpi_query(entry)
        if source is not None:
            statement = statement.replace(f"FROM {entry.name}", f"FROM {source}", 1)
        tables[entry.name] = run_sql(con, statement)
    return tables


def summary_views(lake: str | Path) -> dict[str, str]:
    """KPI -> the view that reads it from the compaction's summary tables (``summary_of`` in
    the view's header), when those tables were built from the lake's current files; else none,
    and every KPI scans the bookings."""
    from bookings.etl.local import summaries_current

    if not summaries_current(lake):
        return {}
    return {
        view.meta["summary_of"]: view.name
        for view in sql_files.views()
        if view.meta.get("summary_of")
    }


def build_report(lake: str | Path, out_dir: str | Path, *, dashboards: bool = True) -> ReportResult:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out_dir=out)
    started = time.perf_counter()
    con = connect(lake)
    try:
        result.from_summaries = summary_views(lake)
        tables = run_kpis(con, result.from_summaries)
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
