"""CheckCrawler: the crawler's state (READY, RUNNING, STOPPING) and its last crawl's status.

Counts the polls so that the state machine can bound its wait loop.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.crawler import crawler_status
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
    status = crawler_status(aws_client("glue"), settings.crawler_name)
    polls = int(event.get("polls", 0)) + 1
    logger.info("crawler polled", extra={**status, "polls": polls})
    return {
        "crawler": settings.crawler_name,
        "start_status": event.get("start_status"),
        "starts": int(event.get("starts", 1)),
        "polls": polls,
        "state": status["state"],
        "last_crawl_status": status["last_crawl_status"],
        "last_crawl_error": status["last_crawl_error"],
    }
