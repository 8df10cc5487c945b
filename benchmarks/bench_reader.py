"""Reader benchmark: one generated booking file, three ways, side by side in one run.

(a) ``pandas.read_csv`` of the file: parsing only, no checks (the floor);
(b) a naive loop of pydantic ``BookingSource.model_validate`` over ``csv.DictReader``
    (validation only);
(c) this project: ``bookings validate FILE --out DIR`` (read + validate + enrich + JSON Lines
    output to files), in a subprocess so that its peak memory (max RSS) is its own.

Targets: (c) at least 2x faster than (b), within 6x of (a), peak memory under 200 MB whatever
the file size (checked again on a file three times larger).
``python -m benchmarks reader [--rows N]``; the file is generated once per size and kept in the
system's temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import bench_file

DEFAULT_ROWS = 1_000_000

SEED = 7
TARGET_SPEEDUP_OVER_PYDANTIC = 2.0
TARGET_MAX_SLOWDOWN_VS_PANDAS = 6.0
TARGET_PEAK_RSS_MB = 200.0
LARGER_FILE_FACTOR = 3


def pandas_floor(path: Path) -> tuple[float, float, int]:
    import pandas as pd

    started, cpu_started = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path, encoding="latin-1")
    return time.perf_counter() - started, time.process_time() - cpu_started, len(frame)


def pydantic_naive(path: Path) -> tuple[float, float, int, int]:
    from booking_core.schema import BookingSource
    from pydantic import ValidationError

    valid = invalid = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with open(path, encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                BookingSource.model_validate(row)
                valid += 1
            except ValidationError:
                invalid += 1
    return time.perf_counter() - started, time.process_time() - cpu_started, valid, invalid


def project_pipeline(path: Path) -> dict[str, Any]:
    """Run (c) in a child process; its own timing and peak memory."""
    with tempfile.TemporaryDirectory() as out_dir:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_reader", "--child", str(path), out_dir],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        output_bytes = sum(f.stat().st_size for f in Path(out_dir).iterdir())
    # The child's own high-water mark (KiB on Linux), read when its work is done: RUSAGE_CHILDREN
    # would report the largest child this process ever had, e.g. another benchmark's.
    result["peak_rss_mb"] = round(result["self_max_rss_kib"] / 1024, 1)
    result["output_mb"] = round(output_bytes / 1e6, 1)
    return result


def _child(path: str, out_dir: str) -> None:
    # The validate command alone: the whole CLI would also import the analytics stack.
    from bookings.commands import validate

    args = argparse.Namespace(
        path=Path(path),
        json=True,
        out=Path(out_dir),
        booking_date=date(2026, 11, 24),
        workers=None,
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        code = validate.run(args)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    summary = json.loads(captured.getvalue())
    report = {
        "exit_code": code,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rows": summary["rows"],
        "valid": summary["valid"],
        "rejected": summary["rejected"],
        "duplicates": summary["duplicates"],
        "self_max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(report))


def cpu_breakdown(path: Path) -> dict[str, float]:
    """CPU seconds of the project's path cut at each stage (cumulative), outputs discarded."""
    from booking_core.pipeline import process_stream, validate_stream
    from booking_core.reader import open_booking_csv

    class Discard:
        def write(self, data: bytes) -> int:
            return len(data)

    def reading() -> None:
        with path.open("rb") as stream:
            for _ in open_booking_csv(stream, str(path)).csv_reader():
                pass

    def validating() -> None:
        with path.open("rb") as stream:
            for _ in validate_stream(stream, source_file=str(path)):
                pass

    def enriching_to_json() -> None:
        with path.open("rb") as stream:
            run = process_stream(stream, source_file=str(path), booking_date=date(2026, 11, 24))
            run.write_jsonl(Discard(), Discard())

    stages = {}
    for name, stage in (
        ("read_csv", reading),
        ("read_validate", validating),
        ("read_validate_enrich_json", enriching_to_json),
    ):
        started = time.process_time()
        stage()
        stages[name] = round(time.process_time() - started, 2)
    return stages


def run(rows: int = DEFAULT_ROWS) -> dict[str, Any]:
    path = bench_file(rows, SEED)
    project = project_pipeline(path)
    # Memory must not depend on the file size: (c) again on a file three times larger, whose
    # distinct rows overflow the duplicate index's memory (booking_core.duplicates).
    larger_rows = LARGER_FILE_FACTOR * rows
    larger = project_pipeline(bench_file(larger_rows, SEED))
    pandas_seconds, pandas_cpu_seconds, pandas_rows = pandas_floor(path)
    pydantic_seconds, pydantic_cpu_seconds, pydantic_valid, pydantic_invalid = pydantic_naive(path)
    project_seconds = project["seconds"]
    stages = cpu_breakdown(path)
    speedup = pydantic_seconds / project_seconds
    slowdown = project_seconds / pandas_seconds
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
        "a_pandas_read_csv": {
            "seconds": round(pandas_seconds, 2),
            "cpu_seconds": round(pandas_cpu_seconds, 2),
            "rows_per_s": round(pandas_rows / pandas_seconds),
        },
        "b_pydantic_dictreader": {
            "seconds": round(pydantic_seconds, 2),
            "cpu_seconds": round(pydantic_cpu_seconds, 2),
            "rows_per_s": round(rows / pydantic_seconds),
            "valid": pydantic_valid,
            "invalid": pydantic_invalid,
        },
        "c_project_validate_enrich_jsonl": {
            "seconds": round(project_seconds, 2),
            "cpu_seconds": round(project["cpu_seconds"], 2),
            "rows_per_s": round(project["rows"] / project_seconds),
            "valid": project["valid"],
            "rejected": project["rejected"],
            "duplicates": project["duplicates"],
            "peak_rss_mb": project["peak_rss_mb"],
            "output_mb": project["output_mb"],
        },
        "c_on_a_larger_file": {
            "rows": larger_rows,
            "seconds": round(larger["seconds"], 2),
            "rows_per_s": round(larger["rows"] / larger["seconds"]),
            "duplicates": larger["duplicates"],
            "peak_rss_mb": larger["peak_rss_mb"],
            "output_mb": larger["output_mb"],
        },
        # Cumulative CPU seconds of (c) cut after each stage, in this process, output discarded;
        # (c)'s own cpu_seconds adds writing the files.
        "c_cpu_seconds_by_stage": stages,
        "c_speedup_over_b": round(speedup, 2),
        "c_slowdown_vs_a": round(slowdown, 2),
        "targets": {
            "c_at_least_2x_faster_than_b": speedup >= TARGET_SPEEDUP_OVER_PYDANTIC,
            "c_within_6x_of_a": slowdown <= TARGET_MAX_SLOWDOWN_VS_PANDAS,
            "c_peak_rss_under_200_mb": max(project["peak_rss_mb"], larger["peak_rss_mb"])
            < TARGET_PEAK_RSS_MB,
        },
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        from benchmarks.__main__ import main

        raise SystemExit(main(["reader", *sys.argv[1:]]))
