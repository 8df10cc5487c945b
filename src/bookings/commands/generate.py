"""``bookings generate``: write a booking file like the public reference data set."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bookings.errors import CommandError


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def _row_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a booking file with the public data set's distributions and quirks",
        description="Write N generated bookings as CSV. By default the file is written exactly "
        "like the public reference file: Latin-1, CRLF line endings, no final newline.",
    )
    parser.add_argument("--rows", type=_row_count, default=50_000, help="data rows (50000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--encoding", choices=("latin-1", "utf-8", "utf-8-sig"), default="latin-1")
    parser.add_argument("--line-endings", choices=("crlf", "lf"), default="crlf")
    parser.add_argument(
        "--dirty",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="fraction of rows given a realistic fault (0)",
    )
    parser.add_argument(
        "--no-outcome",
        action="store_true",
        help="leave out booking_complete, like live bookings that have no outcome yet",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bookings.generator import generate_rows, write_csv

    out: Path = args.out
    if out.parent and not out.parent.exists():
        raise CommandError(f"{out}: directory {out.parent} does not exist")
    if out.is_dir():
        raise CommandError(f"{out}: is a directory; --out names the CSV file to write")
    started = time.perf_counter()
    try:
        summary = write_csv(
            out,
            generate_rows(args.rows, args.seed),
            encoding=args.encoding,
            line_endings=args.line_endings,
            dirty=args.dirty,
            outcome=not args.no_outcome,
            seed=args.seed,
        )
    except OSError as exc:
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc})") from None
    elapsed = time.perf_counter() - started
    faults = f", {summary.faulty_rows} with faults" if args.dirty else ""
    print(
        f"{out}: {summary.rows} rows{faults} ({args.encoding}, {args.line_endings}) "
        f"in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0
