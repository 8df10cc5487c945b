"""The ingest state machine when the crawler is still running at the poll bound: the file still
succeeds (its data is in the lake; the next crawl adds the partitions) and its summary says the
workflow gave up waiting (moto's interpreter, the real handlers)."""

from __future__ import annotations

import pytest
from support.paths import ROOT

from bookings.offline.harness import EmulatedStack

CLEAN = ROOT / "data" / "sample_bookings.csv"

pytestmark = pytest.mark.slow


def test_a_crawler_still_running_at_the_poll_bound_is_reported_in_the_summary() -> None:
    with EmulatedStack(
        ROOT / "template.yaml", overrides={"CrawlerMaxPolls": 2}, crawler_polls_to_finish=10
    ) as stack:
        outcome = stack.put_file(CLEAN, "incoming/slow_crawl.csv")
        assert outcome is not None
        assert outcome.status == "SUCCEEDED", outcome.cause
        visited = outcome.visited()
        assert visited.count("CheckCrawler") == 2
        assert "CrawlerGaveUp" in visited
        summary = outcome.output
        assert summary["crawler_gave_up"] is True
        assert summary["crawler_state"] == "RUNNING"
        assert summary["delivered"] == summary["valid"] > 0
