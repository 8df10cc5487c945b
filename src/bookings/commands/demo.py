"""``bookings demo``: the whole project on this machine, with no argument and no AWS account.

1. generates booking files: a realistic 50,000-row file written like the public data set, a small
   dirty copy (UTF-8 with a BOM, LF endings, rows with faults), live bookings without outcomes,
   and a file that is not a booking CSV at all (an HTML error page saved as .csv);
2. trains the booking-completion model on the large file (into ``DIR/model``);
3. runs every file through the offline stack with the model served locally, so the live
   bookings get real scores, the faulty rows are rejected and the broken file is quarantined;
4. builds the KPI report and the dashboards;
5. prints what to open and three queries to try.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

DEFAULT_OUT = "demo-output"
DEFAULT_ROWS = 50_000
DIRTY_ROWS = 2_000
LIVE_ROWS = 5_000
BROKEN_FILE_TEXT = (
    "<!DOCTYPE html>\r\n<html><head><title>502 Bad Gateway</title></head>\r\n"
    "<body><h1>502 Bad Gateway</h1><p>The export service did not answer.</p></body></html>\r\n"
)

EXAMPLE_QUERIES = (
    (
        "completion rate by booking origin (top 10 by bookings)",
        "SELECT booking_origin, count(*) AS bookings, "
        "round(avg(booking_complete), 3) AS completion_rate FROM bookings "
        "WHERE booking_complete IS NOT NULL GROUP BY booking_origin "
        "ORDER BY bookings DESC LIMIT 10",
    ),
    (
        "live bookings the model scores highest, by route",
        "SELECT route, count(*) AS live_bookings, "
        "round(avg(booking_complete_probability), 3) AS predicted_completion FROM bookings "
        "WHERE booking_complete IS NULL GROUP BY route HAVING count(*) >= 5 "
        "ORDER BY predicted_completion DESC LIMIT 10",
    ),
    (
        "why rows were rejected",
        "SELECT reason, count(*) AS rows_rejected, arbitrary(message) AS example "
        "FROM rejected_bookings GROUP BY reason ORDER BY rows_rejected DESC",
    ),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="generate data, train the model, run the offline stack and build the dashboards",
        description="The whole pipeline on this machine in a few minutes: generates a realistic "
        "50,000-row booking file (plus a dirty one, live bookings and a broken file), trains "
        "the model, runs them through the offline stack with the model served locally, builds "
        "the report and the dashboards, and prints what to open.",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"({DEFAULT_OUT})")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"({DEFAULT_ROWS})")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=run)


@dataclass
class DemoFiles:
    main: Path
    dirty: Path
    live: Path
    broken: Path

    def all(self) -> list[str | Path]:
        return [self.main, self.dirty, self.live, self.broken]


def generate_files(data_dir: Path, rows: int) -> DemoFiles:
    from bookings.generator import generate_rows, write_csv

    data_dir.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date().isoformat()
    files = DemoFiles(
        main=data_dir / f"bookings_{today}.csv",
        dirty=data_dir / f"bookings_{today}_reexport.csv",
        live=data_dir / f"live_bookings_{today}.csv",
        broken=data_dir / f"bookings_{today}_export_error.csv",
    )
    write_csv(files.main, generate_rows(rows, 1), seed=1)
    write_csv(
        files.dirty,
        generate_rows(DIRTY_ROWS, 2),
        encoding="utf-8-sig",
        line_endings="lf",
        dirty=0.06,
        seed=2,
    )
    write_csv(files.live, generate_rows(LIVE_ROWS, 3), outcome=False, seed=3)
    files.broken.write_text(BROKEN_FILE_TEXT, encoding="utf-8")
    return files


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def train(data: Path, model_dir: Path, out: TextIO) -> Path | None:
    """Train the model on ``data`` into ``model_dir`` (kept when it is already there)."""
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        print(f"model: {archive} (already trained; delete it to train again)", file=out)
        return archive
    from bookings.cli import main as cli_main

    code = cli_main(["train", "--data", str(data), "--out", str(model_dir)])
    if code != 0 or not archive.is_file():
        print("model: training failed; the bookings stay unscored", file=out)
        return None
    return archive


def _step(message: str, out: TextIO) -> None:
    print(f"\n== {message}", file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    from bookings.commands.run import describe_file
    from bookings.offline.ledger import LedgerError
    from bookings.offline.runner import OfflineRunError, run_files
    from bookings.progress import create_progress

    if args.rows < 1:
        print("error: --rows must be at least 1", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    out = sys.stdout
    started = time.perf_counter()
    timings: dict[str, float] = {}

    _step(f"1. generating booking files in {out_dir / 'data'}", out)
    mark = time.perf_counter()
    try:
        files = generate_files(out_dir / "data", args.rows)
    except OSError as exc:
        print(f"error: {out_dir}: cannot write ({exc.strerror or exc})", file=sys.stderr)
        return 2
    timings["generate"] = time.perf_counter() - mark
    print(
        f"{files.main.name}: {args.rows:,} bookings (Latin-1, CRLF, like the public file)\n"
        f"{files.dirty.name}: {DIRTY_ROWS:,} bookings re-saved as UTF-8 with faults\n"
        f"{files.live.name}: {LIVE_ROWS:,} live bookings without an outcome (to be scored)\n"
        f"{files.broken.name}: an error page saved as .csv (to be quarantined)",
        file=out,
    )

    model: Path | None = None
    if _has("bookings.ml"):
        _step("2. training the booking-completion model", out)
        mark = time.perf_counter()
        model = train(files.main, out_dir / "model", out)
        timings["train"] = time.perf_counter() - mark
    else:
        _step("2. no model package installed: the bookings stay unscored", out)

    _step("3. running the files through the offline stack (moto, the real state machine)", out)
    mark = time.perf_counter()
    progress = create_progress(quiet=args.quiet)
    try:
        result = run_files(files.all(), out_dir, model=model, progress=progress)
    except (OfflineRunError, LedgerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    timings["run"] = time.perf_counter() - mark
    for item in result.files:
        for line in describe_file(item):
            print(line, file=out)
    print(
        f"lake: {result.lake['bookings']:,} bookings, {result.lake['rejected_bookings']:,} "
        "rejected rows",
        file=out,
    )

    dashboards: list[Path] = []
    report_dir = out_dir / "report"
    if _has("bookings.analytics"):
        _step("4. building the report and the dashboards", out)
        from bookings.analytics.report import build_report

        mark = time.perf_counter()
        report = build_report(out_dir, report_dir)
        dashboards = report.dashboards
        timings["report"] = time.perf_counter() - mark
        print(f"{len(report.csv_files)} KPI tables, workbook {report.workbook}", file=out)

    total = time.perf_counter() - started
    _step(f"done in {total:.0f} s ({_timings(timings)}). Open:", out)
    for path in dashboards:
        print(f"  dashboard  {path.resolve().as_uri()}", file=out)
    print(f"  catalog    {result.catalog}   (DuckDB: the Glue tables and KPI views)", file=out)
    print(f"  lake       {out_dir / 'lake'}   (Parquet, partitioned by ingest_date)", file=out)
    quarantined = [p for f in result.files for p in f.quarantined]
    if quarantined:
        print(f"  quarantine {out_dir / 'quarantine'}   (the broken file and its report)", file=out)
    print(f"  logs       {out_dir / 'logs' / 'functions.log'}", file=out)
    print("\nThree queries to try (Athena's SQL, run here on DuckDB):", file=out)
    for title, query in EXAMPLE_QUERIES:
        print(f"  # {title}", file=out)
        print(f"  bookings sql {shlex.quote(query)} --lake {shlex.quote(str(out_dir))}", file=out)
    return 1 if result.broken else 0


def _timings(timings: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
