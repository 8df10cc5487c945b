"""Writes ``ingest_audit`` rows: one JSON object per S3 object, under the Glue table's location.

``audit/ingest_audit/ingest_date=YYYY-MM-DD/<execution>-<status>-<file id>.json``: one object per
row, named by the execution that wrote it, so a retried step rewrites the same object rather
than adding a second row. FinalizeFile writes its row after the partition crawler has run, so
the writer registers the row's partition itself (the crawler, which also targets the table,
would only add it at the next file).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from booking_core.audit import IngestAuditRow, audit_record

PARTITION_COLUMN = "ingest_date"


@dataclass
class AuditLog:
    s3: Any
    bucket: str
    prefix: str
    glue: Any | None = None
    database: str = ""
    table: str = ""

    def key_for(self, row: IngestAuditRow) -> str:
        day = row.finished_at.date().isoformat()
        execution = re.sub(r"[^A-Za-z0-9._-]+", "-", row.execution)[:80]
        file_id = hashlib.sha256(row.source_file.encode()).hexdigest()[:12]
        return f"{self.prefix}{PARTITION_COLUMN}={day}/{execution}-{row.status}-{file_id}.json"

    def write(self, row: IngestAuditRow) -> str:
        """Put the row and make sure its partition is in the catalog; returns its key."""
        key = self.key_for(row)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=orjson.dumps(audit_record(row)) + b"\n",
            ContentType="application/json",
        )
        if self.glue is not None and self.database and self.table:
            self._add_partition(self.glue, row.finished_at.date().isoformat())
        return key

    def _add_partition(self, glue: Any, day: str) -> None:
        table = glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        descriptor = dict(table["StorageDescriptor"])
        descriptor["Location"] = f"s3://{self.bucket}/{self.prefix}{PARTITION_COLUMN}={day}/"
        try:
            glue.create_partition(
                DatabaseName=self.database,
                TableName=self.table,
                PartitionInput={"Values": [day], "StorageDescriptor": descriptor},
            )
        except glue.exceptions.AlreadyExistsException:
            return
