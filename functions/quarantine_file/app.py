"""QuarantineFile: a file's processing failed. Copy the raw object to ``quarantine/files/``
with an ``.error.json`` report, alert the operators, and release the idempotency claim (FAILED)
so that a corrected re-upload runs."""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.ingest import SourceObject
from booking_core.aws.notifications import publish_alert
from booking_core.aws.quarantine import quarantine_object
from booking_core.aws.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    source = SourceObject(
        bucket=detail["bucket"]["name"],
        key=detail["object"]["key"],
        etag=detail["object"].get("etag", ""),
        version_id=detail["object"].get("version-id"),
        size=detail["object"].get("size"),
    )
    execution = str(event.get("execution") or context.aws_request_id)
    logger.set_correlation_id(execution)
    logger.append_keys(object_key=source.key)
    settings = Settings.from_env()
    settings.need(LAKE_BUCKET=settings.lake_bucket)

    quarantined = quarantine_object(
        aws_client("s3"),
        source,
        lake_bucket=settings.lake_bucket,
        quarantine_prefix=settings.quarantine_prefix,
        error=event.get("error") or {},
        execution=execution,
    )
    if quarantined.quarantine_key is None:
        logger.error("the raw object could not be copied: only the report is kept")
    if settings.idempotency_table:
        IdempotencyStore(aws_client("dynamodb"), settings.idempotency_table).fail(
            source.object_id, orjson.dumps(quarantined.report).decode()
        )
    message_id = None
    if settings.alert_topic_arn:
        message_id = publish_alert(
            aws_client("sns"),
            settings.alert_topic_arn,
            f"Booking file quarantined: {source.key}",
            quarantined.report,
        )
    metrics.add_metric(name="QuarantinedFiles", unit=MetricUnit.Count, value=1)
    logger.error(
        "file quarantined", extra={"error": quarantined.error, "cause": quarantined.reason}
    )
    return {
        "error": quarantined.error,
        "reason": f"{quarantined.error}: {quarantined.reason}",
        "quarantine_key": quarantined.quarantine_key,
        "report_key": quarantined.report_key,
        "alert_message_id": message_id,
    }
