"""The offline lake checked against its audit trail (``bookings audit``).

For every file whose latest outcome in ``ingest_audit`` is ``committed``: the lake holds exactly
the rows it delivered and rejected (``bookings`` rows of the file == delivered, rejected rows ==
rejected) and no booking_id twice. For every other file (quarantined, failed): the lake holds
none of its rows. Any difference is a problem, named in one line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from bookings.analytics.engine import connect

AUDIT_ROWS_SQL = """
SELECT
    finished_at, status, object_key, execution, rows, valid, rejected, delivered, scored,
    crawler_status, duplicate_of, superseded_by, error, source_file, checksum_sha256,
    version_id, etag, sequencer, started_at
FROM ingest_audit
ORDER BY finished_at, execution
"""

# Per file: its latest outcome, what it says it delivered and rejected, and what the lake holds.
FILES_SQL = """
WITH outcomes AS (
    SELECT
        source_file, object_key, status, delivered, rejected,
        row_number() OVER (PARTITION BY source_file ORDER BY finished_at DESC) AS recency
    FROM ingest_audit
    WHERE status IN ('committed', 'quarantined', 'failed')
),
latest AS (SELECT * FROM outcomes WHERE recency = 1),
stored AS (
    SELECT source_file, count(*) AS rows_in_lake, count(DISTINCT booking_id) AS distinct_ids
    FROM bookings
    GROUP BY source_file
),
stored_rejected AS (
    SELECT source_file, count(*) AS rejected_in_lake
    FROM rejected_bookings
    GROUP BY source_file
)
SELECT
    l.source_file,
    l.object_key,
    l.status,
    l.delivered,
    l.rejected,
    coalesce(s.rows_in_lake, 0) AS rows_in_lake,
    coalesce(s.rows_in_lake, 0) - coalesce(s.distinct_ids, 0) AS repeated_ids,
    coalesce(r.rejected_in_lake, 0) AS rejected_in_lake,
    l.source_file IN (SELECT source_file FROM committed_files) AS visible
FROM latest AS l
LEFT JOIN stored AS s ON s.source_file = l.source_file
LEFT JOIN stored_rejected AS r ON r.source_file = l.source_file
ORDER BY l.object_key, l.source_file
"""

# Rows in the lake of a file the audit trail does not know.
UNKNOWN_SQL = """
SELECT source_file, count(*) AS rows_in_lake
FROM bookings
WHERE source_file NOT IN (SELECT source_file FROM ingest_audit) AND source_file NOT LIKE 'api#%'
GROUP BY source_file
ORDER BY source_file
"""


@dataclass
class FileCheck:
    """One file, its latest outcome and what the lake holds of it."""

    source_file: str
    object_key: str
    status: str
    delivered: int | None
    rejected: int | None
    rows_in_lake: int
    repeated_ids: int
    rejected_in_lake: int
    visible: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    rows: list[dict[str, Any]]
    files: list[FileCheck]
    problems: list[str]

    @property
    def reconciled(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "files": [asdict(check) for check in self.files],
            "problems": self.problems,
            "reconciled": self.reconciled,
        }


def _check(check: FileCheck) -> list[str]:
    name = check.object_key or check.source_file
    problems = []
    if check.status == "committed":
        if check.rows_in_lake != (check.delivered or 0):
            problems.append(
                f"{name}: committed with {check.delivered or 0} delivered bookings, "
                f"{check.rows_in_lake} in the lake ({check.source_file})"
            )
        if check.rejected_in_lake != (check.rejected or 0):
            problems.append(
                f"{name}: committed with {check.rejected or 0} rejected rows, "
                f"{check.rejected_in_lake} in the lake ({check.source_file})"
            )
        if check.repeated_ids:
            problems.append(
                f"{name}: {check.repeated_ids} booking_id(s) stored more than once "
                f"({check.source_file})"
            )
    elif check.rows_in_lake or check.rejected_in_lake:
        problems.append(
            f"{name}: {check.status}, yet {check.rows_in_lake} bookings and "
            f"{check.rejected_in_lake} rejected rows are in the lake ({check.source_file})"
        )
    return problems


def audit_lake(lake: str | Path) -> AuditReport:
    """Check the lake of ``lake`` (``DIR`` or ``DIR/lake``) against its audit trail."""
    con = connect(lake)
    try:
        rows = _records(con, AUDIT_ROWS_SQL)
        files = [FileCheck(**record) for record in _records(con, FILES_SQL)]
        unknown = _records(con, UNKNOWN_SQL)
    finally:
        con.close()
    problems: list[str] = []
    for check in files:
        check.problems = _check(check)
        problems.extend(check.problems)
    for record in unknown:
        problems.append(
            f"{record['source_file']}: {record['rows_in_lake']} bookings in the lake, "
            "and no audit row for their file"
        )
    return AuditReport(rows=rows, files=files, problems=problems)


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = con.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
