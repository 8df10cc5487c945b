"""Score: add the model's completion probability to every record of an enriched chunk.

With no endpoint configured, or when the endpoint fails after its retries, the records go on
unscored (null scores) with a warning and a ScoringUnavailable metric: nothing is lost. The
endpoint's timeouts follow the invocation's remaining time, so an endpoint that hangs costs the
scores, never the function's timeout.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.chunks import score_chunk
from booking_core.workflow import EnrichedChunk, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    chunk = parse_event(event, EnrichedChunk)
    logger.set_correlation_id(chunk.execution)
    logger.append_keys(chunk_key=chunk.chunk_key)
    outcome = score_chunk(
        chunk,
        Settings.from_env(),
        aws_client,
        remaining_ms=context.get_remaining_time_in_millis,
    )
    if not outcome.endpoint_configured:
        logger.warning("no model endpoint configured: records go on unscored")
    for failure in outcome.failures:
        logger.warning("endpoint unavailable: batch goes on unscored", extra={"error": failure})
    if outcome.scoring_unavailable:
        metrics.add_metric(name="ScoringUnavailable", unit=MetricUnit.Count, value=1)
    scored = outcome.chunk
    metrics.add_metric(name="RecordsScored", unit=MetricUnit.Count, value=scored.scored)
    metrics.add_metric(name="RecordsUnscored", unit=MetricUnit.Count, value=scored.unscored)
    return scored.model_dump(mode="json")
