"""The ingest steps behind the Lambda handlers: validate an S3 object into staged chunks, enrich a
chunk, score a chunk, deliver a chunk, and summarise a file.

States pass S3 keys, never rows (Step Functions payloads are limited to 256 KB):

- ``staging/<file id>/chunk-NNNNN.jsonl``: valid rows, ``{row_number, values, is_duplicate}``
- ``staging/<file id>/enriched/chunk-NNNNN.jsonl``: enriched records
- ``staging/<file id>/scored/chunk-NNNNN.jsonl``: enriched records with their scores
- ``staging/<file id>/receipts/chunk-NNNNN.json``: what Deliver delivered for the chunk
- ``staging/<file id>/manifest.json``: every chunk key and the file's summary
- ``quarantine/rows/ingest_date=YYYY-MM-DD/<file id>.jsonl``: rejected rows (``RejectedRow``)
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from booking_core.aws import s3io
from booking_core.aws.firehose import FirehoseDelivery
from booking_core.aws.scoring import UNSCORED, EndpointScorer, Score, ScoringUnavailableError
from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.errors import BookingError
from booking_core.jsonl import dumps_line

# Keep the Map's list of chunk keys far below the 256 KB state payload limit: a very large file
# gets bigger chunks rather than more of them.
MAX_CHUNKS_PER_FILE = 2000
# The smallest possible data row is about 40 bytes; compressed files may expand ~25 times.
MIN_ROW_BYTES = 40
COMPRESSION_EXPANSION = 25
_GZIP_MAGIC = b"\x1f\x8b"

_KEY_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


class ReconciliationError(BookingError):
    """Counts that must match do not (delivered != valid, missing chunk receipts, ...)."""


@dataclass(frozen=True)
class SourceObject:
    bucket: str
    key: str
    etag: str
    version_id: str | None
    size: int | None

    @property
    def object_id(self) -> str:
        """``bucket/key#etag`` (the version id when there is no ETag). The ETag rather than the
        version: in a versioned bucket a re-upload of the same bytes is a new version, and
        processing it again would deliver every booking twice."""
        return f"{self.bucket}/{self.key}#{self.etag or self.version_id}"

    @property
    def source_file(self) -> str:
        """The source identity carried by every record (and hashed into its booking id)."""
        return f"s3://{self.bucket}/{self.key}#{self.etag}"

    @property
    def file_id(self) -> str:
        """A short, deterministic id for S3 key prefixes (a retried step rewrites the same keys)."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", self.key.rsplit("/", 1)[-1])[:60]
        digest = hashlib.sha256(self.object_id.encode()).hexdigest()[:16]
        return f"{stem}-{digest}"


def booking_date_from_key(key: str) -> date | None:
    """A date written in the object key (``.../2024-05-17/...`` or ``bookings_20240517.csv``)."""
    for match in _KEY_DATE.finditer(key):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class StagedRow:
    """A validated row as staged between Validate and Enrich."""

    row_number: int
    values: dict[str, Any]
    is_duplicate: bool


def effective_chunk_size(chunk_size: int, object_size: int | None, compressed: bool) -> int:
    if not object_size:
        return chunk_size
    expansion = COMPRESSION_EXPANSION if compressed else 1
    estimated_rows = object_size * expansion // MIN_ROW_BYTES
    return max(chunk_size, math.ceil(estimated_rows / MAX_CHUNKS_PER_FILE))


@dataclass
class ValidationResult:
    file_id: str
    chunk_keys: list[str]
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
        compressed = _looks_compressed(stream)
        size = effective_chunk_size(chunk_size, source.size, compressed)
        writer = s3io.ChunkWriter(s3, lake_bucket, f"{staging_prefix}{file_id}/", size)
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
    manifest_key = f"{staging_prefix}{file_id}/manifest.json"
    s3.put_object(
        Bucket=lake_bucket,
        Key=manifest_key,
        Body=orjson.dumps({"chunk_keys": chunk_keys, "summary": summary}),
        ContentType="application/json",
    )
    return ValidationResult(file_id, chunk_keys, manifest_key, rejected_key, summary, size)


def _looks_compressed(stream: Any) -> bool:
    peek = getattr(stream, "peek", None)
    if callable(peek):
        head = bytes(peek(4))[:4]
    else:
        head = stream.read(4)
        stream.seek(0)
    return head.startswith(_GZIP_MAGIC) or head == s3io.ZIP_MAGIC


def stage_key(chunk_key: str, stage: str) -> str:
    """``staging/<id>/chunk-00001.jsonl`` -> ``staging/<id>/<stage>/chunk-00001.jsonl``."""
    head, _, name = chunk_key.rpartition("/")
    return f"{head}/{stage}/{name}"


def enrich_chunk(
    s3: Any, bucket: str, chunk_key: str, context: EnrichmentContext
) -> tuple[str, int]:
    """Enrich one staged chunk; returns the enriched chunk's key and its record count."""
    rows = (
        StagedRow(item["row_number"], item["values"], bool(item["is_duplicate"]))
        for item in s3io.iter_json_lines(s3, bucket, chunk_key)
    )
    out_key = stage_key(chunk_key, "enriched")
    count = s3io.put_json_lines(s3, bucket, out_key, (enrich_row(row, context) for row in rows))
    return out_key, count


@dataclass
class ScoreOutcome:
    scored_key: str
    records: int
    scored: int = 0
    unscored: int = 0
    failures: list[str] = field(default_factory=list)


def score_chunk(
    s3: Any, bucket: str, enriched_key: str, scorer: EndpointScorer | None
) -> ScoreOutcome:
    """Add ``booking_complete_probability`` and ``model_version`` to every record of a chunk.

    Without a scorer, or for a batch the endpoint could not score, they are null: the records
    go on unscored and the failures are reported, never raised."""
    lines = [line for line in _object_lines(s3, bucket, enriched_key) if line.strip()]
    scores: list[Score] = [UNSCORED] * len(lines)
    outcome = ScoreOutcome(stage_key(enriched_key.replace("/enriched/", "/"), "scored"), len(lines))
    if scorer is not None:
        from booking_core.aws.scoring import payload_batches

        for start, end in payload_batches(lines, scorer.max_payload_bytes):
            try:
                scores[start:end] = scorer.score_batch(lines[start:end])
            except ScoringUnavailableError as exc:
                outcome.failures.append(str(exc))
    body = io.BytesIO()
    for line, score in zip(lines, scores, strict=True):
        record = orjson.loads(line)
        record["booking_complete_probability"] = score.probability
        record["model_version"] = score.model_version
        body.write(orjson.dumps(record))
        body.write(b"\n")
        if score.probability is None:
            outcome.unscored += 1
        else:
            outcome.scored += 1
    s3.put_object(
        Bucket=bucket,
        Key=outcome.scored_key,
        Body=body.getvalue(),
        ContentType="application/jsonlines",
    )
    return outcome


def _object_lines(s3: Any, bucket: str, key: str) -> Iterator[bytes]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from body.iter_lines(chunk_size=1 << 20)
    finally:
        body.close()


def receipt_key(chunk_key: str) -> str:
    head, _, name = chunk_key.rpartition("/")
    return f"{head}/receipts/{name.removesuffix('.jsonl')}.json"


def deliver_chunk(
    s3: Any,
    bucket: str,
    scored_key: str,
    chunk_key: str,
    delivery: FirehoseDelivery,
    extra: dict[str, int] | None = None,
) -> dict[str, int]:
    """Put every record of a scored chunk to Firehose and write the chunk's receipt (with
    ``extra`` counts, e.g. the chunk's scored and unscored records, for the file summary)."""
    records = (line + b"\n" for line in _object_lines(s3, bucket, scored_key) if line.strip())
    delivered = delivery.deliver(records)
    receipt = {
        **(extra or {}),
        "delivered": delivered,
        "retried": delivery.retried,
        "calls": delivery.calls,
    }
    s3.put_object(
        Bucket=bucket,
        Key=receipt_key(chunk_key),
        Body=orjson.dumps({"chunk_key": chunk_key, **receipt}),
        ContentType="application/json",
    )
    return receipt


def read_receipts(s3: Any, bucket: str, file_prefix: str) -> dict[str, dict[str, Any]]:
    """Every chunk receipt under ``<file_prefix>receipts/``, by chunk key."""
    receipts: dict[str, dict[str, Any]] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{file_prefix}receipts/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            receipt = orjson.loads(body)
            receipts[receipt["chunk_key"]] = receipt
    return receipts


def now_utc() -> datetime:
    return datetime.now(UTC)
