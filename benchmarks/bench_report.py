"""The report on a large lake: time of the full report, lake size against the CSV, and the
columns each KPI's Parquet scan reads (from DuckDB's EXPLAIN).

``run()`` generates ROWS bookings (the generator), reads them with the pipeline into the lake
(LakeWriter), then times ``build_report``. ``BENCH_REPORT_ROWS`` overrides the row count.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("BENCH_REPORT_ROWS", "1000000"))
FILES = 4
REPORT_BUDGET_SECONDS = 30.0
SIZE_BUDGET = 0.25


def _build_lake(root: Path, rows: int) -> dict[str, Any]:
    from booking_core.pipeline import process_stream

    from bookings.generator import generate_rows, write_csv
    from bookings.lake import LakeWriter, committed_file_record

    csv_bytes = 0
    valid = rejected = 0
    started = time.perf_counter()
    with LakeWriter(root) as writer:
        for index in range(FILES):
            path = root / "incoming" / f"bookings-{index}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_csv(path, generate_rows(rows // FILES, seed=100 + index), dirty=0.01, seed=index)
            csv_bytes += path.stat().st_size
            ingested_at = datetime(2025, 1 + index, 15, 12, tzinfo=UTC)
            file_valid = file_rejected = 0
            with path.open("rb") as stream:
                for kind, record in process_stream(
                    stream,
                    source_file=path.name,
                    booking_date=ingested_at.date(),
                    ingested_at=ingested_at,
                ):
                    if kind == "valid":
                        writer.add_bookings((record,))
                        file_valid += 1
                    else:
                        writer.add_rejected((record,))
                        file_rejected += 1
            writer.add_audit(
                [
                    committed_file_record(
                        path.name, valid=file_valid, rejected=file_rejected, finished_at=ingested_at
                    )
                ]
            )
            valid += file_valid
            rejected += file_rejected
    seconds = time.perf_counter() - started
    files = list((root / "lake").rglob("*.parquet"))
    lake_bytes = sum(p.stat().st_size for p in files)
    id_bytes = _column_bytes(files, "booking_id")
    return {
        "rows": rows,
        "valid": valid,
        "rejected": rejected,
        "ingest_seconds": round(seconds, 1),
        "csv_bytes": csv_bytes,
        "lake_bytes": lake_bytes,
        "lake_to_csv": round(lake_bytes / csv_bytes, 3),
        "booking_id_to_csv": round(id_bytes / csv_bytes, 3),
        "lake_without_booking_id_to_csv": round((lake_bytes - id_bytes) / csv_bytes, 3),
    }


def _column_bytes(files: list[Path], column: str) -> int:
    import pyarrow.parquet as pq

    total = 0
    for path in files:
        metadata = pq.read_metadata(path)
        names = metadata.schema.to_arrow_schema().names
        if column in names:
            index = names.index(column)
            total += sum(
                metadata.row_group(g).column(index).total_compressed_size
                for g in range(metadata.num_row_groups)
            )
    return total


def _projections(root: Path) -> dict[str, list[list[str]]]:
    from bookings.analytics import sql_files
    from bookings.analytics.engine import connect, kpi_query, parquet_scans

    con = connect(root)
    try:
        return {
            entry.name: [scan["columns"] for scan in parquet_scans(con, kpi_query(entry))]
            for entry in sql_files.kpis()
        }
    finally:
        con.close()


def run() -> dict[str, Any]:
    from bookings.analytics.report import build_report
    from bookings.lake import BOOKINGS_SCHEMA

    root = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        lake = _build_lake(root, ROWS)
        report = build_report(root, root / "report")
        projections = _projections(root)
        widest = max(len(cols) for scans in projections.values() for cols in scans)
        return {
            **lake,
            "report_seconds": round(report.seconds["total"], 2),
            "report_seconds_by_step": {k: round(v, 2) for k, v in report.seconds.items()},
            "report_under_budget": report.seconds["total"] < REPORT_BUDGET_SECONDS,
            "lake_under_size_budget": lake["lake_to_csv"] < SIZE_BUDGET,
            "lake_columns": len(BOOKINGS_SCHEMA),
            "widest_kpi_scan_columns": widest,
            "kpi_scan_columns": projections,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
