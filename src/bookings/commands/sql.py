"""``bookings sql "SELECT ..." --lake DIR``: ad-hoc Trino SQL on the offline lake (DuckDB)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("table", "csv", "json", "xlsx")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run a SQL query (Trino dialect, as in Athena) on the offline lake",
        description="Runs one statement written for Athena (Trino dialect) on the offline lake: "
        "sqlglot translates it for DuckDB. Tables: bookings, rejected_bookings and every view "
        "of sql/views (booking_facts, completion_by_*, segment_opportunities, ...). "
        "A file name ending in .sql is read as the statement.",
    )
    parser.add_argument("query", help="the SQL statement, or a path to a .sql file")
    parser.add_argument("--lake", default="out", help="the lake directory (default: out)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.add_argument("--out", help="write to this file instead of the terminal")
    parser.set_defaults(func=run)


def _statement(text: str) -> str:
    if text.strip().lower().endswith(".sql") and "\n" not in text:
        return Path(text.strip()).read_text(encoding="utf-8")
    return text


def run(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from bookings.analytics import exports
    from bookings.analytics.engine import QueryError, connect, run_sql

    if args.format == "xlsx" and not args.out:
        print("error: --format xlsx needs --out FILE", file=sys.stderr)
        return 2
    try:
        statement = _statement(args.query)
        con = connect(args.lake)
    except (FileNotFoundError, OSError, QueryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        table: pa.Table = run_sql(con, statement)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    out = Path(args.out) if args.out else None
    if args.format == "xlsx" and out is not None:
        exports.write_workbook({"query": table}, out)
    elif args.format == "csv":
        if out is not None:
            exports.write_csv(table, out)
        else:
            sys.stdout.write(exports.csv_text(table))
    else:
        text = exports.to_json(table) if args.format == "json" else exports.format_table(table)
        if out is not None:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
    if out is not None:
        print(f"{table.num_rows} rows written to {out}", file=sys.stderr)
    return 0
