"""Deliver: put a scored chunk's records to Firehose (batched, failed records retried) and leave
the chunk's receipt for FinalizeFile."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.firehose import DeliveryFailedError
from booking_core.aws.settings import Settings
from booking_core.usecases.chunks import deliver_chunk
from booking_core.workflow import ScoredChunk, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class DeliveryFailed(Exception):
    """Records were still rejected by Firehose after every retry."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    chunk = parse_event(event, ScoredChunk)
    logger.set_correlation_id(chunk.execution)
    logger.append_keys(chunk_key=chunk.chunk_key)
    try:
        delivered = deliver_chunk(chunk, Settings.from_env(), aws_client)
    except DeliveryFailedError as exc:
        metrics.add_metric(name="RecordsNotDelivered", unit=MetricUnit.Count, value=exc.failed)
        raise DeliveryFailed(str(exc)) from exc
    metrics.add_metric(name="RecordsDelivered", unit=MetricUnit.Count, value=delivered.delivered)
    metrics.add_metric(name="RecordsRetried", unit=MetricUnit.Count, value=delivered.retried)
    logger.info("chunk delivered", extra=delivered.model_dump())
    return delivered.model_dump(mode="json")
