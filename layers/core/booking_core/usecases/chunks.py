"""Enrich, Score and Deliver: one staged chunk through the ProcessChunks Map (a child execution
per chunk), and the receipt Deliver leaves for FinalizeFile.

States pass S3 keys, never rows (Step Functions payloads are limited to 256 KB):

- ``staging/<file id>/chunk-NNNNN.jsonl``: valid rows, ``{row_number, values, is_duplicate}``
- ``staging/<file id>/enriched/chunk-NNNNN.jsonl``: enriched records
- ``staging/<file id>/scored/chunk-NNNNN.jsonl``: enriched records with their scores
- ``staging/<file id>/receipts/chunk-NNNNN.json``: what Deliver delivered for the chunk
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, NonNegativeInt

from booking_core.aws import s3io
from booking_core.aws.clients import ClientFactory
from booking_core.aws.firehose import FirehoseDelivery
from booking_core.aws.scoring import (
    UNSCORED,
    EndpointScorer,
    Score,
    ScoringUnavailableError,
    payload_batches,
)
from booking_core.aws.settings import Settings
from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.errors import ReconciliationError
from booking_core.workflow import ChunkTask, DeliveredChunk, EnrichedChunk, ScoredChunk


@dataclass(frozen=True)
class StagedRow:
    """A validated row as staged between Validate and Enrich."""

    row_number: int
    values: dict[str, Any]
    is_duplicate: bool


def stage_key(chunk_key: str, stage: str) -> str:
    """``staging/<id>/chunk-00001.jsonl`` -> ``staging/<id>/<stage>/chunk-00001.jsonl``."""
    head, _, name = chunk_key.rpartition("/")
    return f"{head}/{stage}/{name}"


def receipt_key(chunk_key: str) -> str:
    head, _, name = chunk_key.rpartition("/")
    return f"{head}/receipts/{name.removesuffix('.jsonl')}.json"


# -- Enrich --------------------------------------------------------------------------------------


def enrich_chunk(task: ChunkTask, settings: Settings, client: ClientFactory) -> EnrichedChunk:
    """Enrich one staged chunk into ``<file>/enriched/``."""
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    s3, bucket = client("s3"), settings.lake_bucket
    context = EnrichmentContext(
        source_file=task.source_file,
        ingested_at=task.ingested_at,
        booking_date=task.booking_date or task.ingested_at.date(),
    )
    rows = (
        StagedRow(item["row_number"], item["values"], bool(item["is_duplicate"]))
        for item in s3io.iter_json_lines(s3, bucket, task.chunk_key)
    )
    enriched_key = stage_key(task.chunk_key, "enriched")
    records = s3io.put_json_lines(
        s3, bucket, enriched_key, (enrich_row(row, context) for row in rows)
    )
    return EnrichedChunk(**task.model_dump(), enriched_key=enriched_key, records=records)


# -- Score ---------------------------------------------------------------------------------------

# What the Score function keeps of its remaining time for writing the scored chunk (a quarter of
# it, at most this many seconds): an endpoint that hangs costs the batch's score, not the chunk.
SCORE_RESERVE_SECONDS = 10.0
SCORE_RESERVE_SHARE = 0.25
# Each endpoint request gets its share of the time left, split over the client's attempts.
SCORE_ATTEMPTS = 2
SCORE_MAX_READ_SECONDS = 60


@dataclass
class ScoreDeadline:
    """The time Score has for the endpoint, from the Lambda context's remaining time."""

    remaining_ms: Callable[[], int]
    reserve_seconds: float = 0.0

    def __post_init__(self) -> None:
        start = self.remaining_ms() / 1000
        self.reserve_seconds = min(SCORE_RESERVE_SECONDS, start * SCORE_RESERVE_SHARE)

    def budget(self) -> float:
        """Seconds left for endpoint requests."""
        return self.remaining_ms() / 1000 - self.reserve_seconds

    def read_timeout(self) -> int:
        """Whole seconds each attempt may wait for an answer (at least 1)."""
        share = self.budget() / SCORE_ATTEMPTS
        return max(1, min(SCORE_MAX_READ_SECONDS, math.floor(share)))


@dataclass
class ScoreOutcome:
    """The scored chunk, and why records went on unscored (no endpoint, or its failures)."""

    chunk: ScoredChunk
    endpoint_configured: bool
    failures: list[str] = field(default_factory=list)

    @property
    def scoring_unavailable(self) -> bool:
        return not self.endpoint_configured or bool(self.failures)


def score_chunk(
    chunk: EnrichedChunk,
    settings: Settings,
    client: ClientFactory,
    *,
    remaining_ms: Callable[[], int] | None = None,
) -> ScoreOutcome:
    """Add ``booking_complete_probability`` and ``model_version`` to every record of a chunk.

    Without an endpoint, or for a batch the endpoint could not score, they are null: the records
    go on unscored and the failures are reported, never raised. With ``remaining_ms`` (the
    Lambda context's), the endpoint's timeouts follow the time left, and batches left without
    time go on unscored."""
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    s3, bucket = client("s3"), settings.lake_bucket
    deadline = ScoreDeadline(remaining_ms) if remaining_ms is not None else None
    lines = [line for line in _object_lines(s3, bucket, chunk.enriched_key) if line.strip()]
    scores: list[Score] = [UNSCORED] * len(lines)
    failures: list[str] = []
    if settings.model_endpoint_name:
        for start, end in payload_batches(lines, settings.score_max_payload_bytes):
            if deadline is not None and deadline.budget() < 1:
                failures.append(
                    f"endpoint {settings.model_endpoint_name}: no time left to score "
                    f"{len(lines) - start} record(s)"
                )
                break
            scorer = _scorer(settings, client, deadline)
            try:
                scores[start:end] = scorer.score_batch(lines[start:end])
            except ScoringUnavailableError as exc:
                failures.append(str(exc))
    scored_key = stage_key(chunk.enriched_key.replace("/enriched/", "/"), "scored")
    body = io.BytesIO()
    scored = 0
    for line, score in zip(lines, scores, strict=True):
        record = orjson.loads(line)
        record["booking_complete_probability"] = score.probability
        record["model_version"] = score.model_version
        body.write(orjson.dumps(record))
        body.write(b"\n")
        if score.probability is not None:
            scored += 1
    s3.put_object(
        Bucket=bucket, Key=scored_key, Body=body.getvalue(), ContentType="application/jsonlines"
    )
    result = ScoredChunk(
        **chunk.model_dump(),
        scored_key=scored_key,
        scored=scored,
        unscored=len(lines) - scored,
        scoring_failures=len(failures),
    )
    return ScoreOutcome(
        result, endpoint_configured=bool(settings.model_endpoint_name), failures=failures
    )


def _scorer(
    settings: Settings, client: ClientFactory, deadline: ScoreDeadline | None
) -> EndpointScorer:
    url = settings.sagemaker_runtime_url or None
    if deadline is None:
        runtime = client("sagemaker-runtime", url)
    else:
        timeout = deadline.read_timeout()
        runtime = client(
            "sagemaker-runtime",
            url,
            max_attempts=SCORE_ATTEMPTS,
            read_timeout=timeout,
            connect_timeout=min(timeout, 5),
        )
    return EndpointScorer(runtime, settings.model_endpoint_name, settings.score_max_payload_bytes)


# -- Deliver -------------------------------------------------------------------------------------


class ChunkReceipt(BaseModel):
    """What Deliver delivered for one chunk (``<file>/receipts/chunk-NNNNN.json``)."""

    chunk_key: str
    records: NonNegativeInt = 0
    scored: NonNegativeInt = 0
    unscored: NonNegativeInt = 0
    delivered: NonNegativeInt
    retried: NonNegativeInt = 0
    calls: NonNegativeInt = 0


def deliver_chunk(chunk: ScoredChunk, settings: Settings, client: ClientFactory) -> DeliveredChunk:
    """Put every record of a scored chunk to Firehose, then write the chunk's receipt.

    Raises ``DeliveryFailedError`` when records are still rejected after every retry."""
    settings.need(
        LAKE_BUCKET=settings.lake_bucket, DELIVERY_STREAM_NAME=settings.delivery_stream_name
    )
    s3, bucket = client("s3"), settings.lake_bucket
    delivery = FirehoseDelivery(client("firehose"), settings.delivery_stream_name)
    records = (line + b"\n" for line in _object_lines(s3, bucket, chunk.scored_key) if line.strip())
    delivered = delivery.deliver(records)
    receipt = ChunkReceipt(
        chunk_key=chunk.chunk_key,
        records=chunk.records,
        scored=chunk.scored,
        unscored=chunk.unscored,
        delivered=delivered,
        retried=delivery.retried,
        calls=delivery.calls,
    )
    s3.put_object(
        Bucket=bucket,
        Key=receipt_key(chunk.chunk_key),
        Body=receipt.model_dump_json(),
        ContentType="application/json",
    )
    return DeliveredChunk(**receipt.model_dump(exclude={"calls"}))


def read_chunk_list(s3: Any, bucket: str, key: str) -> list[str]:
    """The chunk keys of a file, from the JSON array Validate wrote at ``key``."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    keys = orjson.loads(body)
    if not isinstance(keys, list) or not all(isinstance(item, str) for item in keys):
        raise ReconciliationError(f"s3://{bucket}/{key}: not a JSON array of chunk keys")
    return keys


def read_receipts(s3: Any, bucket: str, file_prefix: str) -> dict[str, ChunkReceipt]:
    """Every chunk receipt under ``<file_prefix>receipts/``, by chunk key."""
    receipts: dict[str, ChunkReceipt] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{file_prefix}receipts/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            receipt = ChunkReceipt.model_validate_json(body)
            receipts[receipt.chunk_key] = receipt
    return receipts


def _object_lines(s3: Any, bucket: str, key: str) -> Iterator[bytes]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from body.iter_lines(chunk_size=1 << 20)
    finally:
        body.close()
