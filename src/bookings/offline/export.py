"""Moves what the emulated stack wrote into the offline lake on disk.

The Glue tables of the template say where each table's data lives in the lake bucket (the
bookings Firehose delivered, the rejected rows Validate wrote, the audit rows of the workflow's
steps); their objects are read, written as Parquet by the ``LakeWriter`` (into the file's staging
folder: ``bookings.offline.commit`` moves them into ``DIR/lake/`` once the file commits) and then
removed from the emulated bucket (every version), so that memory holds only what is still in
flight, however large the file. The audit rows are handed back rather than written: the session
decides the file's outcome before they are stored. Quarantined files and their error reports
are copied to ``DIR/quarantine/``, and the records the delivery stream's processor failed
(Firehose's error prefix) are moved to ``DIR/quarantine/stream/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bookings.lake import AUDIT_TABLE, BOOKINGS_TABLE, REJECTED_TABLE, LakeWriter

EXPORTED_TABLES = (BOOKINGS_TABLE, REJECTED_TABLE, AUDIT_TABLE)

QUARANTINE_DIR = "quarantine"
# Under DIR/quarantine/: the records a delivery stream's processor failed, by their S3 key.
STREAM_ERRORS_DIR = "stream"


class SeenRows:
    """The rows of a lake table already stored, by source file: one bit per row number.

    A booking's id is a hash of its source file and row number, so this is the same test as
    comparing booking ids, in an eighth of a byte per row rather than a string per booking:
    memory stays small however large the file. Rows an earlier, interrupted run stored
    (``stored``, counted in ``skipped``) are told apart from copies of rows this export already
    took (a chunk delivered twice: counted in ``repeated``).
    """

    def __init__(self) -> None:
        self._taken: dict[str, bytearray] = {}
        self._stored: dict[str, bytearray] = {}
        self.skipped = 0
        self.repeated = 0

    @staticmethod
    def _mark(bits_of: dict[str, bytearray], source_file: str, row_number: int) -> bool:
        """Set a row's bit; False when it was set already."""
        bits = bits_of.setdefault(source_file, bytearray())
        index, bit = divmod(row_number, 8)
        if index >= len(bits):
            bits.extend(bytes(max(index + 1 - len(bits), len(bits))))
        if bits[index] & (1 << bit):
            return False
        bits[index] |= 1 << bit
        return True

    def stored(self, source_file: str, row_number: int) -> None:
        """A row already in the lake."""
        self._mark(self._stored, source_file, row_number)
        self._mark(self._taken, source_file, row_number)

    def add(self, source_file: str, row_number: int) -> bool:
        """Mark a row; False when it was already marked."""
        return self._mark(self._taken, source_file, row_number)

    def _is_stored(self, source_file: str, row_number: int) -> bool:
        bits = self._stored.get(source_file)
        index, bit = divmod(row_number, 8)
        return bits is not None and index < len(bits) and bool(bits[index] & (1 << bit))

    def admit(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The records whose row is not marked yet (marking them)."""
        for record in records:
            source_file = str(record.get("source_file"))
            row_number = int(record.get("row_number") or 0)
            if self.add(source_file, row_number):
                yield record
            elif self._is_stored(source_file, row_number):
                self.skipped += 1
            else:
                self.repeated += 1


def _query_table(table_dir: Path, columns: str, condition: str, value: str) -> list[Any]:
    """Rows of a lake table's Parquet files (none when it has no files)."""
    if not any(table_dir.glob("*/*.parquet")):
        return []
    import duckdb

    pattern = str(table_dir / "*" / "*.parquet").replace("'", "''")
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT {columns} FROM read_parquet('{pattern}', hive_partitioning = true, "  # noqa: S608 (the project's own columns and a path of the output directory)
            f"union_by_name = true) WHERE {condition}",
            [value],
        ).fetchall()
    finally:
        con.close()


def stored_rows(table_dir: Path, source_file: str) -> list[int]:
    """Row numbers of ``source_file`` already in a lake table (none when it has no files)."""
    rows = _query_table(table_dir, "row_number", "source_file = ?", source_file)
    return [int(row[0]) for row in rows]


def stored_sources(table_dir: Path, prefix: str) -> list[tuple[str, int]]:
    """(source_file, row_number) of the rows of a lake table whose source starts with
    ``prefix`` (none when the table has no files)."""
    rows = _query_table(table_dir, "source_file, row_number", "starts_with(source_file, ?)", prefix)
    return [(str(source), int(row)) for source, row in rows]


def seen_rows_of_sources(out_dir: Path, prefix: str) -> dict[str, SeenRows]:
    """Per table, the rows already stored whose source starts with ``prefix``."""
    seen = {}
    for table in (BOOKINGS_TABLE, REJECTED_TABLE):
        seen[table] = SeenRows()
        for source_file, row_number in stored_sources(out_dir / "lake" / table, prefix):
            seen[table].add(source_file, row_number)
    return seen


def seen_rows_for(out_dir: Path, source_file: str) -> dict[str, SeenRows]:
    """Per table, the rows of ``source_file`` that an earlier, interrupted run already stored."""
    seen = {}
    for table in (BOOKINGS_TABLE, REJECTED_TABLE):
        seen[table] = SeenRows()
        for row_number in stored_rows(out_dir / "lake" / table, source_file):
            seen[table].stored(source_file, row_number)
    return seen


@dataclass
class DrainCounts:
    bookings: int = 0
    rejected: int = 0
    audit: int = 0
    objects: int = 0


class LakeExporter:
    """Drains one emulated stack's lake tables into ``out_dir``."""

    def __init__(self, stack: Any, out_dir: str | Path) -> None:
        self.stack = stack
        self.out_dir = Path(out_dir)
        self.s3 = stack.client("s3")
        self.locations = self._table_locations()

    def _table_locations(self) -> dict[str, tuple[str, str]]:
        """``{table: (bucket, prefix)}`` of the Glue tables the lake exports."""
        glue = self.stack.client("glue")
        locations: dict[str, tuple[str, str]] = {}
        for database in glue.get_databases()["DatabaseList"]:
            pages = glue.get_paginator("get_tables").paginate(DatabaseName=database["Name"])
            for page in pages:
                for table in page["TableList"]:
                    location = table.get("StorageDescriptor", {}).get("Location", "")
                    if table["Name"] in EXPORTED_TABLES and location.startswith("s3://"):
                        bucket, _, prefix = location[5:].partition("/")
                        locations[table["Name"]] = (bucket, prefix)
        missing = set(EXPORTED_TABLES) - set(locations)
        if missing:
            raise RuntimeError(
                f"template: no Glue table {', '.join(sorted(missing))} with an s3:// location"
            )
        return locations

    def _keys(self, bucket: str, prefix: str) -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def _records(self, bucket: str, key: str, versions: list[str]) -> Iterator[dict[str, Any]]:
        response = self.s3.get_object(Bucket=bucket, Key=key)
        versions.append(str(response.get("VersionId") or "null"))
        body = response["Body"]
        try:
            for line in body.iter_lines(chunk_size=1 << 20):
                if line.strip():
                    yield orjson.loads(line)
        finally:
            body.close()

    def _remove(self, bucket: str, key: str, version_id: str | None = None) -> None:
        """Delete an exported object's version for good (a plain delete in a versioned bucket
        only hides it behind a delete marker)."""
        if version_id is None:
            version_id = str(self.s3.head_object(Bucket=bucket, Key=key).get("VersionId") or "null")
        self.s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)

    def drain(
        self, writer: LakeWriter, seen: dict[str, SeenRows], audit: list[dict[str, Any]]
    ) -> DrainCounts:
        """Move every delivered booking and rejected row into ``writer``, leaving out the rows
        ``seen`` (per table) already holds (counted in its ``skipped``): a record delivered
        twice is stored once. The audit rows are appended to ``audit``."""
        counts = DrainCounts()
        for table in EXPORTED_TABLES:
            bucket, prefix = self.locations[table]
            for key in self._keys(bucket, prefix):
                versions: list[str] = []
                records = self._records(bucket, key, versions)
                if table == AUDIT_TABLE:
                    before = len(audit)
                    audit.extend(records)
                    counts.audit += len(audit) - before
                elif table == BOOKINGS_TABLE:
                    counts.bookings += writer.add_bookings(seen[table].admit(records))
                else:
                    counts.rejected += writer.add_rejected(seen[table].admit(records))
                self._remove(bucket, key, versions[0])
                counts.objects += 1
        return counts

    def drain_stream_errors(self) -> int:
        """Move what the delivery streams wrote under their error prefix (records their
        processor failed, as Firehose's processing-failed documents) to
        ``DIR/quarantine/stream/``; returns how many records."""
        moved = 0
        firehose = self.stack.client("firehose")
        for name in firehose.list_delivery_streams()["DeliveryStreamNames"]:
            description = firehose.describe_delivery_stream(DeliveryStreamName=name)
            for destination in description["DeliveryStreamDescription"]["Destinations"]:
                s3 = destination.get("ExtendedS3DestinationDescription") or {}
                prefix = s3.get("ErrorOutputPrefix")
                if not prefix:
                    continue
                bucket = s3["BucketARN"].rsplit(":", 1)[-1]
                for key in self._keys(bucket, prefix):
                    response = self.s3.get_object(Bucket=bucket, Key=key)
                    body = response["Body"].read()
                    target = self.out_dir / QUARANTINE_DIR / STREAM_ERRORS_DIR / key
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(body)
                    moved += sum(1 for line in body.splitlines() if line.strip())
                    self._remove(bucket, key, str(response.get("VersionId") or "null"))
        return moved

    def copy_quarantined(self, quarantine_key: str | None, report_key: str | None) -> list[Path]:
        """Copy a quarantined file and its error report to ``DIR/quarantine/``."""
        bucket = self.stack.lake_bucket
        copied = []
        for key in (quarantine_key, report_key):
            if not key:
                continue
            target = self.out_dir / QUARANTINE_DIR / key.split("/", 1)[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key, str(target))
            copied.append(target)
        return copied

    def expire_staging(self, prefix: str) -> int:
        """Remove a file's claim-check chunks whose delivery receipt exists (the template's
        lifecycle rule expires them in AWS; here they would only hold memory)."""
        bucket = self.stack.lake_bucket
        keys = self._keys(bucket, prefix)
        receipts = {k.rsplit("/", 1)[-1].removesuffix(".json") for k in keys if "/receipts/" in k}
        removed = 0
        for key in keys:
            name = key.rsplit("/", 1)[-1]
            if "/receipts/" in key or not name.startswith("chunk-"):
                continue
            if name.removesuffix(".jsonl") in receipts:
                self._remove(bucket, key)
                removed += 1
        return removed
