"""StartCrawler: start the Glue crawler that adds the new partitions.

A crawler that is already running is not a failure: the state machine waits for it and starts it
again once it is ready (the running crawl may have started before this file's data landed).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.crawl import start_partition_crawl
from booking_core.workflow import CrawlerCounts, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, CrawlerCounts)
    logger.set_correlation_id(request.execution)
    started = start_partition_crawl(request, Settings.from_env(), aws_client)
    if started.start_status == "ALREADY_RUNNING":
        logger.info("crawler already running: waiting for it", extra={"starts": started.starts})
        metrics.add_metric(name="CrawlerAlreadyRunning", unit=MetricUnit.Count, value=1)
    else:
        logger.info("crawler started", extra={"crawler": started.crawler})
        metrics.add_metric(name="CrawlersStarted", unit=MetricUnit.Count, value=1)
    return started.model_dump(mode="json")
