"""``bookings compact --lake DIR``: the Glue compaction job on local Spark, on the offline lake."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compact",
        help="compact the lake's bookings and build the summary tables (local Spark)",
        description="Runs the compaction job AWS Glue runs, on local Spark: for each ingest "
        "date whose files or committed rows changed since the last run, writes the bookings "
        "of committed files, each booking_id once, as files of about --target-file-mib into "
        "DIR/lake/bookings_compacted, and the daily and monthly completion summaries into "
        "DIR/lake/booking_daily_summary and booking_monthly_summary. Nothing is published "
        "unless rows in = rows out + duplicates dropped + rows of uncommitted files. A run "
        "with nothing new changes nothing. Needs Java and pyspark (the 'spark' extra).",
    )
    parser.add_argument("--lake", default="out", help="the lake directory (default: out)")
    parser.add_argument(
        "--target-file-mib",
        type=float,
        default=128,
        help="the size each compacted file aims at, in MiB (default: 128)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--wait", action="store_true", help="wait for another writer of the folder to end"
    )
    parser.set_defaults(func=run)


def _error(message: object) -> int:
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def _spark_failure(exc: BaseException) -> str:
    """The first line of a Spark or JVM error, without its stack."""
    text = str(getattr(exc, "desc", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def summary_line(result: Any, seconds: float) -> str:
    if not result.changed:
        return (
            f"nothing to compact: {result.unchanged_partitions} partition(s) unchanged since "
            f"the last run ({seconds:.1f} s)"
        )
    return (
        f"{len(result.partitions)} partition(s) compacted in {seconds:.1f} s: "
        f"{result.rows_in} rows in = {result.rows_out} kept + {result.duplicates} duplicates "
        f"dropped + {result.uncommitted} of uncommitted files; "
        f"{result.files_in} files -> {result.files_out}; "
        f"{len(result.months)} month(s) summarised"
    )


def run(args: argparse.Namespace) -> int:
    from bookings.etl.local import SparkUnavailableError, check_spark
    from bookings.lake import resolve_lake
    from bookings.offline.lock import OutputFolderBusyError, OutputLock

    if args.target_file_mib <= 0:
        return _error("--target-file-mib must be positive")
    try:
        lake = resolve_lake(args.lake)
        check_spark()
    except (FileNotFoundError, SparkUnavailableError) as exc:
        return _error(exc)
    try:
        with OutputLock(lake, wait=args.wait):
            return _compact(args, lake)
    except OutputFolderBusyError as exc:
        return _error(exc)


def _compact(args: argparse.Namespace, lake: Any) -> int:
    from bookings.etl.compact_job import CompactionError, CountMismatch
    from bookings.etl.local import compact_lake

    started = time.perf_counter()
    try:
        run = compact_lake(lake, target_file_mib=args.target_file_mib)
    except CountMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except CompactionError as exc:
        return _error(exc)
    except Exception as exc:
        return _error(f"Spark failed: {_spark_failure(exc)}")
    if run.result.changed:
        from bookings.analytics.engine import build_catalog

        # The catalog's views over the compacted and summary tables see the new partitions.
        build_catalog(lake)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({**run.result.to_json(), "seconds": round(seconds, 3)}, indent=1))
    else:
        print(summary_line(run.result, seconds))
    return 0
