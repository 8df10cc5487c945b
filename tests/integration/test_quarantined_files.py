"""The quarantined_files view reads the audit trail: a file is listed while its latest outcome
(committed, quarantined or failed) is quarantined, with its error, its reason and how far it
got, and the data-quality KPIs and latest ingests list it from there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from booking_core.audit import IngestAuditRow, one_line

from bookings.analytics.engine import connect
from bookings.lake import LakeWriter

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
REASON = "missing required column(s): route"


def audit_row(name: str, status: str, minutes: int, **fields: Any) -> dict[str, Any]:
    source_file = f"s3://raw/incoming/{name}#etag-{name}"
    return IngestAuditRow(
        bucket="raw",
        object_key=f"incoming/{name}",
        etag=f"etag-{name}",
        source_file=source_file,
        status=status,  # type: ignore[arg-type]
        execution=f"{name}-{minutes}",
        finished_at=START + timedelta(minutes=minutes),
        **fields,
    ).model_dump()


def quarantined_error(name: str) -> str:
    """The error QuarantineFile writes: the caught error's name, then its message, which names
    the file first."""
    return one_line(f"UnreadableFile: s3://raw/incoming/{name}#etag-{name}: {REASON}")


def query(root: Path, sql: str) -> list[dict[str, Any]]:
    con = connect(root)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def test_the_latest_outcome_of_each_file_decides(tmp_path: Path) -> None:
    rows = [
        # Failed half-way: listed with how far it got.
        audit_row(
            "partial.csv",
            "quarantined",
            1,
            rows=10,
            valid=8,
            rejected=2,
            delivered=5,
            scored=5,
            started_at=START,
            error=one_line(
                "States.TaskFailed: s3://raw/incoming/partial.csv#etag-partial.csv: "
                "Deliver timed out"
            ),
        ),
        # Quarantined, then uploaded again and committed: no longer listed.
        audit_row("retried.csv", "quarantined", 2, error=quarantined_error("retried.csv")),
        audit_row("retried.csv", "committed", 3, rows=4, valid=4, rejected=0, delivered=4),
        # Committed, then a later upload of it quarantined: listed.
        audit_row("later.csv", "committed", 4, rows=4, valid=4, rejected=0, delivered=4),
        audit_row("later.csv", "quarantined", 5, error=quarantined_error("later.csv")),
        # A duplicate execution after the quarantine says nothing of the file's rows.
        audit_row("unreadable.csv", "quarantined", 6, error=quarantined_error("unreadable.csv")),
        audit_row("unreadable.csv", "duplicate", 7),
        # An export that did not reconcile offline is failed, not quarantined.
        audit_row("failed.csv", "failed", 8, error="the export did not reconcile"),
    ]
    with LakeWriter(tmp_path) as writer:
        writer.add_audit(rows)

    listed = {
        r["object_key"]: r
        for r in query(tmp_path, "SELECT * FROM quarantined_files ORDER BY quarantined_at")
    }
    assert sorted(listed) == [
        "incoming/later.csv",
        "incoming/partial.csv",
        "incoming/unreadable.csv",
    ]
    partial = listed["incoming/partial.csv"]
    assert (partial["error_name"], partial["reason"]) == ("States.TaskFailed", "Deliver timed out")
    assert (
        partial["rows_read"],
        partial["valid_rows"],
        partial["rejected_rows"],
        partial["delivered_rows"],
        partial["scored_rows"],
    ) == (10, 8, 2, 5, 5)
    assert partial["quarantined_at"] == START + timedelta(minutes=1)
    assert partial["execution"] == "partial.csv-1"
    unreadable = listed["incoming/unreadable.csv"]
    assert (unreadable["error_name"], unreadable["reason"]) == ("UnreadableFile", REASON)
    assert unreadable["rows_read"] is None  # Validate never counted it
    assert listed["incoming/later.csv"]["quarantined_at"] == START + timedelta(minutes=5)

    # Where users look: the data-quality summary and table, the latest ingests.
    (summary,) = query(tmp_path, "SELECT quarantined_files FROM data_quality_summary")
    assert summary["quarantined_files"] == 3
    by_file = {
        r["file_name"]: r
        for r in query(tmp_path, "SELECT * FROM data_quality_by_file WHERE status = 'quarantined'")
    }
    assert {name: r["reason"] for name, r in by_file.items()} == {
        "partial.csv": "Deliver timed out",
        "later.csv": REASON,
        "unreadable.csv": REASON,
    }
    latest = query(
        tmp_path,
        "SELECT file_name, status, last_ingested_at FROM latest_ingests "
        "ORDER BY last_ingested_at DESC",
    )
    assert [(r["file_name"], r["status"]) for r in latest] == [
        ("unreadable.csv", "quarantined"),
        ("later.csv", "quarantined"),
        ("partial.csv", "quarantined"),
    ]
