"""``bookings run FILE... --out DIR``: the whole pipeline on this machine, as a user runs it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bookings.errors import CommandError

if TYPE_CHECKING:
    from bookings.offline.session import FileResult, RunResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="process booking files through the offline stack (no AWS account needed)",
        description="Starts an emulated AWS account (moto) with the stack of template.yaml, "
        "uploads each FILE under incoming/, lets the ingest state machine run to its end with "
        "the real handlers, then exports the lake to DIR/lake/ (Parquet, partitioned as in AWS) "
        "and builds DIR/catalog.duckdb. Running again with the same files adds nothing; new "
        "files append. A quarantined file is an outcome, not an error (exit 0). One process "
        "writes to DIR at a time: another run, watch or demo on it fails at once (or waits, "
        "with --wait).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="booking files (.csv, .gz, .zip)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (and no progress)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--model",
        metavar="MODEL",
        help="model.tar.gz to score with (default: DIR/model/model.tar.gz when it exists)",
    )
    parser.add_argument(
        "--replay-dates",
        action="store_true",
        help="replaying historical exports: upload each file on the date in its name "
        "(bookings_2025-03-01.csv: event time, ingested_at and ingest_date partition on "
        "2025-03-01); files without a date, or dated in the future, keep now. Offline only, "
        "to load history: in AWS, Firehose partitions by arrival time",
    )
    add_wait_option(parser)
    parser.set_defaults(func=run)


def add_wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="when another bookings process is writing to the output directory, wait for it "
        "to end (default: fail at once, naming it)",
    )


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def describe_file(result: FileResult) -> list[str]:
    """The human summary of one file: its counts, what became of it, then the states it went
    through and the time in each handler."""
    lines = [_headline(result), *_outcome_notes(result)]
    for child, label in ((False, "states"), (True, "states of the chunks' child executions")):
        parts = []
        for state in result.states:
            if state.child != child:
                continue
            count = f" x{state.visits}" if state.visits > 1 else ""
            mark = " (failed)" if state.failed else ""
            parts.append(f"{state.state}{count} {_seconds(state.seconds)}{mark}")
        if parts:
            lines.append(f"  {label}: " + ", ".join(parts))
    if result.handlers:
        parts = []
        for function, timing in result.handlers.items():
            calls = int(timing["invocations"])
            times = f" x{calls}" if calls > 1 else ""
            parts.append(f"{function}{times} {_seconds(timing['seconds'])}")
        parts.append(f"export to the lake {_seconds(result.export_seconds)}")
        lines.append("  time in handlers: " + ", ".join(parts))
    return lines


def _headline(result: FileResult) -> str:
    head = f"{result.file}: {result.status}"
    if result.status == "succeeded":
        head += (
            f"  rows {result.rows:,}  valid {result.valid:,}  rejected {result.rejected:,}  "
            f"delivered {result.delivered:,}  scored {result.scored:,}"
        )
    head += f"  ({_seconds(result.seconds)})"
    if result.replayed and result.uploaded_at:
        head += f"  replayed as uploaded {result.uploaded_at[:10]}"
    return head


def _outcome_notes(result: FileResult) -> list[str]:
    """Why it ended so, the file it duplicates or its versions, what was not committed, the
    warnings and the quarantined copies."""
    notes = [
        f"  {label}: {value}"
        for label, value in (
            ("reason", result.error),
            ("duplicate of", result.duplicate_of),
            ("replaces the previous version", result.supersedes),
            ("superseded by a newer version", result.superseded_by),
        )
        if value
    ]
    if result.discarded_bookings or result.discarded_rejected:
        notes.append(
            f"  not committed: {result.discarded_bookings:,} delivered bookings and "
            f"{result.discarded_rejected:,} rejected rows left out of the lake"
        )
    notes += [f"  warning: {warning}" for warning in result.warnings]
    notes += [f"  quarantined copy: {path}" for path in result.quarantined]
    return notes


def print_summary(result: RunResult, stream: TextIO) -> None:
    if result.recovered:
        print(f"recovered from an interrupted run: {result.recovered}", file=stream)
    for item in result.files:
        for line in describe_file(item):
            print(line, file=stream)
    lake = result.lake
    print(
        f"lake: {lake.get('bookings', 0):,} bookings, {lake.get('rejected_bookings', 0):,} "
        f"rejected rows in {result.out / 'lake'}",
        file=stream,
    )
    if result.catalog is not None:
        print(f"catalog: {result.catalog}", file=stream)
    print(
        f"model: {result.model}" if result.model else "model: none (bookings are unscored)",
        file=stream,
    )


def check_files(files: list[str]) -> None:
    """One line for the first argument that is not a file a run can take."""
    for name in files:
        path = Path(name)
        if path.is_dir():
            raise CommandError(
                f"{path}: is a directory; give the booking files in it (for example {path}/*.csv)"
            )
        if not path.exists():
            raise CommandError(f"{path}: no such file")


def run(args: argparse.Namespace) -> int:
    from bookings.offline.ledger import LedgerError
    from bookings.offline.session import OfflineRunError, run_files
    from bookings.progress import create_progress

    check_files(args.files)
    # --json keeps stderr quiet too: the JSON object is the whole output.
    progress = create_progress(quiet=args.quiet or args.json)
    try:
        result = run_files(
            args.files,
            args.out,
            model=args.model,
            progress=progress,
            replay_dates=args.replay_dates,
            wait=args.wait,
        )
    except (OfflineRunError, LedgerError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        progress.close()
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print_summary(result, sys.stdout)
    return 1 if result.broken else 0
