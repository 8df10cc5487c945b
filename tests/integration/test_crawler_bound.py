"""The ingest state machine when the crawler never finishes within its poll bound: the file still
completes, and its summary says the crawler gave up (moto runs the real ASL; the emulated crawler
finishes only after ``crawler_polls_to_finish`` polls)."""

from __future__ import annotations

import pytest
from support.paths import ROOT

from bookings.offline.emulator import EmulatedStack

CLEAN = ROOT / "data" / "sample_bookings.csv"
MAX_POLLS = 2

pytestmark = pytest.mark.slow


def test_a_crawler_past_its_poll_bound_is_reported_in_the_summary() -> None:
    with EmulatedStack(
        ROOT / "template.yaml",
        overrides={"ChunkSize": 5000, "CrawlerMaxPolls": MAX_POLLS},
        crawler_polls_to_finish=MAX_POLLS + 10,
    ) as stack:
        outcome = stack.put_file(CLEAN, "incoming/slow_crawl.csv")
        assert outcome is not None
        assert outcome.status == "SUCCEEDED", outcome.cause
        visited = outcome.visited()
        assert visited.count("CheckCrawler") == MAX_POLLS
        assert "CrawlerGaveUp" in visited
        summary = outcome.output
        assert summary["crawler_gave_up"] is True
        assert summary["crawler_state"] == "RUNNING"
        assert summary["delivered"] == summary["valid"] > 0


def test_a_crawler_that_finishes_is_not_reported_as_given_up() -> None:
    with EmulatedStack(ROOT / "template.yaml", overrides={"CrawlerMaxPolls": MAX_POLLS}) as stack:
        outcome = stack.put_file(CLEAN, "incoming/quick_crawl.csv")
        assert outcome is not None
        assert outcome.status == "SUCCEEDED", outcome.cause
        assert "CrawlerGaveUp" not in outcome.visited()
        assert outcome.output["crawler_gave_up"] is False
        assert outcome.output["crawler_state"] == "READY"
