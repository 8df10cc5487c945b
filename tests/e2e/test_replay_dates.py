"""`bookings run --replay-dates`: historical exports land in the partitions of the dates in their
names; files without a date (or dated in the future) are uploaded now."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest

from bookings.analytics.engine import open_catalog
from bookings.cli import main
from bookings.generator import generate_rows, write_csv
from bookings.offline.session import replayed_upload_time


def test_the_replayed_upload_time_is_the_named_date_at_the_current_time_of_day() -> None:
    now = datetime(2026, 5, 20, 14, 30, 5, tzinfo=UTC)
    assert replayed_upload_time("bookings_2025-03-01.csv", now) == datetime(
        2025, 3, 1, 14, 30, 5, tzinfo=UTC
    )
    assert replayed_upload_time("export_20240229.csv.gz", now) == datetime(
        2024, 2, 29, 14, 30, 5, tzinfo=UTC
    )
    assert replayed_upload_time("bookings_2026-05-20.csv", now) == now
    assert replayed_upload_time("bookings.csv", now) is None
    assert replayed_upload_time("bookings_2026-05-21.csv", now) is None  # not yet exported
    assert replayed_upload_time("bookings_2025-02-30.csv", now) is None  # no such day


def _partitions(directory: Path, stamp: str = "ingested_at") -> dict[str, int]:
    dataset = pads.dataset(directory, format="parquet", partitioning="hive")
    table = dataset.to_table(columns=["ingest_date", stamp])
    ingest_dates = [str(value) for value in table.column("ingest_date").to_pylist()]
    ingested_on = [value.date().isoformat() for value in table.column(stamp).to_pylist()]
    # The partition is the UTC date of the row's time stamp, row by row.
    assert ingest_dates == ingested_on
    counts: dict[str, int] = {}
    for day in ingest_dates:
        counts[day] = counts.get(day, 0) + 1
    return counts


@pytest.mark.slow
def test_replayed_files_are_partitioned_by_the_dates_in_their_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    march = data / "bookings_2025-03-01.csv"
    write_csv(march, generate_rows(300, 1), seed=1)
    april = data / "bookings_2025-04-15.csv"
    written = write_csv(
        april, generate_rows(200, 2), encoding="utf-8-sig", line_endings="lf", dirty=0.1, seed=2
    )
    assert written.faulty_rows > 0
    undated = data / "live_bookings.csv"
    write_csv(undated, generate_rows(100, 3), outcome=False, seed=3)
    out = tmp_path / "out"

    before = datetime.now(UTC).date()
    files = [str(march), str(april), str(undated)]
    code = main(["run", *files, "--out", str(out), "--replay-dates", "--json", "--quiet"])
    after = datetime.now(UTC).date()
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    by_name = {Path(item["file"]).name: item for item in report["files"]}
    assert [by_name[name]["status"] for name in by_name] == ["succeeded"] * 3
    assert by_name[march.name]["uploaded_at"].startswith("2025-03-01T")
    assert by_name[march.name]["replayed"] is True
    assert by_name[undated.name]["replayed"] is False

    bookings = _partitions(out / "lake" / "bookings")
    today = {before.isoformat(), after.isoformat()}
    undated_days = set(bookings) - {"2025-03-01", "2025-04-15"}
    assert undated_days
    assert undated_days <= today
    assert bookings["2025-03-01"] == by_name[march.name]["delivered"]
    assert bookings["2025-04-15"] == by_name[april.name]["delivered"]
    assert sum(bookings[day] for day in undated_days) == by_name[undated.name]["delivered"] == 100
    # Rejected rows are stamped with the replayed upload time too.
    rejected = _partitions(out / "lake" / "rejected_bookings", "rejected_at")
    assert rejected == {"2025-04-15": by_name[april.name]["rejected"]}

    # The catalog's monthly summary sees two ingest months of history besides the current one.
    con = open_catalog(out)
    try:
        months = con.execute(
            "SELECT month, bookings FROM monthly_summary ORDER BY month"
        ).fetchall()
    finally:
        con.close()
    history = {month: count for month, count in months if month < date(2025, 5, 1)}
    assert history == {
        date(2025, 3, 1): by_name[march.name]["delivered"] - _duplicates(out, march.name),
        date(2025, 4, 1): by_name[april.name]["delivered"] - _duplicates(out, april.name),
    }

    # Without the option the same dated file is uploaded now.
    plain = tmp_path / "plain"
    code = main(["run", str(march), "--out", str(plain), "--json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["files"][0]["replayed"] is False
    assert set(_partitions(plain / "lake" / "bookings")) <= {
        before.isoformat(),
        datetime.now(UTC).date().isoformat(),
    }


def _duplicates(out: Path, file_name: str) -> int:
    """Delivered rows of one file flagged as duplicates (the summaries leave them out)."""
    table = pads.dataset(out / "lake" / "bookings", format="parquet", partitioning="hive").to_table(
        columns=["source_file", "is_duplicate"]
    )
    of_file = pc.match_substring(table.column("source_file"), f"/{file_name}#")
    return int(pc.sum(pc.and_(of_file, table.column("is_duplicate"))).as_py() or 0)
