"""StartCrawler and CheckCrawler: the partition crawler's loop in the ingest workflow.

A crawler that is already running is not a failure: the state machine waits for it and starts it
again once it is ready (the running crawl may have started before this file's data landed). The
counters let the state machine bound its wait.
"""

from __future__ import annotations

from booking_core.aws.clients import ClientFactory
from booking_core.aws.crawler import crawler_status, start_crawler
from booking_core.aws.settings import Settings
from booking_core.workflow import CrawlerChecked, CrawlerCounts, CrawlerPoll, CrawlerStarted


def start_partition_crawl(
    request: CrawlerCounts, settings: Settings, client: ClientFactory
) -> CrawlerStarted:
    settings.need(CRAWLER_NAME=settings.crawler_name)
    status = start_crawler(client("glue"), settings.crawler_name)
    return CrawlerStarted(
        crawler=settings.crawler_name,
        start_status=status,
        starts=request.starts + 1,
        polls=request.polls,
    )


def check_partition_crawl(
    request: CrawlerPoll, settings: Settings, client: ClientFactory
) -> CrawlerChecked:
    settings.need(CRAWLER_NAME=settings.crawler_name)
    status = crawler_status(client("glue"), settings.crawler_name)
    return CrawlerChecked(
        crawler=settings.crawler_name,
        start_status=request.start_status,
        starts=request.starts,
        polls=request.polls + 1,
        state=status["state"],
        last_crawl_status=status["last_crawl_status"],
        last_crawl_error=status["last_crawl_error"],
    )
