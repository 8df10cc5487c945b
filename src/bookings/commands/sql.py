"""``bookings sql "SELECT ..." --lake DIR``: ad-hoc Trino SQL on the offline lake (DuckDB)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bookings.errors import CommandError

FORMATS = ("table", "csv", "json", "xlsx", "parquet")
# The format an --out file's extension chooses when --format does not say.
EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".txt": "table",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run a SQL query (Trino dialect, as in Athena) on the offline lake",
        description="Runs one statement written for Athena (Trino dialect) on the offline lake: "
        "sqlglot translates it for DuckDB, and a Trino function that would mean something else "
        "offline is translated to keep its meaning or refused (docs/sql.md lists them). Tables: "
        "bookings, rejected_bookings and every view of sql/views (booking_facts, "
        "completion_by_*, segment_opportunities, ...), also under the Glue database's name "
        "(airline_bookings_dev.bookings). A file name ending in .sql is read as the statement.",
    )
    parser.add_argument("query", help="the SQL statement, or a path to a .sql file")
    parser.add_argument("--lake", default="out", help="the lake directory (default: out)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="table (the terminal's default), csv, json, xlsx or parquet; with --out, the "
        "file's extension chooses (.csv, .json, .xlsx, .parquet, .txt) unless this says",
    )
    parser.add_argument("--out", help="write to this file instead of the terminal")
    parser.set_defaults(func=run)


def _statement(text: str) -> str:
    if text.strip().lower().endswith(".sql") and "\n" not in text:
        path = Path(text.strip())
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return text


def output_format(requested: str | None, out: Path | None) -> str:
    """--format when given; else the --out file's extension; else a table on the terminal."""
    if requested:
        return requested
    if out is None:
        return "table"
    chosen = EXTENSIONS.get(out.suffix.lower())
    if chosen is None:
        known = ", ".join(EXTENSIONS)
        raise CommandError(
            f"{out}: cannot tell the format from the extension (one of {known}); add --format"
        )
    return chosen


def run(args: argparse.Namespace) -> int:
    from bookings.analytics.engine import QueryError, fetch_rows, open_catalog

    out = Path(args.out) if args.out else None
    fmt = output_format(args.format, out)
    if fmt in {"xlsx", "parquet"} and out is None:
        raise CommandError(f"--format {fmt} needs --out FILE")
    statement = _statement(args.query)
    try:
        con = open_catalog(args.lake)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    except QueryError as exc:
        raise CommandError(str(exc)) from None
    try:
        if fmt == "parquet" and out is not None:
            from bookings.analytics.engine import copy_to_parquet

            count = copy_to_parquet(con, statement, out)
            print(f"{count} rows written to {out}", file=sys.stderr)
            return 0
        rows = fetch_rows(con, statement)
    except QueryError as exc:
        raise CommandError(str(exc)) from None
    finally:
        con.close()
    _write(rows, fmt, out)
    if out is not None:
        print(f"{rows.num_rows} rows written to {out}", file=sys.stderr)
    return 0


def _write(rows: object, fmt: str, out: Path | None) -> None:
    from bookings.analytics import exports
    from bookings.analytics.engine import Rows

    assert isinstance(rows, Rows)
    try:
        if fmt == "xlsx" and out is not None:
            exports.write_workbook({"query": rows}, out)
        elif fmt == "csv":
            if out is not None:
                exports.write_csv(rows, out)
            else:
                sys.stdout.write(exports.csv_text(rows))
        else:
            text = exports.to_json(rows) if fmt == "json" else exports.format_table(rows)
            if out is not None:
                out.write_text(text + "\n", encoding="utf-8")
            else:
                print(text)
    except OSError as exc:
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc})") from None
