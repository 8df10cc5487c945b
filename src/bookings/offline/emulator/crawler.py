"""The Glue crawler, emulated: moto's crawl never finishes, and crawls nothing.

When the state machine polls the crawler (the CheckCrawler function), the running crawl is
completed after ``polls_to_finish`` polls and the crawler's work is emulated: the missing
``ingest_date=...`` partitions of its target tables are added from the lake's prefixes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# The function the ingest state machine polls the crawler with.
CRAWLER_POLL_FUNCTION = "CheckCrawlerFunction"


class CrawlerEmulation:
    def __init__(
        self, client: Callable[[str], Any], *, account: str, region: str, polls_to_finish: int
    ) -> None:
        self._client = client
        self._account = account
        self._region = region
        self.polls_to_finish = max(1, polls_to_finish)
        self._polls: dict[str, int] = {}

    def poll(self) -> None:
        """One poll of every running crawl: the one polled enough times finishes its work."""
        from moto.glue.models import glue_backends

        backend = glue_backends[self._account][self._region]
        for name, crawler in backend.crawlers.items():
            if not crawler.crawls or crawler.crawls[-1].status != "RUNNING":
                continue
            polls = self._polls.get(name, 0) + 1
            self._polls[name] = polls
            if polls >= self.polls_to_finish:
                self._add_partitions(crawler.targets)
                crawler.crawls[-1].advance()
                self._polls[name] = 0

    def _add_partitions(self, targets: Mapping[str, Any]) -> None:
        glue = self._client("glue")
        s3 = self._client("s3")
        for target in targets.get("CatalogTargets", []):
            database = target["DatabaseName"]
            for table_name in target.get("Tables", []):
                table = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
                keys = [k["Name"] for k in table.get("PartitionKeys", [])]
                location = table["StorageDescriptor"]["Location"]
                if len(keys) != 1 or not location.startswith("s3://"):
                    continue
                bucket, _, prefix = location[5:].partition("/")
                existing = {
                    tuple(p["Values"])
                    for page in glue.get_paginator("get_partitions").paginate(
                        DatabaseName=database, TableName=table_name
                    )
                    for p in page["Partitions"]
                }
                listing = s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=prefix, Delimiter="/"
                )
                for page in listing:
                    for common in page.get("CommonPrefixes", []):
                        folder = common["Prefix"][len(prefix) :].rstrip("/")
                        key, _, value = folder.partition("=")
                        if key != keys[0] or (value,) in existing:
                            continue
                        descriptor = dict(table["StorageDescriptor"])
                        descriptor["Location"] = f"s3://{bucket}/{common['Prefix']}"
                        glue.create_partition(
                            DatabaseName=database,
                            TableName=table_name,
                            PartitionInput={"Values": [value], "StorageDescriptor": descriptor},
                        )
