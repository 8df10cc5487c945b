"""The compaction job on local Spark, on a lake of many small files: file count before and
after, time of a first run and of a run with nothing new, and the bytes a dashboard query reads
from the summary tables against a scan of the bookings (DuckDB's EXPLAIN ANALYZE: the
``total_bytes_read`` of the query's plan).

``run()`` generates ROWS bookings in FILES source files ingested on FILES dates, read by the
pipeline and stored as Firehose stores them: one Parquet file per ROWS_PER_FLUSH rows, with
1% of the rows delivered a second time (a retried flush). ``BENCH_COMPACT_ROWS`` overrides the
row count.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("BENCH_COMPACT_ROWS", "1000000"))
FILES = 8
ROWS_PER_FLUSH = 2_000
REDELIVERED_SHARE = 0.01
TARGET_READ_RATIO = 10.0
# Dashboard queries: the KPI scanning the bookings, and the same KPI from the summary table.
QUERIES = {
    "completion_by_sales_channel": "completion_by_sales_channel_from_summary",
    "monthly_summary": "monthly_summary_from_summary",
}


def _flush(root: Path, records: list[dict[str, Any]]) -> None:
    from bookings.lake import LakeWriter

    with LakeWriter(root) as writer:
        writer.add_bookings(records)


def _build_lake(root: Path, rows: int) -> dict[str, Any]:
    from booking_core.pipeline import process_stream

    from bookings.generator import generate_rows, write_csv
    from bookings.lake import LakeWriter, committed_file_record

    started = time.perf_counter()
    delivered = 0
    audit = []
    for index in range(FILES):
        path = root / "incoming" / f"bookings-{index}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(path, generate_rows(rows // FILES, seed=200 + index), dirty=0.01, seed=index)
        ingested_at = datetime(2025, 1 + index, 15, 12, tzinfo=UTC)
        valid = rejected = 0
        buffer: list[dict[str, Any]] = []
        with path.open("rb") as stream:
            for kind, record in process_stream(
                stream,
                source_file=path.name,
                booking_date=ingested_at.date(),
                ingested_at=ingested_at,
            ):
                if kind != "valid":
                    rejected += 1
                    continue
                valid += 1
                buffer.append(record)
                if len(buffer) == ROWS_PER_FLUSH:
                    _flush(root, buffer)
                    delivered += len(buffer)
                    buffer = []
        if buffer:
            _flush(root, buffer)
            delivered += len(buffer)
        # A retried flush: the first rows of the file delivered again.
        again = records_of_first_flush(root, path.name, int(valid * REDELIVERED_SHARE))
        _flush(root, again)
        delivered += len(again)
        audit.append(
            committed_file_record(
                path.name, valid=valid, rejected=rejected, finished_at=ingested_at
            )
        )
    with LakeWriter(root) as writer:
        writer.add_audit(audit)
    return {"rows_delivered": delivered, "build_seconds": round(time.perf_counter() - started, 1)}


def records_of_first_flush(root: Path, source_file: str, count: int) -> list[dict[str, Any]]:
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    dataset = pads.dataset(root / "lake" / "bookings", format="parquet", partitioning="hive")
    table = dataset.to_table(filter=pc.field("source_file") == source_file).slice(0, count)
    return [
        {key: value for key, value in row.items() if key != "ingest_date"}
        for row in table.to_pylist()
    ]


def _files(root: Path, table: str) -> list[Path]:
    return sorted((root / "lake" / table).glob("*=*/*.parquet"))


def bytes_read(lake: Path, view: str) -> int:
    """The bytes DuckDB reads to answer ``SELECT * FROM view`` (EXPLAIN ANALYZE)."""
    from bookings.analytics.engine import connect, transpile

    con = connect(lake)
    try:
        plan = con.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + transpile(f"SELECT * FROM {view}")
        ).fetchall()[0][1]
    finally:
        con.close()
    document = json.loads(plan)
    root = document[0] if isinstance(document, list) else document
    return int(root["io"]["total_bytes_read"])


def run(rows: int = ROWS) -> dict[str, Any]:
    from bookings.etl.local import COMPACTED_TABLE, compact_lake, local_session

    workdir = Path(tempfile.mkdtemp(prefix="bench-compact-"))
    try:
        built = _build_lake(workdir, rows)
        files_before = _files(workdir, "bookings")
        spark = local_session(cores=os.cpu_count() or 2)
        try:
            started = time.perf_counter()
            first = compact_lake(workdir, spark=spark).result
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            second = compact_lake(workdir, spark=spark).result
            second_seconds = time.perf_counter() - started
        finally:
            spark.stop()
        files_after = _files(workdir, COMPACTED_TABLE)
        reads = {}
        for kpi, summary_view in QUERIES.items():
            scanned, summarised = bytes_read(workdir, kpi), bytes_read(workdir, summary_view)
            reads[kpi] = {
                "bookings_scan_bytes": scanned,
                "summary_bytes": summarised,
                "ratio": round(scanned / max(summarised, 1), 1),
            }
        return {
            "rows": rows,
            **built,
            "files_before": len(files_before),
            "bytes_before": sum(p.stat().st_size for p in files_before),
            "files_after": len(files_after),
            "bytes_after": sum(p.stat().st_size for p in files_after),
            "first_run_seconds": round(first_seconds, 1),
            "rows_in": first.rows_in,
            "rows_out": first.rows_out,
            "duplicates_dropped": first.duplicates,
            "uncommitted_rows": first.uncommitted,
            "second_run_seconds": round(second_seconds, 1),
            "second_run_changed": second.changed,
            "dashboard_query_bytes": reads,
            "read_ratio_target": TARGET_READ_RATIO,
            "read_ratio_met": all(r["ratio"] >= TARGET_READ_RATIO for r in reads.values()),
            "cores": os.cpu_count(),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
