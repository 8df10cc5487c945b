"""``bookings audit --lake DIR``: the ingest audit trail, and the lake checked against it."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bookings.errors import CommandError

# The columns of the human table (the JSON has every field).
SHOWN = (
    "finished_at",
    "status",
    "object_key",
    "rows",
    "valid",
    "rejected",
    "delivered",
    "crawler_status",
    "note",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="show the ingest audit trail and check the lake against it",
        description="Shows ingest_audit (one row per file execution: its object, counts, "
        "outcome, and the file it duplicates or that supersedes it), then checks every file "
        "whose latest outcome is committed: the lake holds exactly the bookings it delivered "
        "and the rows it rejected, each booking_id once; a quarantined or failed file holds "
        "nothing. Exits 1 when any file does not reconcile. A reader: it never waits for a "
        "writer of the folder.",
    )
    parser.add_argument("--lake", default="out", help="the lake directory (default: out)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _note(row: dict[str, Any]) -> str:
    if row.get("duplicate_of"):
        return f"duplicate of {row['duplicate_of']}"
    if row.get("superseded_by"):
        return f"superseded by {row['superseded_by']}"
    return " ".join(str(row.get("error") or "").split())[:120]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _table(rows: list[dict[str, Any]]) -> str:
    import pyarrow as pa

    from bookings.analytics.exports import format_table

    shown = [
        {**{name: _cell(row.get(name)) for name in SHOWN[:-1]}, "note": _note(row)} for row in rows
    ]
    columns = {name: [row[name] for row in shown] for name in SHOWN}
    return format_table(pa.table(columns), max_rows=len(shown) or 1)


def run(args: argparse.Namespace) -> int:
    from bookings.analytics.audit import audit_lake
    from bookings.analytics.engine import QueryError

    try:
        report = audit_lake(args.lake)
    except (FileNotFoundError, QueryError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(report.to_json(), indent=1, default=str))
    else:
        print(_table(report.rows) if report.rows else "no audit rows yet")
        committed = sum(1 for check in report.files if check.status == "committed")
        visible = sum(1 for check in report.files if check.visible)
        print(
            f"{len(report.files)} file(s): {committed} committed ({visible} visible, the latest "
            f"version of their key), {len(report.files) - committed} not committed"
        )
        for problem in report.problems:
            print(f"does not reconcile: {problem}")
        if report.reconciled:
            print("every committed file reconciles with the lake")
    return 0 if report.reconciled else 1
