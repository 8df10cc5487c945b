"""FinalizeFile: reconcile a file's counts from its chunks' delivery receipts, mark the object
COMPLETED and publish the "File Processed" event.

Nothing is lost: every chunk of the list Validate wrote (the list the ProcessChunks Map read) has
a receipt, every row read is valid or rejected, and every
valid row was delivered. A file whose counts do not reconcile fails (and is quarantined).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from booking_core.aws.clients import ClientFactory
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.notifications import FILE_PROCESSED, put_event
from booking_core.aws.settings import Settings
from booking_core.errors import ReconciliationError
from booking_core.usecases.chunks import ChunkReceipt, read_chunk_list, read_receipts
from booking_core.workflow import FileProcessed, FinalizeRequest, ValidatedFile


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


def summarize(
    request: FinalizeRequest, chunk_keys: Sequence[str], receipts: Mapping[str, ChunkReceipt]
) -> FileProcessed:
    """The file's summary (the execution's output); raises ReconciliationError."""
    file = request.file
    chosen = reconcile(file, chunk_keys, receipts)
    delivered = sum(receipt.delivered for receipt in chosen)
    scored = sum(receipt.scored for receipt in chosen)
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
    )


def finalize_file(
    request: FinalizeRequest, settings: Settings, client: ClientFactory
) -> FileProcessed:
    """Reconcile, mark the object COMPLETED with its summary, publish "File Processed"."""
    settings.need(LAKE_BUCKET=settings.lake_bucket, IDEMPOTENCY_TABLE=settings.idempotency_table)
    s3 = client("s3")
    file_prefix = f"{settings.staging_prefix}{request.file.file_id}/"
    chunk_keys = read_chunk_list(s3, settings.lake_bucket, request.file.chunks_key)
    summary = summarize(request, chunk_keys, read_receipts(s3, settings.lake_bucket, file_prefix))
    claims = IdempotencyStore(client("dynamodb"), settings.idempotency_table)
    claims.complete(request.file.object_id, summary.model_dump_json())
    put_event(
        client("events"), settings.event_bus_name, FILE_PROCESSED, summary.model_dump(mode="json")
    )
    return summary
