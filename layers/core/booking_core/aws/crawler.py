"""Glue crawler start and status. A crawler that is already running means "wait", not failure."""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

STARTED: Final = "STARTED"
ALREADY_RUNNING: Final = "ALREADY_RUNNING"


class CrawlerStatus(TypedDict):
    state: str
    last_crawl_status: str | None
    last_crawl_error: str | None


def start_crawler(glue: Any, name: str) -> Literal["STARTED", "ALREADY_RUNNING"]:
    """Start the crawler; returns STARTED, or ALREADY_RUNNING when a crawl is in progress."""
    try:
        glue.start_crawler(Name=name)
    except glue.exceptions.CrawlerRunningException:
        return ALREADY_RUNNING
    return STARTED


def crawler_status(glue: Any, name: str) -> CrawlerStatus:
    crawler = glue.get_crawler(Name=name)["Crawler"]
    last = crawler.get("LastCrawl") or {}
    return CrawlerStatus(
        state=str(crawler.get("State", "READY")),
        last_crawl_status=last.get("Status"),
        last_crawl_error=last.get("ErrorMessage"),
    )
