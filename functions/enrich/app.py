"""Enrich: one staged chunk in, one enriched chunk out (keys, never rows)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.ingest import enrich_chunk
from booking_core.aws.settings import Settings
from booking_core.enrichment import EnrichmentContext

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(event.get("execution") or event["chunk_key"])
    logger.append_keys(chunk_key=event["chunk_key"])
    settings = Settings.from_env()
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    ingested_at = datetime.fromisoformat(event["ingested_at"])
    booking_date = event.get("booking_date")
    enrichment = EnrichmentContext(
        source_file=event["source_file"],
        ingested_at=ingested_at,
        booking_date=date.fromisoformat(booking_date) if booking_date else ingested_at.date(),
    )
    enriched_key, records = enrich_chunk(
        aws_client("s3"), settings.lake_bucket, event["chunk_key"], enrichment
    )
    metrics.add_metric(name="RecordsEnriched", unit=MetricUnit.Count, value=records)
    logger.info("chunk enriched", extra={"records": records})
    return {**event, "enriched_key": enriched_key, "records": records}
