"""Score: add the model's completion probability to every record of an enriched chunk.

With no endpoint configured, or when the endpoint fails after its retries, the records go on
unscored (null scores) with a warning and a ScoringUnavailable metric: nothing is lost.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.ingest import score_chunk
from booking_core.aws.scoring import EndpointScorer
from booking_core.aws.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(event.get("execution") or event["enriched_key"])
    logger.append_keys(chunk_key=event.get("chunk_key"))
    settings = Settings.from_env()
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    scorer = None
    if settings.model_endpoint_name:
        scorer = EndpointScorer(
            aws_client("sagemaker-runtime", settings.sagemaker_runtime_url or None),
            settings.model_endpoint_name,
            settings.score_max_payload_bytes,
        )
    else:
        logger.warning("no model endpoint configured: records go on unscored")
    outcome = score_chunk(aws_client("s3"), settings.lake_bucket, event["enriched_key"], scorer)
    if scorer is None or outcome.failures:
        metrics.add_metric(name="ScoringUnavailable", unit=MetricUnit.Count, value=1)
    for failure in outcome.failures:
        logger.warning("endpoint unavailable: batch goes on unscored", extra={"error": failure})
    metrics.add_metric(name="RecordsScored", unit=MetricUnit.Count, value=outcome.scored)
    metrics.add_metric(name="RecordsUnscored", unit=MetricUnit.Count, value=outcome.unscored)
    return {
        **event,
        "scored_key": outcome.scored_key,
        "scored": outcome.scored,
        "unscored": outcome.unscored,
        "scoring_failures": len(outcome.failures),
    }
