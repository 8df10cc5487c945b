"""FinalizeFile: reconcile a file's counts from its chunks' delivery receipts, commit it (its
``ingest_audit`` row), mark the object COMPLETED and publish the "File Processed" event.

Nothing is lost: every chunk of the list Validate wrote (the list the ProcessChunks Map read) has
a receipt, every row read is valid or rejected, and every valid row was delivered. A file whose
counts do not reconcile fails (and is quarantined).

Nothing twice: Firehose cannot take rows back, so what users query reads the audit trail: the
committed row written here is what makes the file's rows visible (see ``booking_core.audit``).
A newer version of the same key already committed (S3 events arrive out of order) leaves this
file committed but hidden behind it; committing a newer version records the older one as
superseded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from booking_core.audit import COMMITTED, SUPERSEDED, IngestAuditRow
from booking_core.aws.clients import ClientFactory
from booking_core.aws.idempotency import IdempotencyStore, KeyVersion
from booking_core.aws.notifications import FILE_PROCESSED, put_event
from booking_core.aws.settings import Settings
from booking_core.errors import ReconciliationError
from booking_core.usecases.audit_trail import audit_log
from booking_core.usecases.chunks import ChunkReceipt, read_chunk_list, read_receipts
from booking_core.workflow import CrawlerChecked, FileProcessed, FinalizeRequest, ValidatedFile

CRAWL_FAILED = "FAILED"


def reconcile(
    file: ValidatedFile, chunk_keys: Sequence[str], receipts: Mapping[str, ChunkReceipt]
) -> list[ChunkReceipt]:
    """The receipts of the file's chunks (``chunk_keys``, the list Validate wrote), in chunk
    order, once the counts reconcile: one key per chunk Validate counted, a receipt for every
    chunk, rows == valid + rejected, delivered == valid. Raises ReconciliationError."""
    if len(chunk_keys) != file.chunk_count:
        raise ReconciliationError(
            f"{file.source_file}: Validate staged {file.chunk_count} chunk(s) but its chunk "
            f"list {file.chunks_key} names {len(chunk_keys)}"
        )
    missing = [key for key in chunk_keys if key not in receipts]
    if missing:
        raise ReconciliationError(
            f"{file.source_file}: {len(missing)} chunk(s) have no delivery receipt, "
            f"first {missing[0]}"
        )
    chosen = [receipts[key] for key in chunk_keys]
    delivered = sum(receipt.delivered for receipt in chosen)
    if file.rows != file.valid + file.rejected or delivered != file.valid:
        raise ReconciliationError(
            f"{file.source_file}: rows {file.rows}, valid {file.valid}, "
            f"rejected {file.rejected}, delivered {delivered}: the counts do not reconcile"
        )
    return chosen


def crawl_outcome(crawler: CrawlerChecked) -> tuple[str, list[str]]:
    """How the partition crawl went (the audit row's ``crawler_status``) and the warnings to
    show: a failed crawl or a crawler still running at the poll bound leaves partitions out of
    the catalog until a later crawl adds them."""
    if crawler.gave_up:
        status = f"GAVE_UP after {crawler.polls} polls (crawler {crawler.state})"
        return status, [
            f"crawler {crawler.crawler} still {crawler.state} after {crawler.polls} polls: "
            "this file's partitions are catalogued by the next crawl"
        ]
    last = crawler.last_crawl_status or "UNKNOWN"
    if last.upper() == CRAWL_FAILED:
        reason = " ".join(str(crawler.last_crawl_error or "no error message").split())
        return f"FAILED: {reason}", [
            f"crawler {crawler.crawler}'s last crawl FAILED ({reason}): this file's "
            "partitions may be missing from the catalog until a crawl succeeds"
        ]
    return last, []


def summarize(
    request: FinalizeRequest, chunk_keys: Sequence[str], receipts: Mapping[str, ChunkReceipt]
) -> FileProcessed:
    """The file's summary (the execution's output); raises ReconciliationError."""
    file = request.file
    chosen = reconcile(file, chunk_keys, receipts)
    delivered = sum(receipt.delivered for receipt in chosen)
    scored = sum(receipt.scored for receipt in chosen)
    crawler_status, warnings = crawl_outcome(request.crawler)
    return FileProcessed(
        object_id=file.object_id,
        source_file=file.source_file,
        execution=request.execution,
        rows=file.rows,
        valid=file.valid,
        rejected=file.rejected,
        duplicates=file.duplicates,
        delivered=delivered,
        scored=scored,
        unscored=delivered - scored,
        chunks=len(chosen),
        reasons=file.reasons,
        rejected_key=file.rejected_key,
        crawler_state=request.crawler.state,
        crawler_gave_up=request.crawler.gave_up,
        spice=request.spice.status,
        checksum_sha256=file.checksum_sha256,
        crawler_status=crawler_status,
        warnings=warnings,
    )


def committed_row(request: FinalizeRequest, summary: FileProcessed) -> IngestAuditRow:
    file = request.file
    return IngestAuditRow(
        bucket=file.bucket,
        object_key=file.key,
        version_id=file.version_id,
        etag=file.etag,
        checksum_sha256=file.checksum_sha256,
        sequencer=file.sequencer,
        source_file=file.source_file,
        rows=summary.rows,
        valid=summary.valid,
        rejected=summary.rejected,
        delivered=summary.delivered,
        scored=summary.scored,
        status=COMMITTED,
        execution=request.execution,
        started_at=request.started_at,
        finished_at=datetime.now(UTC),
        crawler_status=summary.crawler_status,
        superseded_by=summary.superseded_by,
    )


def superseded_row(
    request: FinalizeRequest, previous: KeyVersion, finished_at: datetime
) -> IngestAuditRow:
    """The row that records an older version of the key as replaced by this file."""
    file = request.file
    etag = previous.source_file.rpartition("#")[2]
    return IngestAuditRow(
        bucket=file.bucket,
        object_key=file.key,
        etag=etag,
        sequencer=previous.sequencer,
        source_file=previous.source_file,
        status=SUPERSEDED,
        execution=previous.execution or request.execution,
        finished_at=finished_at,
        superseded_by=file.source_file,
    )


def finalize_file(
    request: FinalizeRequest, settings: Settings, client: ClientFactory
) -> FileProcessed:
    """Reconcile, commit (the audit row; the previous version of the key superseded), mark the
    object and its bytes COMPLETED, publish "File Processed"."""
    settings.need(LAKE_BUCKET=settings.lake_bucket, IDEMPOTENCY_TABLE=settings.idempotency_table)
    file = request.file
    s3 = client("s3")
    file_prefix = f"{settings.staging_prefix}{file.file_id}/"
    chunk_keys = read_chunk_list(s3, settings.lake_bucket, file.chunks_key)
    summary = summarize(request, chunk_keys, read_receipts(s3, settings.lake_bucket, file_prefix))
    claims = IdempotencyStore(client("dynamodb"), settings.idempotency_table)
    advance = claims.advance_version(
        file.bucket, file.key, file.source_file, file.sequencer, request.execution
    )
    update: dict[str, object] = {}
    if not advance.accepted:
        update["superseded_by"] = advance.current.source_file
        update["warnings"] = [
            *summary.warnings,
            f"a newer version of {file.key} ({advance.current.source_file}) is already "
            "committed: this file's rows stay behind it",
        ]
    elif advance.replaced is not None:
        update["supersedes"] = advance.replaced.source_file
    summary = summary.model_copy(update=update)
    log = audit_log(settings, client)
    row = committed_row(request, summary)
    log.write(row)
    if advance.replaced is not None:
        log.write(superseded_row(request, advance.replaced, row.finished_at))
    claims.complete(file.object_id, summary.model_dump_json())
    if file.checksum_sha256:
        claims.complete_content(file.checksum_sha256, request.execution)
    put_event(
        client("events"), settings.event_bus_name, FILE_PROCESSED, summary.model_dump(mode="json")
    )
    return summary
