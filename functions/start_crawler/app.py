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
from booking_core.aws.crawler import ALREADY_RUNNING, start_crawler
from booking_core.aws.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(event.get("execution"))
    settings = Settings.from_env()
    settings.need(CRAWLER_NAME=settings.crawler_name)
    status = start_crawler(aws_client("glue"), settings.crawler_name)
    starts = int(event.get("starts", 0)) + 1
    if status == ALREADY_RUNNING:
        logger.info("crawler already running: waiting for it", extra={"starts": starts})
        metrics.add_metric(name="CrawlerAlreadyRunning", unit=MetricUnit.Count, value=1)
    else:
        logger.info("crawler started", extra={"crawler": settings.crawler_name})
    return {
        "crawler": settings.crawler_name,
        "start_status": status,
        "starts": starts,
        "polls": int(event.get("polls", 0)),
    }
