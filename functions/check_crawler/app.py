"""CheckCrawler: the crawler's state (READY, RUNNING, STOPPING) and its last crawl's status.

Counts the polls so that the state machine can bound its wait loop.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.crawl import check_partition_crawl
from booking_core.workflow import CrawlerPoll, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, CrawlerPoll)
    logger.set_correlation_id(request.execution)
    checked = check_partition_crawl(request, Settings.from_env(), aws_client)
    metrics.add_metric(name="CrawlerPolls", unit=MetricUnit.Count, value=1)
    logger.info(
        "crawler polled",
        extra=checked.model_dump(
            include={"state", "last_crawl_status", "last_crawl_error", "polls"}
        ),
    )
    return checked.model_dump(mode="json")
