"""Deliver: put a scored chunk's records to Firehose (batched, failed records retried)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.firehose import DeliveryFailedError, FirehoseDelivery
from booking_core.aws.ingest import deliver_chunk
from booking_core.aws.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class DeliveryFailed(Exception):
    """Records were still rejected by Firehose after every retry."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(event.get("execution") or event["scored_key"])
    logger.append_keys(chunk_key=event.get("chunk_key"))
    settings = Settings.from_env()
    settings.need(
        LAKE_BUCKET=settings.lake_bucket, DELIVERY_STREAM_NAME=settings.delivery_stream_name
    )
    delivery = FirehoseDelivery(aws_client("firehose"), settings.delivery_stream_name)
    try:
        receipt = deliver_chunk(
            aws_client("s3"),
            settings.lake_bucket,
            event["scored_key"],
            event["chunk_key"],
            delivery,
            extra={k: event.get(k, 0) for k in ("records", "scored", "unscored")},
        )
    except DeliveryFailedError as exc:
        metrics.add_metric(name="RecordsNotDelivered", unit=MetricUnit.Count, value=exc.failed)
        raise DeliveryFailed(str(exc)) from exc
    metrics.add_metric(name="RecordsDelivered", unit=MetricUnit.Count, value=receipt["delivered"])
    metrics.add_metric(name="RecordsRetried", unit=MetricUnit.Count, value=receipt["retried"])
    logger.info("chunk delivered", extra=receipt)
    return {
        "chunk_key": event["chunk_key"],
        "records": event.get("records"),
        "scored": event.get("scored"),
        "unscored": event.get("unscored"),
        "delivered": receipt["delivered"],
        "retried": receipt["retried"],
    }
