"""Enrich: one staged chunk in, one enriched chunk out (keys, never rows)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.chunks import enrich_chunk
from booking_core.workflow import ChunkTask, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(event, ChunkTask)
    logger.set_correlation_id(task.execution)
    logger.append_keys(chunk_key=task.chunk_key)
    enriched = enrich_chunk(task, Settings.from_env(), aws_client)
    metrics.add_metric(name="RecordsEnriched", unit=MetricUnit.Count, value=enriched.records)
    logger.info("chunk enriched", extra={"records": enriched.records})
    return enriched.model_dump(mode="json")
