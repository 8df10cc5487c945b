"""The compaction job (the script Glue runs) on local Spark, against a generated offline lake
delivered the way Firehose and the workflow deliver: many small files, a file delivered twice,
rows of a file redelivered within its own partition, a file whose latest outcome is
quarantined, two versions of one key committed out of order, and bookings posted to the API.

What the job wrote is read back with pyarrow and compared with an independent computation in
plain Python (the commit rule and the summaries written out again here, not the job's code nor
the views' SQL).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest
from booking_core.audit import IngestAuditRow, padded_sequencer
from booking_core.enrichment import booking_id
from support.lake_builder import build_lake
from support.paths import ROOT

from bookings.lake import LakeWriter, committed_file_record

pytest.importorskip("pyspark", reason="the 'spark' extra is part of make setup")
pytestmark = pytest.mark.slow

from bookings.analytics.engine import connect, run_sql  # noqa: E402
from bookings.analytics.report import build_report, run_kpis, summary_views  # noqa: E402
from bookings.etl import compact_job  # noqa: E402
from bookings.etl.compact_job import DIMENSIONS, OVERALL, CountMismatch  # noqa: E402
from bookings.etl.local import (  # noqa: E402
    COMPACTED_TABLE,
    DAILY_SUMMARY_TABLE,
    MONTHLY_SUMMARY_TABLE,
    compact_lake,
    local_session,
    summaries_current,
)

ROWS_PER_SMALL_FILE = 40


@dataclass
class DeliveredLake:
    root: Path
    records: list[dict[str, Any]]
    audit: list[dict[str, Any]]


def _relabel(record: dict[str, Any], source_file: str, **changes: Any) -> dict[str, Any]:
    return {
        **record,
        "source_file": source_file,
        "booking_id": booking_id(source_file, record["row_number"]),
        **changes,
    }


def _write(root: Path, records: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
    """Every record in files of ``ROWS_PER_SMALL_FILE`` rows (one writer run each, as one
    Firehose flush each), then the audit rows."""
    for start in range(0, len(records), ROWS_PER_SMALL_FILE):
        with LakeWriter(root) as writer:
            writer.add_bookings(records[start : start + ROWS_PER_SMALL_FILE])
    with LakeWriter(root) as writer:
        writer.add_audit(audit)


def _audit_row(
    source_file: str, status: str, finished_at: datetime, **fields: Any
) -> dict[str, Any]:
    return IngestAuditRow(
        bucket="raw",
        object_key=fields.pop("object_key", source_file),
        etag="e",
        source_file=source_file,
        status=status,  # type: ignore[arg-type]
        execution=f"exec-{source_file}-{status}",
        finished_at=finished_at,
        **fields,
    ).model_dump()


def deliver(root: Path, scratch: Path) -> DeliveredLake:
    generated = build_lake(scratch, rows_per_file=400, seed=11)
    records = list(generated.bookings)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_file.setdefault(record["source_file"], []).append(record)
    files = list(by_file)
    audit = [
        committed_file_record(name, valid=len(rows), rejected=0, finished_at=rows[0]["ingested_at"])
        for name, rows in by_file.items()
    ]
    # The first 60 rows of the first file delivered again 40 days later (an upload repeated).
    later = [
        {**r, "ingested_at": r["ingested_at"] + timedelta(days=40)} for r in by_file[files[0]][:60]
    ]
    # 25 rows of the second file delivered twice at once (a Firehose retry).
    retried = [dict(r) for r in by_file[files[1]][:25]]
    # A file that delivered 80 rows, then failed: its latest outcome is quarantined.
    third = by_file[files[2]]
    broken = [_relabel(r, "incoming/broken.csv") for r in third[:80]]
    failed_at = third[0]["ingested_at"] + timedelta(minutes=5)
    audit += [
        _audit_row("incoming/broken.csv", "committed", failed_at),
        _audit_row("incoming/broken.csv", "quarantined", failed_at + timedelta(minutes=1)),
    ]
    # Two versions of one key, the newer one (greater sequencer) committed first.
    fourth = by_file[files[3]]
    older = [_relabel(r, "incoming/versions.csv#1") for r in fourth[:70]]
    newer = [_relabel(r, "incoming/versions.csv#2") for r in fourth[70:150]]
    committed_at = fourth[0]["ingested_at"] + timedelta(minutes=5)
    audit += [
        _audit_row(
            "incoming/versions.csv#2",
            "committed",
            committed_at,
            object_key="incoming/versions.csv",
            sequencer=padded_sequencer("B2"),
        ),
        _audit_row(
            "incoming/versions.csv#1",
            "committed",
            committed_at + timedelta(minutes=1),
            object_key="incoming/versions.csv",
            sequencer=padded_sequencer("A1"),
        ),
    ]
    # Bookings posted to the HTTP API: committed per request, no audit row.
    posted = [_relabel(r, "api#request-1") for r in by_file[files[4]][:30]]
    delivered = records + later + retried + broken + older + newer + posted
    _write(root, delivered, audit)
    return DeliveredLake(root=root, records=delivered, audit=audit)


# -- the independent computation ---------------------------------------------------------------


def visible_files(audit: list[dict[str, Any]]) -> set[str]:
    outcomes: dict[str, dict[str, Any]] = {}
    for row in audit:
        if row["status"] not in ("committed", "quarantined", "failed"):
            continue
        known = outcomes.get(row["source_file"])
        if known is None or row["finished_at"] > known["finished_at"]:
            outcomes[row["source_file"]] = row
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in outcomes.values():
        if row["status"] != "committed":
            continue
        key = (row["bucket"], row["object_key"])
        rank = (row["sequencer"] is not None, row["sequencer"] or "", row["finished_at"])
        best = newest.get(key)
        if best is None or rank > (
            best["sequencer"] is not None,
            best["sequencer"] or "",
            best["finished_at"],
        ):
            newest[key] = row
    return {row["source_file"] for row in newest.values()}


def day_of(record: dict[str, Any]) -> str:
    stamp: datetime = record["ingested_at"]
    return stamp.astimezone(UTC).date().isoformat()


def expected_rows(lake: DeliveredLake) -> list[dict[str, Any]]:
    visible = visible_files(lake.audit)
    first: dict[str, dict[str, Any]] = {}
    for record in sorted(
        (
            r
            for r in lake.records
            if r["source_file"] in visible or r["source_file"].startswith("api#")
        ),
        key=lambda r: (r["ingested_at"], r["source_file"], r["row_number"]),
    ):
        first.setdefault(record["booking_id"], record)
    return list(first.values())


def kept_by_day(rows: list[dict[str, Any]]) -> dict[str, Counter[tuple[Any, ...]]]:
    days: dict[str, Counter[tuple[Any, ...]]] = {}
    for row in rows:
        key = (row["booking_id"], row["source_file"], row["row_number"])
        days.setdefault(day_of(row), Counter())[key] += 1
    return days


def expected_summary(rows: list[dict[str, Any]], period: str) -> Counter[tuple[Any, ...]]:
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        if row.get("is_duplicate"):
            continue
        day = day_of(row)
        when = day if period == "day" else day[:7] + "-01"
        outcome = row.get("booking_complete")
        pairs = [(OVERALL, "all")] + [(name, row.get(name)) for name in DIMENSIONS]
        for dimension, value in pairs:
            key = (when, dimension, None if value is None else str(value))
            counts[(*key, "bookings")] += 1
            counts[(*key, "with_outcome")] += outcome is not None
            counts[(*key, "completed")] += outcome == 1
    return +counts


# -- reading what the job wrote ----------------------------------------------------------------


def table(root: Path, name: str) -> list[dict[str, Any]]:
    directory = root / "lake" / name
    if not directory.is_dir():
        return []
    dataset = pads.dataset(directory, format="parquet", partitioning="hive")
    return dataset.to_table().to_pylist()


def written_summary(root: Path, name: str, column: str) -> Counter[tuple[Any, ...]]:
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in table(root, name):
        key = (str(row[column]), row["dimension"], row["value"])
        for measure in ("bookings", "with_outcome", "completed"):
            counts[(*key, measure)] += row[measure]
    return +counts


def data_files(root: Path, name: str) -> list[Path]:
    return sorted((root / "lake" / name).glob("*=*/*.parquet"))


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file the job owns, with its size and modification time."""
    owned = [COMPACTED_TABLE, DAILY_SUMMARY_TABLE, MONTHLY_SUMMARY_TABLE, "_compaction"]
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for name in owned
        for path in (root / "lake" / name).rglob("*")
        if path.is_file()
    }


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = local_session(cores=2)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> DeliveredLake:
    base = tmp_path_factory.mktemp("compaction")
    return deliver(base / "lake", base / "generated")


@pytest.fixture(scope="module")
def compacted(delivered: DeliveredLake, spark: Any) -> tuple[DeliveredLake, Any]:
    before = data_files(delivered.root, "bookings")
    run = compact_lake(delivered.root, spark=spark, target_file_mib=128)
    return delivered, (run.result, before)


def copy_of(lake: DeliveredLake, tmp_path: Path) -> DeliveredLake:
    target = tmp_path / "lake"
    shutil.copytree(lake.root, target)
    return DeliveredLake(root=target, records=list(lake.records), audit=list(lake.audit))


# -- tests ------------------------------------------------------------------------------------


def test_each_committed_booking_is_kept_once(compacted: tuple[DeliveredLake, Any]) -> None:
    lake, _ = compacted
    expected = expected_rows(lake)
    written = table(lake.root, COMPACTED_TABLE)
    identity = ("booking_id", "source_file", "row_number")
    assert Counter(tuple(r[c] for c in identity) for r in written) == Counter(
        tuple(r[c] for c in identity) for r in expected
    )
    assert len({r["booking_id"] for r in written}) == len(written)
    # The quarantined file and the superseded version are out, the newer version is in.
    sources = {r["source_file"] for r in written}
    assert "incoming/broken.csv" not in sources
    assert "incoming/versions.csv#1" not in sources
    assert "incoming/versions.csv#2" in sources
    assert "api#request-1" in sources
    # Content, not only keys: every column of a kept row as delivered, partition by its date.
    by_id = {r["booking_id"]: r for r in expected}
    for row in written[:200]:
        source = by_id[row["booking_id"]]
        assert str(row["ingest_date"]) == day_of(source)
        for name in ("route", "booking_origin", "purchase_lead", "service_tier", "ingested_at"):
            assert row[name] == source[name], name


def test_counts_reconcile(compacted: tuple[DeliveredLake, Any]) -> None:
    lake, (result, _) = compacted
    hidden = {"incoming/broken.csv", "incoming/versions.csv#1"}
    uncommitted = sum(1 for r in lake.records if r["source_file"] in hidden)
    kept = len(expected_rows(lake))
    assert result.rows_in == len(lake.records)
    assert result.uncommitted == uncommitted == 80 + 70
    assert result.duplicates == 60 + 25
    assert result.rows_out == kept
    assert result.rows_in == result.rows_out + result.duplicates + result.uncommitted


def test_many_small_files_become_one_per_partition(compacted: tuple[DeliveredLake, Any]) -> None:
    lake, (result, before) = compacted
    after = data_files(lake.root, COMPACTED_TABLE)
    assert len(before) >= 40
    assert result.files_in == len(before)
    assert result.files_out == len(after)
    partitions_with_rows = {day_of(r) for r in expected_rows(lake)}
    # 128 MiB is far above a partition's size: one file for each partition that keeps rows.
    assert sorted(p.parent.name for p in after) == sorted(
        f"ingest_date={d}" for d in partitions_with_rows
    )


def test_summaries_equal_an_independent_computation(compacted: tuple[DeliveredLake, Any]) -> None:
    lake, _ = compacted
    rows = expected_rows(lake)
    daily = written_summary(lake.root, DAILY_SUMMARY_TABLE, "ingest_date")
    monthly = written_summary(lake.root, MONTHLY_SUMMARY_TABLE, "ingest_month")
    assert daily == expected_summary(rows, "day")
    assert monthly == expected_summary(rows, "month")
    # The live file (no outcome yet) counts in volumes, not in completion.
    assert any(k[3] == "bookings" and k[1] == OVERALL for k in daily)
    assert {k[1] for k in daily} == {OVERALL, *DIMENSIONS}


def test_a_second_run_changes_nothing(compacted: tuple[DeliveredLake, Any], spark: Any) -> None:
    lake, _ = compacted
    before = snapshot(lake.root)
    again = compact_lake(lake.root, spark=spark).result
    assert not again.changed
    assert again.unchanged_partitions == len(
        {p.parent.name for p in data_files(lake.root, "bookings")}
    )
    assert snapshot(lake.root) == before


def test_new_deliveries_rewrite_only_the_partitions_they_change(
    compacted: tuple[DeliveredLake, Any], spark: Any, tmp_path: Path
) -> None:
    lake = copy_of(compacted[0], tmp_path)
    before = snapshot(lake.root)
    kept_before = kept_by_day(expected_rows(lake))
    first_file = lake.records[0]["source_file"]
    # A new file on a new date, and a late outcome: the first file is quarantined after all.
    fresh = [
        _relabel(r, "incoming/late.csv", ingested_at=datetime(2025, 6, 2, 8, 0, tzinfo=UTC))
        for r in lake.records[:30]
    ]
    quarantined = _audit_row(first_file, "quarantined", datetime(2025, 6, 2, 9, 0, tzinfo=UTC))
    late = _audit_row("incoming/late.csv", "committed", datetime(2025, 6, 2, 8, 5, tzinfo=UTC))
    _write(lake.root, fresh, [quarantined, late])
    lake.records += fresh
    lake.audit += [quarantined, late]
    result = compact_lake(lake.root, spark=spark).result
    expected = expected_rows(lake)
    kept_after = kept_by_day(expected)
    # The first file's first partition loses its rows; the partition where the same rows were
    # delivered again kept none of them before (duplicates) and keeps none now (uncommitted).
    changed = {
        d for d in kept_before.keys() | kept_after.keys() if kept_before.get(d) != kept_after.get(d)
    }
    assert changed == {"2024-01-15", "2025-06-02"}
    assert set(result.partitions) == changed
    written = table(lake.root, COMPACTED_TABLE)
    assert sorted(r["booking_id"] for r in written) == sorted(r["booking_id"] for r in expected)
    assert first_file not in {r["source_file"] for r in written}
    daily = written_summary(lake.root, DAILY_SUMMARY_TABLE, "ingest_date")
    assert daily == expected_summary(expected, "day")
    assert written_summary(lake.root, MONTHLY_SUMMARY_TABLE, "ingest_month") == (
        expected_summary(expected, "month")
    )
    after = snapshot(lake.root)
    untouched = [
        name
        for name in before
        if name.startswith(f"lake/{COMPACTED_TABLE}/")
        and not any(day in name for day in result.partitions)
    ]
    assert untouched
    assert all(after.get(name) == before[name] for name in untouched)


def test_a_count_that_does_not_add_up_publishes_nothing(
    compacted: tuple[DeliveredLake, Any],
    spark: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake = copy_of(compacted[0], tmp_path)
    # A fresh lake (no earlier output) so that every partition is rewritten.
    for name in (COMPACTED_TABLE, DAILY_SUMMARY_TABLE, MONTHLY_SUMMARY_TABLE, "_compaction"):
        shutil.rmtree(lake.root / "lake" / name)
    real_write = compact_job.CompactionJob.write_compacted

    def losing_a_row(self: Any, kept: Any, counts: dict[str, int], target: str) -> None:
        """Fault injection: the writer loses one booking on its way to the staging prefix."""
        lost = kept.orderBy("booking_id").first()["booking_id"]
        real_write(self, kept.filter(kept.booking_id != lost), counts, target)

    monkeypatch.setattr(compact_job.CompactionJob, "write_compacted", losing_a_row)
    with pytest.raises(CountMismatch, match="do not reconcile"):
        compact_lake(lake.root, spark=spark)
    assert snapshot(lake.root) == {}
    assert not (lake.root / "lake" / "_compaction" / "staging").exists() or not any(
        (lake.root / "lake" / "_compaction" / "staging").iterdir()
    )


def test_the_glue_script_needs_only_pyspark_and_runs_on_python_3_11() -> None:
    path = Path(compact_job.__file__)
    assert path == ROOT / "src" / "bookings" / "etl" / "compact_job.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 11))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module.split(".")[0])
    assert top_level - set(sys.stdlib_module_names) == {"pyspark"}
    glue_imports = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("awsglue")
    }
    assert glue_imports == {"awsglue.context", "awsglue.job", "awsglue.utils"}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bookings", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    missing = _cli("compact", "--lake", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0
    assert "no lake here" in missing.stderr
    (tmp_path / "lake" / "lake" / "bookings").mkdir(parents=True)
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    no_java = _cli(
        "compact",
        "--lake",
        str(tmp_path / "lake"),
        env={"PATH": str(empty_path), "HOME": str(tmp_path)},
    )
    assert no_java.returncode == 2
    assert no_java.stderr.strip().count("\n") == 0
    assert "apt-get install openjdk-17-jre-headless" in no_java.stderr
    assert "Traceback" not in no_java.stderr


def test_cli_compacts_the_offline_lake(
    compacted: tuple[DeliveredLake, Any], tmp_path: Path
) -> None:
    lake = copy_of(compacted[0], tmp_path)
    done = _cli("compact", "--lake", str(lake.root))
    assert done.returncode == 0, done.stderr
    partitions = len({p.parent.name for p in data_files(lake.root, "bookings")})
    assert done.stdout.startswith(f"nothing to compact: {partitions} partition(s) unchanged")


def _rows(table: Any) -> list[tuple[Any, ...]]:
    return [
        tuple(round(v, 12) if isinstance(v, float) else v for v in row.values())
        for row in table.to_pylist()
    ]


def test_the_compacted_table_equals_the_committed_bookings_view(
    compacted: tuple[DeliveredLake, Any],
) -> None:
    """The job's commit rule and the views' (sql/views/committed_bookings.sql, on DuckDB over
    the delivered files) keep the same rows."""
    lake, _ = compacted
    con = connect(lake.root)
    try:
        statement = "SELECT booking_id, source_file, row_number FROM {} ORDER BY 1, 2, 3"
        view = run_sql(con, statement.format("committed_bookings")).to_pylist()
        table_rows = run_sql(con, statement.format(COMPACTED_TABLE)).to_pylist()
    finally:
        con.close()
    assert table_rows == view
    assert len(view) == len(expected_rows(lake))


def test_the_report_reads_the_switched_kpis_from_the_summaries(
    compacted: tuple[DeliveredLake, Any], tmp_path: Path
) -> None:
    lake, _ = compacted
    switched = summary_views(lake.root)
    assert set(switched) == {
        "monthly_summary",
        "completion_by_sales_channel",
        "completion_by_trip_type",
        "completion_by_service_tier",
        "completion_by_origin_region",
        "completion_by_booking_origin",
        "completion_by_route",
    }
    con = connect(lake.root)
    try:
        scanned = run_kpis(con)
        summarised = run_kpis(con, switched)
    finally:
        con.close()
    for kpi in switched:
        assert _rows(summarised[kpi]) == _rows(scanned[kpi]), kpi
        assert summarised[kpi].num_rows > 0
    report = build_report(lake.root, tmp_path / "report", dashboards=False)
    assert report.from_summaries == switched


def test_summaries_are_not_read_once_the_lake_moved_on(
    compacted: tuple[DeliveredLake, Any], tmp_path: Path
) -> None:
    lake = copy_of(compacted[0], tmp_path)
    assert summaries_current(lake.root)
    late = _audit_row("incoming/late.csv", "committed", datetime(2025, 6, 2, 8, 5, tzinfo=UTC))
    _write(lake.root, [], [late])
    assert not summaries_current(lake.root)
    assert summary_views(lake.root) == {}


def test_a_small_target_size_splits_partitions_into_several_files(
    compacted: tuple[DeliveredLake, Any], spark: Any, tmp_path: Path
) -> None:
    lake = copy_of(compacted[0], tmp_path)
    for name in (COMPACTED_TABLE, DAILY_SUMMARY_TABLE, MONTHLY_SUMMARY_TABLE, "_compaction"):
        shutil.rmtree(lake.root / "lake" / name)
    result = compact_lake(lake.root, spark=spark, target_file_mib=0.01).result
    files = data_files(lake.root, COMPACTED_TABLE)
    per_partition = Counter(path.parent.name for path in files)
    assert max(per_partition.values()) > 1
    assert result.files_out == len(files)
    written = table(lake.root, COMPACTED_TABLE)
    assert sorted(r["booking_id"] for r in written) == sorted(
        r["booking_id"] for r in expected_rows(lake)
    )
