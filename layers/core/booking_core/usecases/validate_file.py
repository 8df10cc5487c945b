"""Validate: claim a new S3 object, then stream it through the validator into staged chunks.

Two claims make a file processed once: the object's (``bucket/key#etag``, taken first: the same
S3 event twice, or the same bytes uploaded again under the same key, is a duplicate at once) and
its bytes' (the SHA-256 computed while the object streams through the validator, taken once it
is read: the same bytes under another key are a duplicate file, and add nothing). A duplicate
leaves an ``ingest_audit`` row naming the file it duplicates.

States pass S3 keys, never rows or lists that grow with the file (Step Functions payloads are
limited to 256 KB):

- ``staging/<file id>/chunk-NNNNN.jsonl``: valid rows, ``{row_number, values, is_duplicate}``
- ``staging/<file id>/chunks.json``: the JSON array of the chunk keys, which the ProcessChunks
  Distributed Map reads (its ItemReader) and FinalizeFile reconciles against
- ``staging/<file id>/manifest.json``: every chunk key and the file's summary
- ``quarantine/rows/ingest_date=YYYY-MM-DD/<file id>.jsonl``: rejected rows (``RejectedRow``)

A file has as many chunks as its rows need: neither the list of chunks nor the Map's results
travel in the execution's state, and each chunk runs in a child execution of its own.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from booking_core.audit import DUPLICATE, IngestAuditRow, padded_sequencer
from booking_core.aws import s3io
from booking_core.aws.clients import ClientFactory
from booking_core.aws.idempotency import Claim, IdempotencyStore
from booking_core.aws.settings import Settings
from booking_core.errors import ReconciliationError
from booking_core.jsonl import dumps_line
from booking_core.usecases.audit_trail import audit_log, file_identity_row
from booking_core.usecases.source import SourceObject, booking_date_from_key
from booking_core.workflow import DuplicateFile, ObjectCreated, ValidatedFile

# A Lambda's only writable directory, where a zip archive is spooled.
LAMBDA_SPOOL_DIR = "/tmp"  # noqa: S108


def validate_file(
    request: ObjectCreated,
    settings: Settings,
    client: ClientFactory,
    *,
    spool_dir: str | None = LAMBDA_SPOOL_DIR,
) -> ValidatedFile | DuplicateFile:
    """Claim the object for this execution and validate it into staged chunks; a
    ``DuplicateFile`` when another execution already holds or finished it.

    Raises ``UnreadableFileError`` for a file that cannot be read at all."""
    settings.need(LAKE_BUCKET=settings.lake_bucket, IDEMPOTENCY_TABLE=settings.idempotency_table)
    source = SourceObject.from_detail(request.detail)
    execution = request.execution_name
    identity: dict[str, Any] = {
        "object_id": source.object_id,
        "file_id": source.file_id,
        "bucket": source.bucket,
        "key": source.key,
        "etag": source.etag,
        "version_id": source.version_id,
        "source_file": source.source_file,
        "execution": execution,
    }
    claims = IdempotencyStore(client("dynamodb"), settings.idempotency_table)
    claim = claims.claim(source.object_id, execution, source_file=source.source_file)
    if not claim.acquired:
        duplicate = DuplicateFile(
            **identity,
            status=claim.status,
            claimed_by=claim.execution,
            duplicate_of=claim.source_file or source.source_file,
        )
        _audit_duplicate(duplicate, source, request, settings, client, checksum=None)
        return duplicate

    def claim_bytes(checksum_sha256: str) -> Claim:
        held = claims.claim_content(checksum_sha256, execution, source.source_file)
        if held.acquired:
            claims.note_content(source.object_id, checksum_sha256)
        return held

    ingested_at = request.event.time
    if ingested_at.tzinfo is None:  # EventBridge times are UTC
        ingested_at = ingested_at.replace(tzinfo=UTC)
    result = validate_object(
        client("s3"),
        source,
        lake_bucket=settings.lake_bucket,
        staging_prefix=settings.staging_prefix,
        quarantine_prefix=settings.quarantine_prefix,
        chunk_size=settings.chunk_size,
        ingested_at=ingested_at,
        spool_dir=spool_dir,
        claim_content=claim_bytes,
    )
    if result.content_claim is not None and not result.content_claim.acquired:
        held = result.content_claim
        duplicate = DuplicateFile(
            **identity,
            status=held.status,
            claimed_by=held.execution,
            duplicate_of=held.source_file,
            checksum_sha256=result.checksum_sha256,
        )
        # These bytes are another file's: this object is done with, as a duplicate.
        claims.complete(source.object_id, duplicate.model_dump_json())
        _audit_duplicate(
            duplicate, source, request, settings, client, checksum=result.checksum_sha256
        )
        return duplicate
    summary = result.summary
    return ValidatedFile(
        **identity,
        ingested_at=ingested_at,
        booking_date=booking_date_from_key(source.key) or ingested_at.date(),
        rows=summary["rows"],
        valid=summary["valid"],
        rejected=summary["rejected"],
        duplicates=summary["duplicates"],
        encoding=summary.get("encoding"),
        reasons=summary.get("reasons", {}),
        chunk_size=result.chunk_size,
        chunk_count=len(result.chunk_keys),
        chunks_key=result.chunks_key,
        manifest_key=result.manifest_key,
        rejected_key=result.rejected_key,
        checksum_sha256=result.checksum_sha256,
        sequencer=padded_sequencer(source.sequencer),
    )


def _audit_duplicate(
    duplicate: DuplicateFile,
    source: SourceObject,
    request: ObjectCreated,
    settings: Settings,
    client: ClientFactory,
    *,
    checksum: str | None,
) -> None:
    row = IngestAuditRow(
        **file_identity_row(source),
        checksum_sha256=checksum,
        status=DUPLICATE,
        execution=duplicate.execution,
        started_at=request.started_at,
        finished_at=datetime.now(UTC),
        duplicate_of=duplicate.duplicate_of,
        error=f"already processed by {duplicate.claimed_by} ({duplicate.status.lower()})"
        if duplicate.claimed_by
        else None,
    )
    audit_log(settings, client).write(row)


def chunks_key_of(staging_prefix: str, file_id: str) -> str:
    """Where Validate writes the JSON array of a file's chunk keys."""
    return f"{staging_prefix}{file_id}/chunks.json"


@dataclass
class ValidationResult:
    file_id: str
    chunk_keys: list[str]
    chunks_key: str
    manifest_key: str
    rejected_key: str | None
    summary: dict[str, Any]
    chunk_size: int
    checksum_sha256: str = ""
    # The claim on the object's bytes; when not acquired, nothing but the chunks was written.
    content_claim: Claim | None = None


def validate_object(
    s3: Any,
    source: SourceObject,
    *,
    lake_bucket: str,
    staging_prefix: str,
    quarantine_prefix: str,
    chunk_size: int,
    ingested_at: datetime,
    spool_dir: str | None = None,
    claim_content: Callable[[str], Claim] | None = None,
) -> ValidationResult:
    """Stream ``source`` through the validator: valid rows to staged chunks, rejected rows to the
    quarantine. Raises ``UnreadableFileError`` for a file that cannot be read at all.

    ``claim_content`` is given the SHA-256 of the object's bytes once they are read; when it
    does not acquire them, the rejected rows and the manifest are not written."""
    from booking_core.pipeline import RejectedRecord, rejected_row_dict, validate_stream

    file_id = source.file_id
    digest = hashlib.sha256()
    stream = s3io.open_object(
        s3,
        source.bucket,
        source.key,
        version_id=source.version_id,
        spool_dir=spool_dir,
        digest=digest,
    )
    with stream:
        writer = s3io.ChunkWriter(s3, lake_bucket, f"{staging_prefix}{file_id}/", chunk_size)
        rejected = io.BytesIO()
        rejected_count = 0
        run = validate_stream(stream, source_file=source.source_file)
        for outcome in run:
            if isinstance(outcome, RejectedRecord):
                row = rejected_row_dict(
                    outcome, source_file=source.source_file, rejected_at=ingested_at
                )
                rejected.write(dumps_line(row))
                rejected_count += 1
            else:
                writer.add(
                    {
                        "row_number": outcome.row_number,
                        "values": outcome.values,
                        "is_duplicate": outcome.is_duplicate,
                    }
                )
        chunk_keys = writer.close()
        summary = run.summary.model_dump(mode="json")
        s3io.drain(stream)
    checksum = digest.hexdigest()
    manifest_key = f"{staging_prefix}{file_id}/manifest.json"
    content_claim = claim_content(checksum) if claim_content is not None else None
    if content_claim is not None and not content_claim.acquired:
        return ValidationResult(
            file_id,
            chunk_keys,
            chunks_key_of(staging_prefix, file_id),
            manifest_key,
            None,
            summary,
            chunk_size,
            checksum,
            content_claim,
        )
    rejected_key = None
    if rejected_count:
        rejected_key = (
            f"{quarantine_prefix}rows/ingest_date={ingested_at.date().isoformat()}/{file_id}.jsonl"
        )
        s3.put_object(
            Bucket=lake_bucket,
            Key=rejected_key,
            Body=rejected.getvalue(),
            ContentType="application/jsonlines",
        )
    if summary["valid"] != writer.records or summary["rejected"] != rejected_count:
        raise ReconciliationError(
            f"{source.source_file}: the validator reported {summary['valid']} valid and "
            f"{summary['rejected']} rejected rows; {writer.records} and {rejected_count} "
            "were written"
        )
    chunks_key = chunks_key_of(staging_prefix, file_id)
    s3.put_object(
        Bucket=lake_bucket,
        Key=chunks_key,
        Body=orjson.dumps(chunk_keys),
        ContentType="application/json",
    )
    s3.put_object(
        Bucket=lake_bucket,
        Key=manifest_key,
        Body=orjson.dumps(
            {"chunk_keys": chunk_keys, "summary": summary, "checksum_sha256": checksum}
        ),
        ContentType="application/json",
    )
    return ValidationResult(
        file_id,
        chunk_keys,
        chunks_key,
        manifest_key,
        rejected_key,
        summary,
        chunk_size,
        checksum,
        content_claim,
    )
