"""``bookings demo``: the whole project on this machine, with no argument and no AWS account.

1. generates booking files: 50,000 labelled bookings as the monthly exports of the last 25
   months, the current one included (``bookings_YYYY-MM-01.csv``, sizes following the season
   and a yearly growth; the oldest written like the public data set, the others in the
   encodings copies circulate in), a small dirty copy (UTF-8 with a BOM, LF endings, rows with
   faults), live bookings without outcomes, and a file that is not a booking CSV at all (an
   HTML error page saved as .csv);
2. trains the booking-completion model on the monthly exports (into ``DIR/model``);
3. runs every file through the offline stack with the model served locally, replaying each
   export on the date in its name, so the lake holds 24 complete ingest months (the last 12
   against the 12 before) and the month in progress; the live bookings get real scores, the
   faulty rows are rejected and the broken file is quarantined;
4. compacts the lake with the Glue compaction job on local Spark (each booking once, committed
   files only, daily and monthly summary tables), when Java and pyspark are installed;
5. builds the KPI report and the dashboards (the KPIs the summary tables answer read them);
6. prints what to open and three queries to try.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bookings.commands.run import add_wait_option

if TYPE_CHECKING:
    from bookings.offline.lock import OutputLock

from bookings.errors import CommandError

DEFAULT_OUT = "demo-output"
DEFAULT_ROWS = 50_000
# 24 complete months and the current one, in progress: the direction's last 12 complete months
# have 12 complete months before them to compare with.
HISTORY_MONTHS = 25
# Relative booking volume per calendar month (January first): the winter holidays, the spring
# and summer peaks, the autumn trough.
MONTH_SEASONALITY = (1.04, 0.90, 0.98, 1.02, 1.08, 1.18, 1.24, 1.14, 0.94, 0.90, 0.86, 1.06)
YEARLY_GROWTH = 0.08
# How each monthly export was saved, cycled over the months after the first (which is Latin-1
# with CRLF endings, like the public file).
MONTHLY_FORMATS = (
    ("latin-1", "crlf"),
    ("latin-1", "crlf"),
    ("utf-8-sig", "crlf"),
    ("latin-1", "crlf"),
    ("utf-8", "lf"),
    ("latin-1", "crlf"),
)
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
        description="The whole pipeline on this machine in a few minutes: generates 50,000 "
        "realistic bookings as the monthly exports of the last 25 months (plus a dirty file, "
        "live bookings and a broken file), trains the model, runs them through the offline "
        "stack with the model served locally, replaying each export on the date in its name "
        "(so the dashboards have 24 complete months of history and the month in progress), "
        "builds the report and the dashboards, and prints what to open.",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"({DEFAULT_OUT})")
    parser.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        help=f"labelled bookings over the monthly exports ({DEFAULT_ROWS})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_wait_option(parser)
    parser.set_defaults(func=run)


@dataclass
class MonthlyExport:
    path: Path
    rows: int
    encoding: str
    line_endings: str


@dataclass
class DemoFiles:
    monthly: list[MonthlyExport]
    dirty: Path
    live: Path
    broken: Path

    def all(self) -> list[str | Path]:
        return [*(export.path for export in self.monthly), self.dirty, self.live, self.broken]

    @property
    def labelled(self) -> list[Path]:
        return [export.path for export in self.monthly]


def month_starts(today: date, months: int = HISTORY_MONTHS) -> list[date]:
    """The first day of each of the last ``months`` months, the current one last."""
    index = today.year * 12 + today.month - 1
    return [
        date(position // 12, position % 12 + 1, 1)
        for position in range(index - months + 1, index + 1)
    ]


def monthly_sizes(starts: list[date], total: int) -> list[int]:
    """``total`` rows shared between the months by season and growth; the sizes add up exactly
    (largest remainders get the rows rounding leaves over)."""
    weights = [
        MONTH_SEASONALITY[start.month - 1] * (1 + YEARLY_GROWTH) ** (position / 12)
        for position, start in enumerate(starts)
    ]
    shares = [total * weight / sum(weights) for weight in weights]
    sizes = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: sizes[i] - shares[i])
    for position in by_remainder[: total - sum(sizes)]:
        sizes[position] += 1
    return sizes


def generate_files(data_dir: Path, rows: int, today: date | None = None) -> DemoFiles:
    from bookings.generator import generate_rows, write_csv

    data_dir.mkdir(parents=True, exist_ok=True)
    today = today or datetime.now(UTC).date()
    day = today.isoformat()
    starts = month_starts(today)
    monthly: list[MonthlyExport] = []
    for position, (start, size) in enumerate(zip(starts, monthly_sizes(starts, rows), strict=True)):
        if size == 0:  # only with a tiny --rows: an export without bookings is not written
            continue
        encoding, line_endings = (
            ("latin-1", "crlf")
            if position == 0
            else MONTHLY_FORMATS[position % len(MONTHLY_FORMATS)]
        )
        path = data_dir / f"bookings_{start.isoformat()}.csv"
        # One seed per month: the same months always hold the same bookings.
        seed = 1000 + position
        write_csv(
            path,
            generate_rows(size, seed),
            encoding=encoding,
            line_endings=line_endings,
            seed=seed,
        )
        monthly.append(MonthlyExport(path, size, encoding, line_endings))
    files = DemoFiles(
        monthly=monthly,
        dirty=data_dir / f"bookings_{day}_reexport.csv",
        live=data_dir / f"live_bookings_{day}.csv",
        broken=data_dir / f"bookings_{day}_export_error.csv",
    )
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


def train(data: list[Path], model_dir: Path, out: TextIO) -> Path | None:
    """Train the model on the ``data`` files into ``model_dir`` (kept when it is already there)."""
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        print(f"model: {archive} (already trained; delete it to train again)", file=out)
        return archive
    from bookings.cli import main as cli_main

    code = cli_main(["train", "--data", *map(str, data), "--out", str(model_dir)])
    if code != 0 or not archive.is_file():
        print("model: training failed; the bookings stay unscored", file=out)
        return None
    return archive


def _step(message: str, out: TextIO) -> None:
    print(f"\n== {message}", file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    """The demo holds its output folder's writer lock from the first generated file to the
    last dashboard."""
    from bookings.offline.lock import OutputFolderBusyError, OutputLock

    if args.rows < 1:
        raise CommandError("--rows must be at least 1")
    lock = OutputLock(args.out, wait=args.wait)
    try:
        lock.acquire()
    except OutputFolderBusyError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    try:
        return _run_locked(args, lock)
    finally:
        lock.release()


def _generate(out_dir: Path, rows: int, out: TextIO, timings: dict[str, float]) -> DemoFiles:
    _step(f"1. generating booking files in {out_dir / 'data'}", out)
    mark = time.perf_counter()
    try:
        files = generate_files(out_dir / "data", rows)
    except OSError as exc:
        raise CommandError(f"{out_dir}: cannot write ({exc.strerror or exc})") from None
    timings["generate"] = time.perf_counter() - mark
    first, last = files.monthly[0], files.monthly[-1]
    sizes = [export.rows for export in files.monthly]
    print(
        f"{len(files.monthly)} monthly exports {first.path.name} .. {last.path.name}: "
        f"{rows:,} bookings ({min(sizes):,} to {max(sizes):,} a month; the first in "
        "Latin-1 with CRLF like the public file, the others as copies circulate)\n"
        f"{files.dirty.name}: {DIRTY_ROWS:,} bookings re-saved as UTF-8 with faults\n"
        f"{files.live.name}: {LIVE_ROWS:,} live bookings without an outcome (to be scored)\n"
        f"{files.broken.name}: an error page saved as .csv (to be quarantined)",
        file=out,
    )

    return files


def _run_locked(args: argparse.Namespace, lock: OutputLock) -> int:
    """The demo's steps in order, each reporting its own failure."""
    from bookings.commands.run import describe_file
    from bookings.offline.ledger import LedgerError
    from bookings.offline.session import OfflineRunError, run_files
    from bookings.progress import create_progress

    out_dir = Path(args.out)
    out = sys.stdout
    started = time.perf_counter()
    timings: dict[str, float] = {}

    files = _generate(out_dir, args.rows, out, timings)
    model: Path | None = None
    if _has("bookings.ml"):
        _step("2. training the booking-completion model", out)
        mark = time.perf_counter()
        model = train(files.labelled, out_dir / "model", out)
        timings["train"] = time.perf_counter() - mark
    else:
        _step("2. no model package installed: the bookings stay unscored", out)

    _step(
        "3. running the files through the offline stack (moto, the real state machine), each "
        "export replayed on the date in its name",
        out,
    )
    mark = time.perf_counter()
    progress = create_progress(quiet=args.quiet)
    try:
        result = run_files(
            files.all(), out_dir, model=model, progress=progress, replay_dates=True, lock=lock
        )
    except (OfflineRunError, LedgerError) as exc:
        raise CommandError(str(exc)) from None
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

    compact(out_dir, out, timings)

    dashboards: list[Path] = []
    report_dir = out_dir / "report"
    if _has("bookings.analytics"):
        _step("5. building the report and the dashboards", out)
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


def compact(out_dir: Path, out: TextIO, timings: dict[str, float]) -> None:
    """Step 4: the compaction job on local Spark; without Java or pyspark the demo goes on and
    every KPI scans the bookings."""
    from bookings.commands.compact import summary_line
    from bookings.etl.local import SparkUnavailableError, check_spark

    try:
        check_spark()
    except SparkUnavailableError as exc:
        _step(f"4. not compacting the lake: {exc}", out)
        return
    _step("4. compacting the lake (the Glue compaction job, on local Spark)", out)
    from bookings.analytics.engine import build_catalog
    from bookings.etl.local import compact_lake

    mark = time.perf_counter()
    run = compact_lake(out_dir)
    build_catalog(out_dir)
    timings["compact"] = time.perf_counter() - mark
    print(summary_line(run.result, timings["compact"]), file=out)


def _timings(timings: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
