"""QuarantineFile: a file's processing failed. Keep a copy of the raw object beside an error
report, so that nothing is lost and an operator can see why; record the outcome in the audit
trail (``quarantined``: whatever rows were delivered stay invisible to what users query); alert
the operators; release the idempotency claims (the object's and its bytes', FAILED) so that a
corrected re-upload, or the same file uploaded again, runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from botocore.exceptions import ClientError

from booking_core.audit import QUARANTINED, IngestAuditRow, one_line
from booking_core.aws.clients import ClientFactory
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.notifications import publish_alert
from booking_core.aws.settings import Settings
from booking_core.errors import ReconciliationError
from booking_core.usecases.audit_trail import audit_log, file_identity_row
from booking_core.usecases.chunks import read_chunk_list, read_receipts
from booking_core.usecases.source import SourceObject
from booking_core.usecases.validate_file import chunks_key_of
from booking_core.workflow import CaughtError, Quarantined, QuarantineRequest

LOGGER = logging.getLogger(__name__)

# The chunks named in a report's reason, and listed in the report, at most: the report is also
# the SNS alert's message (256 KB) and the idempotency item's error (400 KB), and a file may have
# thousands of chunks.
CHUNKS_NAMED_IN_REASON = 3
CHUNKS_LISTED_IN_REPORT = 50


@dataclass(frozen=True)
class QuarantinedCopy:
    error: str
    reason: str
    quarantine_key: str | None  # None when the raw object could not be copied
    report_key: str
    report: dict[str, Any]


def describe_error(error: CaughtError) -> tuple[str, str]:
    """The error name and a one-line reason from a Catch's ``{"Error", "Cause"}`` (a Lambda
    error's Cause is its JSON report: its ``errorMessage`` is the reason)."""
    name = error.Error or "UnknownError"
    cause: Any = error.Cause
    try:
        parsed = orjson.loads(cause)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        cause = parsed["errorMessage"]
    reason = " ".join(str(cause).split()) or name
    return name, reason


def quarantine_file(
    request: QuarantineRequest, settings: Settings, client: ClientFactory
) -> Quarantined:
    """Copy and report, release the claim (when there is a table) and alert (when there is a
    topic)."""
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    source = SourceObject.from_detail(request.detail)
    progress = file_progress(client("s3"), settings, source)
    kept = quarantine_object(
        client("s3"),
        source,
        lake_bucket=settings.lake_bucket,
        quarantine_prefix=settings.quarantine_prefix,
        error=request.error,
        execution=request.execution,
        progress=progress,
    )
    checksum = None
    if settings.idempotency_table:
        claims = IdempotencyStore(client("dynamodb"), settings.idempotency_table)
        checksum = claims.content_of(source.object_id)
        if checksum:
            claims.release_content(checksum, request.execution)
        claims.fail(source.object_id, orjson.dumps(kept.report).decode())
    counts = progress.counts
    audit_log(settings, client).write(
        IngestAuditRow(
            **file_identity_row(source),
            rows=counts["rows"],
            valid=counts["valid"],
            rejected=counts["rejected"],
            delivered=counts["delivered"],
            scored=counts["scored"],
            checksum_sha256=checksum,
            status=QUARANTINED,
            execution=request.execution,
            started_at=request.started_at,
            finished_at=datetime.now(UTC),
            error=one_line(f"{kept.error}: {kept.reason}"),
        )
    )
    message_id = None
    if settings.alert_topic_arn:
        message_id = publish_alert(
            client("sns"),
            settings.alert_topic_arn,
            f"Booking file quarantined: {source.key}",
            kept.report,
        )
    return Quarantined(
        error=kept.error,
        reason=f"{kept.error}: {kept.reason}",
        quarantine_key=kept.quarantine_key,
        report_key=kept.report_key,
        alert_message_id=message_id,
    )


@dataclass(frozen=True)
class FileProgress:
    """How far a file got before it failed; None where a step never ran."""

    counts: dict[str, int | None]
    chunks: int | None = None
    # The chunks of Validate's list without a delivery receipt: the ones that failed, or never
    # ran because another failed first.
    undelivered_chunks: tuple[str, ...] = ()

    def report(self) -> dict[str, Any]:
        return {
            **self.counts,
            "chunks": self.chunks,
            "chunks_without_receipt_count": len(self.undelivered_chunks),
            "chunks_without_receipt": list(self.undelivered_chunks[:CHUNKS_LISTED_IN_REPORT]),
        }

    def reason_suffix(self) -> str:
        """What the reason adds: a Distributed Map's error says only how many chunks failed, and
        each chunk's own error is in its child execution; this names the chunks."""
        if not self.undelivered_chunks or self.chunks is None:
            return ""
        names = [key.rsplit("/", 1)[-1] for key in self.undelivered_chunks]
        shown = ", ".join(names[:CHUNKS_NAMED_IN_REASON])
        more = len(names) - CHUNKS_NAMED_IN_REASON
        if more > 0:
            shown += f" and {more} more"
        return (
            f"; {len(names)} of {self.chunks} chunk(s) without a delivery receipt: {shown} "
            "(each chunk's own error is in its child execution of the map run)"
        )


def file_progress(s3: Any, settings: Settings, source: SourceObject) -> FileProgress:
    """How far the file got: its counts from Validate's manifest, the rows Deliver delivered
    (from the chunk receipts), and which chunks of Validate's list have no receipt."""
    prefix = f"{settings.staging_prefix}{source.file_id}/"
    counts: dict[str, int | None] = {
        "rows": None,
        "valid": None,
        "rejected": None,
        "delivered": None,
        "scored": None,
    }
    try:
        body = s3.get_object(Bucket=settings.lake_bucket, Key=f"{prefix}manifest.json")["Body"]
        summary = orjson.loads(body.read()).get("summary", {})
    except (ClientError, orjson.JSONDecodeError, AttributeError):
        return FileProgress(counts)
    for name in ("rows", "valid", "rejected"):
        counts[name] = int(summary.get(name, 0))
    receipts = read_receipts(s3, settings.lake_bucket, prefix)
    counts["delivered"] = sum(r.delivered for r in receipts.values())
    counts["scored"] = sum(r.scored for r in receipts.values())
    try:
        chunk_keys = read_chunk_list(
            s3, settings.lake_bucket, chunks_key_of(settings.staging_prefix, source.file_id)
        )
    except (ClientError, orjson.JSONDecodeError, ReconciliationError):
        return FileProgress(counts)
    missing = tuple(key for key in chunk_keys if key not in receipts)
    return FileProgress(counts, len(chunk_keys), missing)


def quarantine_object(
    s3: Any,
    source: SourceObject,
    *,
    lake_bucket: str,
    quarantine_prefix: str,
    error: CaughtError,
    execution: str,
    progress: FileProgress,
) -> QuarantinedCopy:
    """Copy the raw object to ``<prefix>files/<key>`` and write ``<that key>.error.json``.

    The report is written even when the copy fails (e.g. the object was deleted meanwhile)."""
    error_name, reason = describe_error(error)
    reason += progress.reason_suffix()
    quarantine_key = f"{quarantine_prefix}files/{source.key}"
    copy_source = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        copy_source["VersionId"] = source.version_id
    copied = True
    try:
        s3.copy_object(CopySource=copy_source, Bucket=lake_bucket, Key=quarantine_key)
    except ClientError as exc:
        copied = False
        LOGGER.error("the raw object could not be copied: %s", exc)
    report: dict[str, Any] = {
        "error": error_name,
        "cause": reason,
        "execution": execution,
        "object_id": source.object_id,
        "source": f"s3://{source.bucket}/{source.key}",
        "quarantined_copy": f"s3://{lake_bucket}/{quarantine_key}" if copied else None,
        "quarantined_at": datetime.now(UTC).isoformat(),
        "progress": progress.report(),
    }
    report_key = f"{quarantine_key}.error.json"
    s3.put_object(
        Bucket=lake_bucket,
        Key=report_key,
        Body=orjson.dumps(report, option=orjson.OPT_INDENT_2),
        ContentType="application/json",
    )
    return QuarantinedCopy(
        error_name, reason, quarantine_key if copied else None, report_key, report
    )
