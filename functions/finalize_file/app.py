"""FinalizeFile: reconcile the file's counts from the chunk receipts, commit the file (its
ingest_audit row), mark the object COMPLETED, publish a "File Processed" event and return the
summary (the execution's output). A failed crawl or a crawler that gave up is a warning and a
metric (CrawlsFailed, CrawlerGaveUp), each with an alarm in the template."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.finalize import finalize_file
from booking_core.workflow import FinalizeRequest, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, FinalizeRequest)
    logger.set_correlation_id(request.execution)
    logger.append_keys(object_key=request.file.key)
    summary = finalize_file(request, Settings.from_env(), aws_client)
    metrics.add_metric(name="FilesProcessed", unit=MetricUnit.Count, value=1)
    if summary.crawler_status.startswith("FAILED"):
        metrics.add_metric(name="CrawlsFailed", unit=MetricUnit.Count, value=1)
    if summary.crawler_gave_up:
        metrics.add_metric(name="CrawlerGaveUp", unit=MetricUnit.Count, value=1)
    if summary.supersedes or summary.superseded_by:
        metrics.add_metric(name="FilesSuperseded", unit=MetricUnit.Count, value=1)
    for warning in summary.warnings:
        logger.warning(warning)
    logger.info(
        "file processed",
        extra=summary.model_dump(
            include={"rows", "valid", "delivered", "crawler_status", "supersedes"}
        ),
    )
    return summary.model_dump(mode="json")
