"""The SAM application's performance offline.

- Cold import time of each handler module, each in a fresh interpreter (what a Lambda cold start
  pays for imports; target under 1 s).
- One generated file (50,000 rows by default) through the ingest state machine on moto, with the
  real handlers (bookings.offline.emulator): total time (target under 60 s on 2 cores) and the
  time spent in each state.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"

_IMPORT_PROBE = """
import importlib.util, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - started)
"""


def handler_import_seconds() -> dict[str, float]:
    seconds: dict[str, float] = {}
    for app in sorted(FUNCTIONS.glob("*/app.py")):
        result = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE, str(app)],
            capture_output=True,
            text=True,
            check=True,
            cwd=app.parent,
            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        )
        seconds[app.parent.name] = round(float(result.stdout.strip().splitlines()[-1]), 3)
    return seconds


def end_to_end(rows: int) -> dict[str, Any]:
    from bookings.generator import generate_rows, write_csv
    from bookings.offline.emulator import EmulatedStack

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bookings_bench.csv"
        write_csv(path, generate_rows(rows, seed=20240517), seed=20240517)
        started = time.perf_counter()
        with EmulatedStack(ROOT / "template.yaml") as stack:
            setup = time.perf_counter() - started
            outcome = stack.put_file(path, "incoming/bookings_bench.csv")
            if outcome is None or not outcome.succeeded:
                raise RuntimeError(f"the benchmark execution did not succeed: {outcome}")
            summary = outcome.output
            by_state = {k: round(v, 3) for k, v in outcome.seconds_by_state().items()}
            invocations: dict[str, float] = {}
            for name, seconds, _failed in stack.invocations:
                invocations[name] = round(invocations.get(name, 0.0) + seconds, 3)
    return {
        "rows": summary["rows"],
        "valid": summary["valid"],
        "delivered": summary["delivered"],
        "chunks": summary["chunks"],
        "execution_seconds": round(outcome.seconds, 2),
        "stack_setup_seconds": round(setup, 2),
        "rows_per_second": round(summary["rows"] / outcome.seconds),
        "seconds_by_state": by_state,
        "handler_seconds_by_function": invocations,
        "target_seconds": 60,
    }


def run(rows: int = 50_000) -> dict[str, Any]:
    imports = handler_import_seconds()
    return {
        "handler_cold_import_seconds": imports,
        "slowest_handler_import_seconds": max(imports.values()),
        "import_target_seconds": 1.0,
        "end_to_end": end_to_end(rows),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
