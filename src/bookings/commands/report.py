"""``bookings report --lake DIR --out DIR``: KPI CSVs, the Excel workbook and the dashboards."""

from __future__ import annotations

import argparse
from pathlib import Path

from bookings.errors import CommandError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the KPI tables (CSV), the Excel workbook and the dashboards",
        description="Runs every KPI of sql/views on the offline lake and writes one CSV per KPI, "
        "kpis.xlsx (a sheet per KPI) and the marketing, analyst and direction dashboards "
        "(self-contained HTML) plus the printable direction report.",
    )
    parser.add_argument("--lake", default="out", help="the lake directory (default: out)")
    parser.add_argument("--out", default=None, help="where to write (default: LAKE/report)")
    parser.add_argument(
        "--no-dashboards", action="store_true", help="only the CSV files and the workbook"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bookings.analytics.engine import QueryError
    from bookings.analytics.report import build_report

    out = Path(args.out) if args.out else Path(args.lake) / "report"
    try:
        result = build_report(args.lake, out, dashboards=not args.no_dashboards)
    except (FileNotFoundError, QueryError) as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc})") from None
    print(
        f"{len(result.csv_files)} KPI tables, {result.workbook.name if result.workbook else '-'}"
        f" and {len(result.dashboards)} dashboards written to {out}"
        f" in {result.seconds['total']:.1f} s"
    )
    for path in result.dashboards:
        print(f"  {path}")
    return 0
