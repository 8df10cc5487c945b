"""``bookings validate PATH [--json] [--out DIR] [--booking-date YYYY-MM-DD]``.

Exit 0 when the file could be read (even with rejected rows), 2 when it cannot be processed at
all (one line on stderr naming the file and the problem), 1 on an internal error. With ``--out``,
writes ``DIR/<stem>.enriched.jsonl``, ``DIR/<stem>.rejected.jsonl`` and ``DIR/<stem>.summary.json``.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bookings.errors import fail

if TYPE_CHECKING:
    from booking_core.pipeline import ValidationRun

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_UNREADABLE = 2
ARCHIVE_SUFFIXES = (".gz", ".zip", ".csv", ".txt", ".tsv")
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
WRITE_BUFFER_BYTES = 1 << 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a booking file: counts, rejected rows with reasons, optional JSON Lines output",
        description="Read a booking CSV (any supported encoding, gzip or zip), validate every "
        "row and report. Exit 0 when the file could be read, 2 when it cannot be processed.",
    )
    parser.add_argument("path", type=Path, help="the booking file (.csv, .csv.gz or .zip)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--out", type=Path, help="write <stem>.enriched.jsonl, .rejected.jsonl, .summary.json here"
    )
    parser.add_argument(
        "--booking-date",
        type=_parse_date,
        help="date the bookings were made (default: a YYYY-MM-DD date in the file name, if any)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        help="processes that share a large plain file's work with --out "
        "(default: one per usable core, at most 2; 1 reads it in this process)",
    )
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def booking_date_from_name(path: Path) -> date | None:
    for match in _DATE_IN_NAME.finditer(path.name):
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:
            continue
    return None


def output_stem(path: Path) -> str:
    """``bookings_2026-11-24.csv.gz`` -> ``bookings_2026-11-24``."""
    name = path.name
    while True:
        lowered = name.lower()
        suffix = next((s for s in ARCHIVE_SUFFIXES if lowered.endswith(s)), None)
        if suffix is None or len(name) == len(suffix):
            return name
        name = name[: -len(suffix)]


def run(args: argparse.Namespace) -> int:
    import orjson
    from booking_core.errors import UnreadableFileError

    path: Path = args.path
    try:
        summary = _validate(path, args)
    except UnreadableFileError as exc:
        return _fail(args, str(path), exc.problem, EXIT_UNREADABLE)
    except IsADirectoryError:
        return _fail(args, str(path), "is a directory, not a file", EXIT_UNREADABLE)
    except FileNotFoundError:
        return _fail(args, str(path), "no such file", EXIT_UNREADABLE)
    except PermissionError:
        return _fail(args, str(path), "permission denied", EXIT_UNREADABLE)
    except OSError as exc:
        return _fail(args, str(path), f"cannot read: {exc.strerror or exc}", EXIT_UNREADABLE)
    except Exception as exc:  # the command's promise: one line, never a traceback
        problem = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        return _fail(args, str(path), problem, EXIT_INTERNAL_ERROR)
    if args.json:
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    else:
        sys.stdout.write(_human(summary))
    return EXIT_OK


def _fail(args: argparse.Namespace, file: str, problem: str, code: int) -> int:
    import orjson

    fail(f"{file}: {problem}", code)
    if args.json:
        sys.stdout.write(orjson.dumps({"file": file, "error": problem}).decode() + "\n")
    return code


def _validate(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    from booking_core.pipeline import validate_stream

    from bookings.fastpath import parallel

    if path.is_dir():
        raise IsADirectoryError(str(path))
    booking_date = args.booking_date or booking_date_from_name(path)
    with path.open("rb") as stream:
        if args.out is None:
            run = validate_stream(stream, source_file=str(path))
            for _ in run:
                pass
            return _summary_dict(run, booking_date, {})
        workers = args.workers if args.workers is not None else parallel.default_workers()
        return _write_outputs(stream, path, args.out, booking_date, workers)


def _write_outputs(
    stream: Any, path: Path, out_dir: Path, booking_date: date | None, workers: int
) -> dict[str, Any]:
    import orjson
    from booking_core.jsonl import BackgroundWriter
    from booking_core.pipeline import process_stream

    from bookings.fastpath import parallel
    from bookings.fastpath.writer import write_jsonl

    stem = output_stem(path)
    ingested_at = datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    enriched_path = out_dir / f"{stem}.enriched.jsonl"
    rejected_path = out_dir / f"{stem}.rejected.jsonl"
    summary_path = out_dir / f"{stem}.summary.json"
    run: ValidationRun | None = None
    if parallel.worth_it(path, workers):
        result = parallel.write_in_parallel(
            path,
            enriched_path=enriched_path,
            rejected_path=rejected_path,
            booking_date=booking_date,
            ingested_at=ingested_at,
            workers=workers,
        )
        run = result.run if result is not None else None
    if run is None:
        processing = process_stream(
            stream, source_file=str(path), booking_date=booking_date, ingested_at=ingested_at
        )
        with (
            enriched_path.open("wb", buffering=WRITE_BUFFER_BYTES) as enriched,
            rejected_path.open("wb") as rejected,
            BackgroundWriter(enriched) as enriched_writer,
        ):
            write_jsonl(processing, enriched_writer, rejected)
        run = processing.validation
    outputs = {
        "enriched": str(enriched_path),
        "rejected": str(rejected_path),
        "summary": str(summary_path),
    }
    summary = _summary_dict(run, booking_date, outputs)
    summary_path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    return summary


def _summary_dict(
    run: ValidationRun, booking_date: date | None, outputs: dict[str, str]
) -> dict[str, Any]:
    summary: dict[str, Any] = run.summary.model_dump(mode="json")
    summary["booking_date"] = booking_date.isoformat() if booking_date else None
    if outputs:
        summary["outputs"] = outputs
    return summary


def _human(summary: dict[str, Any]) -> str:
    storage = ", ".join(
        part
        for part in (
            summary["encoding"],
            summary["compression"],
            summary["line_endings"] and summary["line_endings"].upper(),
            f"delimiter {summary['delimiter']!r}" if summary["delimiter"] != "," else None,
        )
        if part
    )
    lines = [
        f"{summary['file']}: {summary['rows']} rows, {summary['valid']} valid, "
        f"{summary['rejected']} rejected, {summary['duplicates']} duplicates ({storage})"
    ]
    if not summary["has_outcome"]:
        lines.append("  no booking_complete column: live bookings without an outcome")
    if summary["reasons"]:
        lines.append("  rejected: " + ", ".join(f"{k} {v}" for k, v in summary["reasons"].items()))
    if summary["normalisations"]:
        lines.append(
            "  normalised: " + ", ".join(f"{k} {v}" for k, v in summary["normalisations"].items())
        )
    if summary["unknown_columns"]:
        lines.append("  unknown columns (ignored): " + ", ".join(summary["unknown_columns"]))
    if summary["ignored_columns"]:
        lines.append(f"  empty unnamed columns ignored: {summary['ignored_columns']}")
    for kind, target in summary.get("outputs", {}).items():
        lines.append(f"  {kind}: {target}")
    return "\n".join(lines) + "\n"
