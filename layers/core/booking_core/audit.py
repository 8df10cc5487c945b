"""The ingest audit trail: one row per file execution (``ingest_audit``), the commit record of
the lake.

Firehose cannot take rows back and delivers at least once, so the rows of a file that failed
half-way stay in the ``bookings`` table. What users query reads the audit instead: a file's rows
count once its latest outcome row says ``committed`` (FinalizeFile wrote it after every count
reconciled) and it is the latest committed version of its S3 key (by the S3 event's sequencer).

Statuses:

- ``committed``: every row reconciled (FinalizeFile);
- ``quarantined``: the file failed; its rows, if any were delivered, are not visible;
- ``failed``: offline only, the export to the lake did not reconcile;
- ``duplicate``: nothing was processed: the same object was already claimed, or the same bytes
  were already ingested under another key (``duplicate_of`` names that file);
- ``superseded``: written for an older version of a key when a newer version commits
  (``superseded_by`` names the newer file).

The table's Glue definition is in template.yaml (``IngestAuditTable``); the test suite holds
its columns equal to ``IngestAuditRow``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

COMMITTED: Final = "committed"
QUARANTINED: Final = "quarantined"
FAILED: Final = "failed"
DUPLICATE: Final = "duplicate"
SUPERSEDED: Final = "superseded"
AuditStatus = Literal["committed", "quarantined", "failed", "duplicate", "superseded"]
# The statuses that say what became of a file's rows (the latest of them decides).
OUTCOME_STATUSES: Final = (COMMITTED, QUARANTINED, FAILED)

# S3 sequencers are hexadecimal strings of varying length; AWS compares two of them by padding
# the shorter with zeros on the right. Stored padded to one width, they compare as strings.
SEQUENCER_WIDTH: Final = 32
# Bookings posted to the HTTP API are committed per request (all or nothing): their source_file
# starts with this and they have no audit row.
API_SOURCE_PREFIX: Final = "api#"
# The JSON text of a timestamp, as the Glue table's JSON SerDe and Firehose read it.
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


class IngestAuditRow(BaseModel):
    """One row of ``ingest_audit``."""

    model_config = ConfigDict(extra="forbid")

    bucket: str
    object_key: str
    version_id: str | None = None
    etag: str
    checksum_sha256: str | None = Field(default=None, description="of the object's bytes")
    sequencer: str | None = Field(
        default=None, description="the S3 event's sequencer, padded (orders versions of a key)"
    )
    source_file: str
    rows: int | None = None
    valid: int | None = None
    rejected: int | None = None
    delivered: int | None = None
    scored: int | None = None
    status: AuditStatus
    execution: str
    started_at: datetime | None = None
    finished_at: datetime
    error: str | None = None
    crawler_status: str | None = None
    duplicate_of: str | None = None
    superseded_by: str | None = None


def padded_sequencer(sequencer: str | None) -> str:
    """A sequencer padded on the right to ``SEQUENCER_WIDTH`` (all zeros when there is none)."""
    text = (sequencer or "").strip().upper()
    if len(text) > SEQUENCER_WIDTH:
        raise ValueError(f"an S3 sequencer longer than {SEQUENCER_WIDTH} characters: {text!r}")
    return text.ljust(SEQUENCER_WIDTH, "0")


def json_timestamp(value: datetime) -> str:
    """``2025-03-01T10:39:51.646Z``: milliseconds, UTC."""
    stamp = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return stamp.strftime(TIMESTAMP_FORMAT)[:-4] + "Z"


def audit_record(row: IngestAuditRow) -> dict[str, object]:
    """The row as the JSON object written to S3 (timestamps as ``json_timestamp``)."""
    record: dict[str, object] = row.model_dump(mode="python")
    for name in ("started_at", "finished_at"):
        value = record[name]
        if isinstance(value, datetime):
            record[name] = json_timestamp(value)
    return record


def one_line(text: object, limit: int = 1000) -> str:
    """An error for the audit row: one line, at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
