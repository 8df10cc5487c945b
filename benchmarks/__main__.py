"""Run the benchmarks: ``python -m benchmarks [NAME ...] [--rows N]``.

Every module ``benchmarks/bench_<name>.py`` exposes ``run() -> dict`` (optionally taking
``rows``); its result is written to ``benchmarks/results/<name>.json`` and printed as a table.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def available() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, float):
        out.append((prefix, f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"))
    elif isinstance(value, int) and not isinstance(value, bool):
        out.append((prefix, f"{value:,}"))
    else:
        out.append((prefix, str(value)))


def print_table(name: str, result: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = []
    _flatten("", result, rows)
    width = max((len(key) for key, _ in rows), default=10)
    print(f"\n== {name} ==")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {names})")
    parser.add_argument("--rows", type=int, help="rows for benchmarks that take a size")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in names]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}")
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for name in args.names or names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        kwargs: dict[str, Any] = {}
        if args.rows is not None and "rows" in inspect.signature(module.run).parameters:
            kwargs["rows"] = args.rows
        started = time.perf_counter()
        try:
            result = module.run(**kwargs)
        except Exception as exc:
            print(f"benchmark {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
            continue
        result.setdefault("benchmark_seconds", round(time.perf_counter() - started, 1))
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        print_table(name, result)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
