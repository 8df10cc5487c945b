"""Interactive SQL: how long ``bookings sql`` takes to answer, run as an analyst runs it.

``run()`` builds a lake of ROWS generated bookings (four ingest months, as bench_report does),
then runs each query of QUERIES as a fresh ``bookings sql`` process REPEAT times and reports the
medians. The first run of all builds ``DIR/catalog.duckdb`` (reported apart); the others reuse
it. ``BENCH_SQL_ROWS`` overrides the row count.

Before the catalog was reused and the command's imports were made lazy, ``SELECT 1`` took a
median of 1.87 s (1.91 s of CPU) on the 57,000-booking demo lake, against 0.47 s after: nine runs
of each, interleaved, on the same 2-core machine at a load of about 2.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("BENCH_SQL_ROWS", "50000"))
REPEAT = 7
# "Well under a second" for an interactive query on an up-to-date catalog.
BUDGET_SECONDS = 1.0
QUERIES = {
    "select_1": "SELECT 1",
    "kpi_view": "SELECT * FROM completion_by_sales_channel",
    "group_by_route": (
        "SELECT route, count(*) AS bookings, avg(booking_complete) AS completion "
        "FROM airline_bookings_dev.bookings GROUP BY route ORDER BY bookings DESC LIMIT 10"
    ),
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _sql(root: Path, query: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``bookings sql`` process (CPU time does not grow when
    other work shares the machine's cores; wall-clock time does)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bookings", "sql", query, "--lake", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"bookings sql {query!r}: {result.stderr.strip()}")
    return seconds, _children_cpu() - cpu


def run(rows: int = ROWS) -> dict[str, Any]:
    from benchmarks.bench_report import _build_lake
    from bookings.analytics.engine import CATALOG_FILE

    root = Path(tempfile.mkdtemp(prefix="bench-sql-"))
    try:
        lake = _build_lake(root, rows)
        (root / CATALOG_FILE).unlink(missing_ok=True)
        first, _ = _sql(root, QUERIES["select_1"])
        medians: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, query in QUERIES.items():
            runs = [_sql(root, query) for _ in range(REPEAT)]
            medians[name] = round(statistics.median(wall for wall, _ in runs), 3)
            cpu[name] = round(statistics.median(used for _, used in runs), 3)
        return {
            "rows": lake["valid"],
            "runs_per_query": REPEAT,
            "cores": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "first_run_with_catalog_build_seconds": round(first, 2),
            "median_seconds": medians,
            "median_cpu_seconds": cpu,
            "budget_seconds": BUDGET_SECONDS,
            "medians_under_budget": all(v < BUDGET_SECONDS for v in medians.values()),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
