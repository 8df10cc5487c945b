"""Offline stack benchmark: ``bookings run`` end to end (upload to lake export) on generated files.

Each size runs in its own process (``bookings run FILE --out DIR --json``) so that its peak
memory (max RSS) is its own. Reported per size: wall time, rows per second, peak memory, and
where the time goes: per function (time inside the handlers, which run one at a time) and per
state (durations from the execution history; the Map's states overlap, as in AWS).

Targets: 50,000 rows under 60 s; 1,000,000 rows under 10 minutes with a peak memory that does
not grow with the file: the resident memory is sampled over the run, and the second half of the
largest run must not need more than 1.1x the first half's peak (the 50k/1M peak ratio is reported
too: a small file ends before the stack reaches its steady state).
``python -m benchmarks offline [--rows N]`` (default: both sizes); files are generated once per
size and kept in the system's temporary directory.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_file

SIZES = (50_000, 1_000_000)

SEED = 7
TARGET_SECONDS = {50_000: 60.0, 1_000_000: 600.0}
TARGET_MEMORY_GROWTH = 1.1
SAMPLE_SECONDS = 0.25

_CHILD = (
    "import resource, sys\n"
    "from bookings.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(f'PEAK_RSS_KB={peak_kb}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_once(rows: int) -> dict[str, Any]:
    source = bench_file(rows, SEED)
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bookings-bench-offline-") as scratch:
        out = Path(scratch) / "out"
        command = ["run", str(source), "--out", str(out), "--json", "--quiet"]
        started = time.perf_counter()
        with (
            open(Path(scratch) / "stdout", "w+") as stdout,
            open(Path(scratch) / "stderr", "w+") as stderr,
        ):
            child = subprocess.Popen(
                [sys.executable, "-c", _CHILD, *command],
                stdout=stdout,
                stderr=stderr,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            # The resident memory over the run: if it grew with the rows processed, the second
            # half of the run would need more than the first.
            while child.poll() is None:
                rss = _rss_mb(child.pid)
                if rss is not None:
                    samples.append(rss)
                time.sleep(SAMPLE_SECONDS)
            wall = time.perf_counter() - started
            stdout.seek(0)
            stderr.seek(0)
            out_text, err_text = stdout.read(), stderr.read()
        if child.returncode != 0:
            last = (err_text.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"bookings run on {rows} rows exited {child.returncode}: {last}")
        peak_kb = next(
            int(line.split("=", 1)[1])
            for line in err_text.splitlines()
            if line.startswith("PEAK_RSS_KB=")
        )
        report = json.loads(out_text)
        lake_mb = sum(p.stat().st_size for p in (out / "lake").rglob("*.parquet")) / 1e6
    (item,) = report["files"]
    if item["status"] != "succeeded" or report["lake"]["bookings"] != item["delivered"]:
        raise RuntimeError(f"{rows} rows: {item['status']}, lake {report['lake']}")
    return {
        "rows": rows,
        "file_mb": round(source.stat().st_size / 1e6, 1),
        "seconds": round(wall, 1),
        "rows_per_s": round(rows / wall),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_peak_first_half_mb": round(max(samples[: len(samples) // 2] or [0.0]), 1),
        "rss_peak_second_half_mb": round(max(samples[len(samples) // 2 :] or [0.0]), 1),
        "delivered": item["delivered"],
        "rejected": item["rejected"],
        "lake_mb": round(lake_mb, 1),
        "stack_start_s": report["seconds"].get("start"),
        "execution_s": item["seconds"],
        "export_s": item["export_seconds"],
        "catalog_s": report["seconds"].get("catalog"),
        "handlers_s": {name: t["seconds"] for name, t in item["handlers"].items()},
        "states_s": {s["state"]: s["seconds"] for s in item["states"] if s["seconds"] >= 0.01},
        "under_target": wall < TARGET_SECONDS.get(rows, float("inf")),
    }


def run(rows: int | None = None) -> dict[str, Any]:
    sizes = (rows,) if rows else SIZES
    machine = f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
    result: dict[str, Any] = {"machine": machine}
    for size in sizes:
        result[f"rows_{size}"] = run_once(size)
    largest = result[f"rows_{max(sizes)}"]
    first, second = largest["rss_peak_first_half_mb"], largest["rss_peak_second_half_mb"]
    result["memory_does_not_grow"] = bool(first) and second <= first * TARGET_MEMORY_GROWTH
    if len(sizes) == len(SIZES):
        small, large = (result[f"rows_{size}"]["peak_rss_mb"] for size in SIZES)
        result["peak_rss_1m_over_50k"] = round(large / small, 2)
    return result


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else None), indent=2))
