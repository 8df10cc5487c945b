"""The offline lake: schema from the data contract, partitions, streaming in row groups,
idempotency by booking_id, the DuckDB catalog and the size against the source CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from booking_core.schema import RejectedRow, ScoredBooking
from support.lake_builder import build_lake

from bookings.analytics import sql_files
from bookings.analytics.engine import build_catalog, open_catalog
from bookings.lake import (
    BOOKINGS_SCHEMA,
    REJECTED_SCHEMA,
    LakeWriter,
    committed_file_record,
    resolve_lake,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    return build_lake(tmp_path_factory.mktemp("lake"), rows_per_file=2_000)


def test_the_schema_follows_the_data_contract() -> None:
    assert BOOKINGS_SCHEMA.names == list(ScoredBooking.model_fields)
    assert REJECTED_SCHEMA.names == list(RejectedRow.model_fields)
    types = {f.name: f.type for f in BOOKINGS_SCHEMA}
    assert types["num_passengers"] == pa.int32()
    assert types["row_number"] == pa.int64()
    assert types["flight_duration"] == pa.float64()
    assert types["route"] == pa.string()
    assert types["service_tier"] == pa.string()
    assert types["is_duplicate"] == pa.bool_()
    assert types["departure_date"] == pa.date32()
    assert types["ingested_at"] == pa.timestamp("us", tz="UTC")
    assert REJECTED_SCHEMA.field("reasons").type == pa.list_(pa.string())


def test_files_are_partitioned_by_ingest_date(built) -> None:
    lake = built.root / "lake"
    days = sorted(p.name for p in (lake / "bookings").iterdir())
    expected = sorted({f"ingest_date={r['ingested_at'].date()}" for r in built.bookings})
    assert days == expected
    for part in (lake / "bookings").glob("*/*.parquet"):
        metadata = pq.read_metadata(part)
        assert metadata.schema.to_arrow_schema().names == BOOKINGS_SCHEMA.names
        column = metadata.row_group(0).column(BOOKINGS_SCHEMA.names.index("sales_channel"))
        assert column.compression == "ZSTD"
        assert any("DICTIONARY" in e for e in column.encodings)
    rejected_days = {p.name for p in (lake / "rejected_bookings").iterdir()}
    assert rejected_days == {f"ingest_date={r['rejected_at'].date()}" for r in built.rejected}


def test_every_record_is_stored_once_with_its_values(built) -> None:
    con = open_catalog(build_catalog(built.root).parent)
    try:
        assert con.execute("SELECT count(*) FROM bookings").fetchone()[0] == len(built.bookings)
        stored = con.execute("SELECT count(*) FROM rejected_bookings").fetchone()[0]
        assert stored == len(built.rejected)
        sample = built.bookings[123]
        row = con.execute(
            "SELECT route, booking_origin, ingested_at, departure_date, is_duplicate, ingest_date "
            "FROM bookings WHERE booking_id = ?",
            [sample["booking_id"]],
        ).fetchone()
        assert row[:2] == (sample["route"], sample["booking_origin"])
        assert row[2] == sample["ingested_at"]
        assert row[3] == sample["departure_date"]
        assert row[4] == sample["is_duplicate"]
        assert row[5] == sample["ingested_at"].date()
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        assert {"bookings", "rejected_bookings"} | {v.name for v in sql_files.views()} <= views
    finally:
        con.close()


def _record(booking: dict, booking_id: str, ingested_at: datetime) -> dict:
    return {**booking, "booking_id": booking_id, "ingested_at": ingested_at}


def test_rows_stream_in_row_groups(tmp_path: Path, built) -> None:
    template = built.bookings[0]
    stamp = datetime(2025, 3, 1, 8, tzinfo=UTC)
    with LakeWriter(tmp_path, row_group_rows=1_000) as writer:
        writer.add_bookings(_record(template, f"id-{i}", stamp) for i in range(10_500))
        # At most one row group is held in memory per partition.
        assert max(len(p.rows) for p in writer._bookings.partitions.values()) < 1_000
    (part,) = (tmp_path / "lake" / "bookings").glob("*/*.parquet")
    metadata = pq.read_metadata(part)
    assert metadata.num_rows == 10_500
    assert metadata.num_row_groups == 11


def test_dedupe_makes_a_second_run_of_the_same_rows_add_nothing(tmp_path: Path, built) -> None:
    records = built.bookings[:300]
    rejected = built.rejected[:20]
    with LakeWriter(tmp_path, dedupe=True) as writer:
        assert writer.add_bookings(records) == 300
        assert writer.add_bookings(records[:50]) == 0  # within one run too
        writer.add_rejected(rejected)
    with LakeWriter(tmp_path, dedupe=True) as writer:
        assert writer.existing_booking_ids() == {r["booking_id"] for r in records}
        assert writer.add_bookings(records + built.bookings[300:310]) == 10
        assert writer.add_rejected(rejected) == 0
        assert writer.stats.skipped_bookings == 300
    con = open_catalog(build_catalog(tmp_path).parent)
    try:
        assert con.execute(
            "SELECT count(*), count(DISTINCT booking_id) FROM bookings"
        ).fetchone() == (
            310,
            310,
        )
        assert con.execute("SELECT count(*) FROM rejected_bookings").fetchone()[0] == len(rejected)
    finally:
        con.close()


def test_json_style_values_are_converted(tmp_path: Path, built) -> None:
    record = dict(built.bookings[0])
    record["ingested_at"] = "2025-04-02T10:00:00Z"
    record["departure_date"] = "2025-05-01"
    with LakeWriter(tmp_path) as writer:
        writer.add_bookings([record])
    table = pq.read_table(next((tmp_path / "lake" / "bookings").glob("*/*.parquet")))
    assert table.column("departure_date")[0].as_py() == date(2025, 5, 1)
    assert (tmp_path / "lake" / "bookings" / "ingest_date=2025-04-02").is_dir()


def test_a_lake_without_rejections_still_has_both_tables(tmp_path: Path, built) -> None:
    first = built.bookings[0]["source_file"]
    rows = [b for b in built.bookings if b["source_file"] == first][:10]
    with LakeWriter(tmp_path) as writer:
        writer.add_bookings(rows)
    con = open_catalog(build_catalog(tmp_path).parent)
    try:
        assert con.execute("SELECT count(*) FROM rejected_bookings").fetchone()[0] == 0
        # No audit row commits the file yet: what users query leaves its rows out.
        assert con.execute("SELECT * FROM data_quality_summary").fetchone()[0] == 0
    finally:
        con.close()
    with LakeWriter(tmp_path) as writer:
        writer.add_audit(
            [committed_file_record(first, valid=10, rejected=0, finished_at=datetime.now(UTC))]
        )
    con = open_catalog(build_catalog(tmp_path).parent)
    try:
        assert con.execute("SELECT count(*) FROM ingest_audit").fetchone()[0] == 1
        assert con.execute("SELECT * FROM data_quality_summary").fetchone()[0] == 10
    finally:
        con.close()


def test_resolve_lake_accepts_the_lake_dir_or_its_parent(tmp_path: Path, built) -> None:
    assert resolve_lake(built.root) == built.root
    assert resolve_lake(built.root / "lake") == built.root
    with pytest.raises(FileNotFoundError, match="no lake here"):
        resolve_lake(tmp_path / "missing")


@pytest.mark.slow
def test_the_lake_is_much_smaller_than_the_csv(tmp_path: Path) -> None:
    # Big enough for full row groups: small files are mostly Parquet footers.
    built = build_lake(tmp_path, rows_per_file=50_000, dirty=0.01)
    files = list((built.root / "lake").rglob("*.parquet"))
    lake_bytes = sum(p.stat().st_size for p in files)
    assert lake_bytes < 0.25 * built.csv_bytes, (lake_bytes, built.csv_bytes)
