"""Validate: stream a new S3 object through the validator into staged chunks.

Input: the EventBridge "Object Created" event (or ``{"event": <it>, "execution": <name>}`` as the
state machine passes it). Output: counts, the chunk keys (the Map's items) and the manifest key,
or ``{"duplicate": true, ...}`` when another execution already holds or finished this object.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.ingest import SourceObject, booking_date_from_key, validate_object
from booking_core.aws.settings import Settings
from booking_core.errors import UnreadableFileError

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class UnreadableFile(Exception):
    """The object cannot be read as a booking file at all."""


class InvalidEvent(Exception):
    """The input is not an S3 Object Created event."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    payload = event.get("event", event)
    try:
        parsed = parse(event=payload, model=S3EventNotificationEventBridgeModel)
    except ValidationError as exc:
        raise InvalidEvent(f"not an S3 Object Created event: {exc.errors()[0]['msg']}") from exc
    detail = parsed.detail
    source = SourceObject(
        bucket=detail.bucket.name,
        key=detail.object.key,
        etag=detail.object.etag,
        version_id=detail.object.version_id,
        size=int(detail.object.size) if detail.object.size is not None else None,
    )
    execution = str(event.get("execution") or parsed.id)
    logger.set_correlation_id(execution)
    logger.append_keys(object_key=source.key, object_id=source.object_id)

    settings = Settings.from_env()
    settings.need(LAKE_BUCKET=settings.lake_bucket, IDEMPOTENCY_TABLE=settings.idempotency_table)
    base = {
        "object_id": source.object_id,
        "file_id": source.file_id,
        "bucket": source.bucket,
        "key": source.key,
        "etag": source.etag,
        "version_id": source.version_id,
        "source_file": source.source_file,
        "execution": execution,
    }
    claim = IdempotencyStore(aws_client("dynamodb"), settings.idempotency_table).claim(
        source.object_id, execution
    )
    if not claim.acquired:
        logger.warning(
            "object already claimed: skipped as a duplicate",
            extra={"claim_status": claim.status, "claimed_by": claim.execution},
        )
        metrics.add_metric(name="DuplicateFiles", unit=MetricUnit.Count, value=1)
        return {**base, "duplicate": True, "status": claim.status, "claimed_by": claim.execution}

    ingested_at = parsed.time
    booking_date = booking_date_from_key(source.key) or ingested_at.date()
    try:
        result = validate_object(
            aws_client("s3"),
            source,
            lake_bucket=settings.lake_bucket,
            staging_prefix=settings.staging_prefix,
            quarantine_prefix=settings.quarantine_prefix,
            chunk_size=settings.chunk_size,
            ingested_at=ingested_at,
            spool_dir="/tmp",  # noqa: S108 (a Lambda's only writable directory)
        )
    except UnreadableFileError as exc:
        logger.error("unreadable file", extra={"problem": exc.problem})
        raise UnreadableFile(str(exc)) from exc

    summary = result.summary
    metrics.add_metric(name="RowsRead", unit=MetricUnit.Count, value=summary["rows"])
    metrics.add_metric(name="RowsValid", unit=MetricUnit.Count, value=summary["valid"])
    metrics.add_metric(name="RowsRejected", unit=MetricUnit.Count, value=summary["rejected"])
    metrics.add_metric(name="DuplicateRows", unit=MetricUnit.Count, value=summary["duplicates"])
    logger.info(
        "file validated",
        extra={k: summary[k] for k in ("rows", "valid", "rejected", "duplicates", "encoding")},
    )
    return {
        **base,
        "duplicate": False,
        "status": "validated",
        "ingested_at": ingested_at.isoformat(),
        "booking_date": booking_date.isoformat(),
        "rows": summary["rows"],
        "valid": summary["valid"],
        "rejected": summary["rejected"],
        "duplicates": summary["duplicates"],
        "encoding": summary.get("encoding"),
        "reasons": summary.get("reasons", {}),
        "chunk_size": result.chunk_size,
        "chunk_count": len(result.chunk_keys),
        "chunk_keys": result.chunk_keys,
        "manifest_key": result.manifest_key,
        "rejected_key": result.rejected_key,
    }
