"""Reader benchmark: one generated booking file, three ways, side by side in one run.

(a) ``pandas.read_csv`` of the file: parsing only, no checks (the floor);
(b) a naive loop of pydantic ``BookingSource.model_validate`` over ``csv.DictReader``
    (validation only);
(c) this project: ``bookings validate FILE --out DIR`` (read + validate + enrich + JSON Lines
    output to files), in a child process started for the purpose; it shares a large file
    between one process per core, two at most (``bookings.fastpath.parallel``), and is also
    timed in one process (``--workers 1``).

The three run in ``REPEATS`` rounds, after one untimed round (so that the input file is in the
page cache). A virtual machine's speed drifts over minutes (by a fifth here): the ratios are
taken within each round, where the runs compare like with like, and the targets are judged on
their medians; each timing's median is reported too. (c) writes into a new temporary directory
each time, removed afterwards.

(c) writes 1.2 GB of JSON Lines, so it needs as much fresh page cache; (a) and (b) write
nothing. This virtual machine hands memory that has stayed free for a few seconds back to its
host (free page reporting), and touching it again costs a fault per page: writing 1.2 GB to a
file took 0.19 s of CPU on memory freed a moment before and 1.63 s on memory freed 15 s before.
So each round runs (c) twice in a row after (a) and (b), and times the second run
(``c_right_after_other_work`` reports the first), then (c) in one process.

Memory is measured in separate runs of (c), so that watching it costs the timed runs nothing:
the resident memory of (c)'s processes is read every 20 ms from ``/proc/PID/smaps_rollup``.
The target is on their proportional set size (PSS: each shared page counted once, split among
the processes sharing it); the sum of their resident sets, which counts the pages that the
workers share with their parent once per process, is reported beside it. Memory must not grow
with the file: (c) runs again on a file three times larger.

Targets: (c) at least 2x faster than (b), within 6x of (a), peak memory under 200 MB.
``python -m benchmarks reader [--rows N]``; files are generated once per size and kept in the
system's temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import bench_file
from bookings.fastpath.parallel import default_workers

DEFAULT_ROWS = 1_000_000
SEED = 7
REPEATS = 7
TARGET_SPEEDUP_OVER_PYDANTIC = 2.0
TARGET_MAX_SLOWDOWN_VS_PANDAS = 6.0
TARGET_PEAK_MB = 200.0
LARGER_FILE_FACTOR = 3
SAMPLE_SECONDS = 0.02
ROOT = Path(__file__).resolve().parents[1]


def pandas_floor(path: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    pd.read_csv(path, encoding="latin-1")
    return time.perf_counter() - started


def pydantic_naive(path: Path) -> float:
    from booking_core.schema import BookingSource
    from pydantic import ValidationError

    started = time.perf_counter()
    with open(path, encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            with contextlib.suppress(ValidationError):
                BookingSource.model_validate(row)
    return time.perf_counter() - started


def rounds(runs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Seconds of each run in each of ``REPEATS`` rounds (after an untimed one)."""
    for run in runs.values():
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEATS):
        for name, run in runs.items():
            seconds[name].append(round(run(), 3))
    return seconds


def project(path: Path, workers: int | None) -> dict[str, Any]:
    """One run of (c) in a new process: its own report (time measured after the imports)."""
    with tempfile.TemporaryDirectory() as out_dir:
        command = [sys.executable, "-m", "benchmarks.bench_reader", "--child", str(path), out_dir]
        if workers is not None:
            command.append(str(workers))
        completed = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        report["output_mb"] = round(sum(f.stat().st_size for f in Path(out_dir).iterdir()) / 1e6, 1)
    return report


def _memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB; zeros once it has gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            for child in children.read().split():
                pids.extend(_process_tree(int(child)))
    except OSError:
        pass
    return pids


def project_memory(path: Path) -> dict[str, Any]:
    """(c) with the resident memory of all its processes sampled while it runs."""
    peaks = {"pss_kib": 0, "rss_kib": 0, "processes": 0}
    with tempfile.TemporaryDirectory() as out_dir:
        command = [sys.executable, "-m", "benchmarks.bench_reader", "--child", str(path), out_dir]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                tree = _process_tree(child.pid)
                sizes = [_memory_kib(pid) for pid in tree]
                pss, rss = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
                if pss > peaks["pss_kib"]:
                    peaks["pss_kib"], peaks["processes"] = pss, len(tree)
                peaks["rss_kib"] = max(peaks["rss_kib"], rss)
                stop.wait(SAMPLE_SECONDS)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        stdout, _ = child.communicate()
        stop.set()
        watcher.join()
        if child.returncode != 0:
            raise RuntimeError(f"bookings validate failed on {path}")
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return {
        "rows": report["rows"],
        "seconds": round(report["seconds"], 2),
        "peak_pss_mb": round(peaks["pss_kib"] / 1024, 1),
        "peak_rss_sum_mb": round(peaks["rss_kib"] / 1024, 1),
        "processes": peaks["processes"],
        # The command's own process alone, from its high-water mark (VmHWM: since its exec).
        "main_process_peak_rss_mb": round(report["peak_rss_kib"] / 1024, 1),
    }


def _own_peak_rss_kib() -> int:
    # Not getrusage's ru_maxrss: Linux carries it over an exec from the forked parent's image.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _child(path: str, out_dir: str, workers: int | None) -> None:
    # The validate command alone, as ``bookings validate`` runs it.
    from bookings.commands import validate

    args = argparse.Namespace(
        path=Path(path),
        json=True,
        out=Path(out_dir),
        booking_date=date(2026, 11, 24),
        workers=workers,
    )
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        code = validate.run(args)
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(captured.getvalue())
    print(
        json.dumps(
            {
                "exit_code": code,
                "seconds": seconds,
                "cpu_seconds": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                "rows": summary["rows"],
                "valid": summary["valid"],
                "rejected": summary["rejected"],
                "duplicates": summary["duplicates"],
                "peak_rss_kib": _own_peak_rss_kib(),
            }
        )
    )


def run(rows: int = DEFAULT_ROWS) -> dict[str, Any]:
    path = bench_file(rows, SEED)
    workers = default_workers()
    reports: dict[str, list[dict[str, Any]]] = {"first": [], "default": [], "one_process": []}

    def timed(kind: str, workers: int | None) -> Callable[[], float]:
        def once() -> float:
            report = project(path, workers)
            reports[kind].append(report)
            return float(report["seconds"])

        return once

    seconds = rounds(
        {
            "a": lambda: pandas_floor(path),
            "b": lambda: pydantic_naive(path),
            # (c) once first, on memory that has been free for a while (see the module's
            # description): reported, not judged.
            "c_first": timed("first", None),
            "c": timed("default", None),
            "c1": timed("one_process", 1),
        }
    )
    pandas_seconds, pydantic_seconds, project_seconds, one_seconds = (
        statistics.median(seconds[name]) for name in ("a", "b", "c", "c1")
    )
    pandas_runs, pydantic_runs, project_runs, one_runs = (
        seconds[name] for name in ("a", "b", "c", "c1")
    )
    last = reports["default"][-1]
    memory = project_memory(path)
    larger = project_memory(bench_file(LARGER_FILE_FACTOR * rows, SEED))
    speedups = [b / c for b, c in zip(seconds["b"], seconds["c"], strict=True)]
    slowdowns = [c / a for c, a in zip(seconds["c"], seconds["a"], strict=True)]
    speedup, slowdown = statistics.median(speedups), statistics.median(slowdowns)
    peak_mb = max(memory["peak_pss_mb"], larger["peak_pss_mb"])
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "machine": f"{platform.machine()}, {workers} usable cpus, "
        f"Python {platform.python_version()}",
        "repeats": REPEATS,
        "a_pandas_read_csv": {
            "seconds": round(pandas_seconds, 3),
            "runs": pandas_runs,
            "rows_per_s": round(rows / pandas_seconds),
        },
        "b_pydantic_dictreader": {
            "seconds": round(pydantic_seconds, 3),
            "runs": pydantic_runs,
            "rows_per_s": round(rows / pydantic_seconds),
        },
        "c_project_validate_enrich_jsonl": {
            "processes": f"this one and {workers} workers",
            "seconds": round(project_seconds, 3),
            "runs": project_runs,
            "rows_per_s": round(rows / project_seconds),
            "cpu_seconds": round(last["cpu_seconds"], 2),
            "valid": last["valid"],
            "rejected": last["rejected"],
            "duplicates": last["duplicates"],
            "output_mb": last["output_mb"],
        },
        "c_right_after_other_work": {
            "seconds": round(statistics.median(seconds["c_first"]), 3),
            "runs": seconds["c_first"],
        },
        "c_in_one_process": {
            "seconds": round(one_seconds, 3),
            "runs": one_runs,
            "rows_per_s": round(rows / one_seconds),
            "speedup_over_b": round(
                statistics.median(b / c for b, c in zip(seconds["b"], seconds["c1"], strict=True)),
                2,
            ),
            "slowdown_vs_a": round(
                statistics.median(c / a for c, a in zip(seconds["c1"], seconds["a"], strict=True)),
                2,
            ),
        },
        "c_memory": memory,
        "c_memory_on_a_larger_file": larger,
        # Medians of the ratios within each round, then every round's.
        "c_speedup_over_b": round(speedup, 2),
        "c_speedup_over_b_by_round": [round(value, 2) for value in speedups],
        "c_slowdown_vs_a": round(slowdown, 2),
        "c_slowdown_vs_a_by_round": [round(value, 2) for value in slowdowns],
        "targets": {
            "c_at_least_2x_faster_than_b": speedup >= TARGET_SPEEDUP_OVER_PYDANTIC,
            "c_within_6x_of_a": slowdown <= TARGET_MAX_SLOWDOWN_VS_PANDAS,
            "c_peak_memory_under_200_mb": peak_mb < TARGET_PEAK_MB,
        },
    }


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else None)
    else:
        from benchmarks.__main__ import main

        raise SystemExit(main(["reader", *sys.argv[1:]]))
