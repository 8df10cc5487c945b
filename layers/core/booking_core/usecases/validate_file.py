"""Validate: claim a new S3 object, then stream it through the validator into staged chunks.

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

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from booking_core.aws import s3io
from booking_core.aws.clients import ClientFactory
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.settings import Settings
from booking_core.errors import ReconciliationError
from booking_core.jsonl import dumps_line
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
    claim = claims.claim(source.object_id, execution)
    if not claim.acquired:
        return DuplicateFile(**identity, status=claim.status, claimed_by=claim.execution)

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
    )
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
    )


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
) -> ValidationResult:
    """Stream ``source`` through the validator: valid rows to staged chunks, rejected rows to the
    quarantine. Raises ``UnreadableFileError`` for a file that cannot be read at all."""
    from booking_core.pipeline import RejectedRecord, rejected_row_dict, validate_stream

    file_id = source.file_id
    stream = s3io.open_object(
        s3, source.bucket, source.key, version_id=source.version_id, spool_dir=spool_dir
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
    manifest_key = f"{staging_prefix}{file_id}/manifest.json"
    s3.put_object(
        Bucket=lake_bucket,
        Key=manifest_key,
        Body=orjson.dumps({"chunk_keys": chunk_keys, "summary": summary}),
        ContentType="application/json",
    )
    return ValidationResult(
        file_id, chunk_keys, chunks_key, manifest_key, rejected_key, summary, chunk_size
    )
