"""The offline lake: Parquet files partitioned like the curated S3 lake, and a DuckDB catalog.

Layout under ``DIR`` (the contract shared by the offline stack, the report and ``bookings sql``):

- ``DIR/lake/bookings/ingest_date=YYYY-MM-DD/part-*.parquet``: one column per field of
  ``booking_core.schema.ScoredBooking``; types follow the pydantic model (int -> int32 when the
  field's bounds fit, else int64; float -> double; str and Literal -> string; bool -> bool;
  date -> date32; datetime -> timestamp[us, UTC]). ``ingest_date`` (the UTC date of
  ``ingested_at``) is the Hive partition, not a column of the files.
- ``DIR/lake/rejected_bookings/ingest_date=YYYY-MM-DD/part-*.parquet``: the fields of
  ``booking_core.schema.RejectedRow`` (``reasons`` as list<string>), partitioned by the UTC date
  of ``rejected_at``.
- ``DIR/lake/ingest_audit/ingest_date=YYYY-MM-DD/part-*.parquet``: the fields of
  ``booking_core.audit.IngestAuditRow``, one row per file execution, partitioned by the UTC date
  of ``finished_at``. What users query reads it (``sql/views/committed_files.sql``).
- ``DIR/catalog.duckdb``: views ``bookings``, ``rejected_bookings`` and ``ingest_audit`` over
  those files (``hive_partitioning``, ``union_by_name``) and the views of ``sql/views``, written
  by ``bookings.analytics.engine.build_catalog``.

Files are dictionary-encoded and zstd-compressed, written in row groups so memory stays
constant however many rows stream through; within a row group bookings are ordered by route and
booking origin (route-derived columns then compress to runs). Every writer run adds new
``part-<run>.parquet`` files and never rewrites existing ones. A file is written under a
temporary name no reader matches and renamed into place once complete (``durable_files``): a
reader never sees half a file, and a writer killed half-way leaves only a temporary file that the
next writer removes. With ``dedupe=True`` it skips
bookings whose ``booking_id`` (and rejected rows whose ``source_file`` + ``row_number``) are
already in the lake or already written by this run, so processing the same file twice adds
nothing.
"""

from __future__ import annotations

import contextlib
import os
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from booking_core.audit import IngestAuditRow
from booking_core.schema import RejectedRow, ScoredBooking
from pydantic import BaseModel

from bookings import fault_points
from bookings.durable_files import fsync_directory, temporary_path

BOOKINGS_TABLE = "bookings"
REJECTED_TABLE = "rejected_bookings"
AUDIT_TABLE = "ingest_audit"
PARTITION_COLUMN = "ingest_date"
CATALOG_FILE = "catalog.duckdb"
DEFAULT_ROW_GROUP_ROWS = 131_072
_INT32_MAX = 2**31 - 1
# Columns whose values are (nearly) all distinct: a dictionary would only add a page.
UNIQUE_VALUE_COLUMNS = frozenset({"booking_id", "row_number", "raw", "message"})
CLUSTER_COLUMNS = ("route", "booking_origin")


def _bound(metadata: list[Any], name: str) -> int | None:
    for item in metadata:
        value = getattr(item, name, None)
        if isinstance(value, int):
            return value
    return None


# One branch per annotation type the schema uses: one function on purpose.
def _arrow_type(annotation: Any, metadata: list[Any]) -> tuple[pa.DataType, bool]:  # noqa: C901
    """The Arrow type of a pydantic field annotation, and whether it is nullable."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) != 1:
            raise TypeError(f"unsupported union in the lake schema: {annotation!r}")
        annotation = members[0]
        origin = typing.get_origin(annotation)
    if origin is Literal:
        return pa.string(), nullable
    if origin is list:
        (item,) = typing.get_args(annotation)
        item_type, _ = _arrow_type(item, [])
        return pa.list_(item_type), nullable
    if annotation is bool:
        return pa.bool_(), nullable
    if annotation is int:
        upper, lower = _bound(metadata, "le"), _bound(metadata, "ge")
        fits = upper is not None and upper <= _INT32_MAX and (lower is None or lower >= -_INT32_MAX)
        return (pa.int32() if fits else pa.int64()), nullable
    if annotation is float:
        return pa.float64(), nullable
    if annotation is str:
        return pa.string(), nullable
    if annotation is datetime:
        return pa.timestamp("us", tz="UTC"), nullable
    if annotation is date:
        return pa.date32(), nullable
    raise TypeError(f"unsupported type in the lake schema: {annotation!r}")


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """The Parquet schema of a pydantic model, field for field, in declaration order."""
    fields = []
    for name, info in model.model_fields.items():
        arrow_type, _ = _arrow_type(info.annotation, list(info.metadata))
        # Every Parquet column is nullable: Athena and DuckDB read them so, and a column added
        # to the model later reads as null in older files (union_by_name).
        fields.append(pa.field(name, arrow_type, nullable=True))
    return pa.schema(fields)


BOOKINGS_SCHEMA = arrow_schema(ScoredBooking)
REJECTED_SCHEMA = arrow_schema(RejectedRow)
AUDIT_SCHEMA = arrow_schema(IngestAuditRow)
# Every table of the lake, with its schema and the time field its partition is the date of.
LAKE_TABLES: dict[str, tuple[pa.Schema, str]] = {
    BOOKINGS_TABLE: (BOOKINGS_SCHEMA, "ingested_at"),
    REJECTED_TABLE: (REJECTED_SCHEMA, "rejected_at"),
    AUDIT_TABLE: (AUDIT_SCHEMA, "finished_at"),
}


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _to_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def _converter(arrow_type: pa.DataType) -> Callable[[Any], Any] | None:
    if pa.types.is_timestamp(arrow_type):
        return _to_datetime
    if pa.types.is_date(arrow_type):
        return _to_date
    return None


@dataclass
class _Partition:
    path: Path
    rows: list[Mapping[str, Any]] = field(default_factory=list)
    writer: pq.ParquetWriter | None = None
    written: int = 0
    # Where the file is written until it is complete, and its open handle.
    temporary: Path | None = None
    handle: Any = None


@dataclass
class WriteStats:
    """What one writer run added to the lake."""

    bookings: int = 0
    rejected: int = 0
    audit: int = 0
    skipped_bookings: int = 0
    skipped_rejected: int = 0
    files: list[str] = field(default_factory=list)


class _TableWriter:
    def __init__(
        self,
        root: Path,
        schema: pa.Schema,
        time_field: str,
        run_id: str,
        row_group_rows: int,
    ) -> None:
        self.root = root
        self.schema = schema
        self.time_field = time_field
        self.run_id = run_id
        self.row_group_rows = row_group_rows
        self.partitions: dict[str, _Partition] = {}
        self.cluster_by = [c for c in CLUSTER_COLUMNS if c in schema.names]
        self.dictionary_columns = [n for n in schema.names if n not in UNIQUE_VALUE_COLUMNS]
        self.converters = {f.name: conv for f in schema if (conv := _converter(f.type)) is not None}

    def partition_of(self, record: Mapping[str, Any]) -> str:
        stamp = _to_datetime(record.get(self.time_field))
        if not isinstance(stamp, datetime):
            raise ValueError(f"{self.root.name}: record has no {self.time_field} to partition by")
        return stamp.astimezone(UTC).date().isoformat()

    def add(self, record: Mapping[str, Any]) -> None:
        day = self.partition_of(record)
        part = self.partitions.get(day)
        if part is None:
            directory = self.root / f"{PARTITION_COLUMN}={day}"
            part = _Partition(path=directory / f"part-{self.run_id}.parquet")
            self.partitions[day] = part
        part.rows.append(record)
        if len(part.rows) >= self.row_group_rows:
            self._flush(part)

    def _table(self, rows: list[Mapping[str, Any]]) -> pa.Table:
        columns = []
        for arrow_field in self.schema:
            name = arrow_field.name
            values = [row.get(name) for row in rows]
            conv = self.converters.get(name)
            if conv is not None:
                values = [None if v is None else conv(v) for v in values]
            try:
                columns.append(pa.array(values, type=arrow_field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
                raise ValueError(f"{self.root.name}: column {name}: {exc}") from None
        return pa.Table.from_arrays(columns, schema=self.schema)

    def _flush(self, part: _Partition) -> None:
        if not part.rows:
            return
        table = self._table(part.rows)
        part.rows = []
        if self.cluster_by:
            # Rows of a route share a dozen route-derived values: grouped, they compress to runs.
            table = table.sort_by([(name, "ascending") for name in self.cluster_by])
        if part.writer is None:
            part.path.parent.mkdir(parents=True, exist_ok=True)
            part.temporary = temporary_path(part.path)
            part.handle = part.temporary.open("wb")
            part.writer = pq.ParquetWriter(
                part.handle,
                self.schema,
                compression="zstd",
                compression_level=9,
                use_dictionary=self.dictionary_columns,
                write_statistics=True,
            )
        part.writer.write_table(table, row_group_size=self.row_group_rows)
        part.written += table.num_rows
        fault_points.reached("lake-file-open")

    def close(self) -> list[str]:
        """Finish every file (footer, flushed to disk) and rename it into place."""
        files = []
        for part in self.partitions.values():
            self._flush(part)
            if part.writer is not None:
                part.writer.close()
                part.handle.flush()
                os.fsync(part.handle.fileno())
                part.handle.close()
                assert part.temporary is not None
                os.replace(part.temporary, part.path)
                fsync_directory(part.path.parent)
                files.append(str(part.path))
        self.partitions = {}
        return files

    def abandon(self) -> None:
        """Drop what is not finished: open files are closed and their temporaries removed."""
        for part in self.partitions.values():
            if part.writer is not None:
                with contextlib.suppress(Exception):
                    part.writer.close()
                with contextlib.suppress(Exception):
                    part.handle.close()
                if part.temporary is not None:
                    part.temporary.unlink(missing_ok=True)
        self.partitions = {}


class LakeWriter:
    """Streams bookings and rejected rows into the offline lake under ``out_dir/lake``.

    Use it as a context manager (or call ``close()``): rows are buffered per partition up to
    one row group and written as they fill, so a million rows stream in constant memory.
    """

    def __init__(
        self,
        out_dir: str | Path,
        *,
        dedupe: bool = False,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.lake_dir = self.out_dir / "lake"
        self.dedupe = dedupe
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.run_id = run_id
        self._bookings = _TableWriter(
            self.lake_dir / BOOKINGS_TABLE, BOOKINGS_SCHEMA, "ingested_at", run_id, row_group_rows
        )
        self._rejected = _TableWriter(
            self.lake_dir / REJECTED_TABLE, REJECTED_SCHEMA, "rejected_at", run_id, row_group_rows
        )
        self._audit = _TableWriter(
            self.lake_dir / AUDIT_TABLE, AUDIT_SCHEMA, "finished_at", run_id, row_group_rows
        )
        self._seen_booking_ids: set[str] | None = None
        self._seen_rejected: set[tuple[str, int]] | None = None
        self.stats = WriteStats()

    def __enter__(self) -> LakeWriter:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()

    def existing_booking_ids(self) -> set[str]:
        """The booking ids already stored in the lake (read from the booking_id column only)."""
        return {str(v) for v in _read_column(self.lake_dir / BOOKINGS_TABLE, ["booking_id"])}

    def existing_rejected_keys(self) -> set[tuple[str, int]]:
        rows = _read_columns(self.lake_dir / REJECTED_TABLE, ["source_file", "row_number"])
        return {(str(f), int(n)) for f, n in rows}

    def add_bookings(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Adds enriched or scored booking dicts; returns how many were written."""
        if self.dedupe and self._seen_booking_ids is None:
            self._seen_booking_ids = self.existing_booking_ids()
        seen = self._seen_booking_ids
        written = 0
        for record in records:
            if seen is not None:
                booking_id = record.get("booking_id")
                if booking_id in seen:
                    self.stats.skipped_bookings += 1
                    continue
                seen.add(str(booking_id))
            self._bookings.add(record)
            written += 1
        self.stats.bookings += written
        return written

    def add_rejected(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Adds RejectedRow dicts; returns how many were written."""
        if self.dedupe and self._seen_rejected is None:
            self._seen_rejected = self.existing_rejected_keys()
        seen = self._seen_rejected
        written = 0
        for record in records:
            if seen is not None:
                key = (str(record.get("source_file")), int(record.get("row_number") or 0))
                if key in seen:
                    self.stats.skipped_rejected += 1
                    continue
                seen.add(key)
            self._rejected.add(record)
            written += 1
        self.stats.rejected += written
        return written

    def add_audit(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Adds ``IngestAuditRow`` dicts; returns how many were written."""
        written = 0
        for record in records:
            self._audit.add(record)
            written += 1
        self.stats.audit += written
        return written

    def close(self) -> WriteStats:
        self.stats.files.extend(self._bookings.close())
        self.stats.files.extend(self._rejected.close())
        self.stats.files.extend(self._audit.close())
        return self.stats

    def abandon(self) -> None:
        """Stop without finishing: nothing unfinished reaches the lake."""
        for table in (self._bookings, self._rejected, self._audit):
            table.abandon()


def committed_file_record(
    source_file: str, *, valid: int, rejected: int, finished_at: datetime
) -> dict[str, Any]:
    """The audit row that commits a file written straight into the lake, not through the
    stack (the analytics tests' and benchmarks' lakes): what users query shows a file's rows
    only once such a row says committed."""
    return IngestAuditRow(
        bucket="local",
        object_key=source_file,
        etag="",
        source_file=source_file,
        rows=valid + rejected,
        valid=valid,
        rejected=rejected,
        delivered=valid,
        status="committed",
        execution=f"local-{uuid.uuid4().hex[:8]}",
        finished_at=finished_at,
    ).model_dump()


def _dataset(table_dir: Path) -> pads.Dataset | None:
    if not any(table_dir.glob(f"{PARTITION_COLUMN}=*/*.parquet")):
        return None
    return pads.dataset(table_dir, format="parquet", partitioning="hive")


def _read_column(table_dir: Path, columns: list[str]) -> list[Any]:
    dataset = _dataset(table_dir)
    if dataset is None:
        return []
    values: list[Any] = dataset.to_table(columns=columns).column(0).to_pylist()
    return values


def _read_columns(table_dir: Path, columns: list[str]) -> list[tuple[Any, ...]]:
    dataset = _dataset(table_dir)
    if dataset is None:
        return []
    table = dataset.to_table(columns=columns)
    return list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


def resolve_lake(path: str | Path) -> Path:
    """The ``DIR`` of a lake given either ``DIR`` or ``DIR/lake``."""
    candidate = Path(path)
    if (candidate / "lake").is_dir():
        return candidate
    if candidate.name == "lake" and (
        (candidate / BOOKINGS_TABLE).is_dir() or (candidate / REJECTED_TABLE).is_dir()
    ):
        return candidate.parent
    raise FileNotFoundError(f"{candidate}: no lake here (expected {candidate / 'lake'})")
