"""`bookings run` end to end, through the CLI, on generated files: the emulated stack, the real
state machine and handlers, the exported lake and its catalog."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest

from bookings.analytics.engine import open_catalog
from bookings.cli import main
from bookings.generator import generate_rows, write_csv

pytestmark = pytest.mark.slow


def generated(path: Path, rows: int, seed: int, **options: Any) -> Path:
    write_csv(path, generate_rows(rows, seed), seed=seed, **options)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["run", *args, "--json", "--quiet"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


def lake_rows(out: Path, table: str) -> int:
    directory = out / "lake" / table
    if not directory.is_dir():
        return 0
    return pads.dataset(directory, format="parquet", partitioning="hive").count_rows()


def lake_files(out: Path) -> list[str]:
    """The files of the bookings and rejected rows (the audit trail grows with every run)."""
    return sorted(
        str(p.relative_to(out))
        for p in (out / "lake").rglob("*.parquet")
        if "ingest_audit" not in p.parts
    )


def test_a_clean_file_is_delivered_whole_and_catalogued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "bookings_2024-05-17.csv", 3000, seed=11)
    out = tmp_path / "out"
    code, report = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    (item,) = report["files"]
    assert item["status"] == "succeeded"
    assert item["rows"] == item["valid"] == item["delivered"] == 3000
    assert item["rejected"] == 0
    assert report["lake"] == {"bookings": 3000, "rejected_bookings": 0}
    assert report["out"] == str(out)
    visited = [state["state"] for state in item["states"] if not state["child"]]
    assert visited[0] == "Validate"
    assert {"ProcessChunks", "FinalizeFile"} <= set(visited)
    # Every chunk ran Enrich, Score and Deliver in a child execution of the Distributed Map.
    children = {state["state"]: state["visits"] for state in item["states"] if state["child"]}
    chunks = -(-3000 // 5000)
    assert children == {"Enrich": chunks, "Score": chunks, "Deliver": chunks}
    assert all(state["seconds"] >= 0 for state in item["states"])
    # Partitioned as in AWS (Hive style, by ingest date) and readable through the catalog.
    partitions = {p.name for p in (out / "lake" / "bookings").iterdir()}
    assert partitions
    assert all(name.startswith("ingest_date=") for name in partitions)
    con = open_catalog(out)
    try:
        (count,) = con.execute("SELECT count(*) FROM bookings").fetchone()  # type: ignore[misc]
        (ids,) = con.execute("SELECT count(DISTINCT booking_id) FROM bookings").fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert count == ids == 3000


def test_a_dirty_file_rejects_its_faulty_rows_and_the_counts_reconcile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "reexport.csv"
    written = write_csv(
        source,
        generate_rows(2500, 12),
        encoding="utf-8-sig",
        line_endings="lf",
        dirty=0.08,
        seed=12,
    )
    out = tmp_path / "out"
    code, report = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    (item,) = report["files"]
    assert item["status"] == "succeeded"
    assert item["rows"] == item["valid"] + item["rejected"]
    assert 0 < item["rejected"] <= written.faulty_rows
    assert item["delivered"] == item["valid"]
    assert lake_rows(out, "bookings") == item["delivered"] == report["lake"]["bookings"]
    assert lake_rows(out, "rejected_bookings") == item["rejected"]
    assert report["lake"]["rejected_bookings"] == item["rejected"]


def test_an_unreadable_file_is_quarantined_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "export.csv"
    source.write_bytes(b"<html><body>502 Bad Gateway</body></html>\r\n")
    out = tmp_path / "out"
    code, report = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    (item,) = report["files"]
    assert item["status"] == "quarantined"
    assert item["delivered"] == 0
    assert "UnreadableFile" in item["error"]
    copies = [Path(p) for p in item["quarantined"]]
    assert {p.name for p in copies} == {"export.csv", "export.csv.error.json"}
    assert copies[0].parent.is_relative_to(out / "quarantine")
    error_report = json.loads(next(p for p in copies if p.suffix == ".json").read_text())
    assert error_report["error"] == "UnreadableFile"
    assert report["lake"] == {"bookings": 0, "rejected_bookings": 0}
    # Where users look: the data-quality KPIs read the file's audit row (quarantined_files).
    con = open_catalog(out)
    try:
        rows = con.execute(
            "SELECT file_name, status, reason, rows_read FROM data_quality_by_file"
        ).fetchall()
        (summary,) = con.execute("SELECT quarantined_files FROM data_quality_summary").fetchall()
    finally:
        con.close()
    assert len(rows) == 1
    file_name, status, reason, rows_read = rows[0]
    assert (file_name, status, rows_read) == ("export.csv", "quarantined", 0)
    assert "not a booking CSV" in reason
    assert "s3://" not in reason
    assert summary == (1,)


def test_the_same_file_again_is_a_duplicate_and_the_lake_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "bookings.csv", 1500, seed=13, dirty=0.05)
    out = tmp_path / "out"
    code, first = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    assert first["files"][0]["status"] == "succeeded"
    files_before = lake_files(out)
    code, second = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    (item,) = second["files"]
    assert item["status"] == "duplicate"
    assert item["delivered"] == 0
    assert [s["state"] for s in item["states"]][-1] == "Duplicate"
    assert second["lake"] == first["lake"]
    assert lake_files(out) == files_before
    # The duplicate execution is in the audit trail, naming the file it duplicates.
    audit = pads.dataset(out / "lake" / "ingest_audit", partitioning="hive").to_table()
    statuses = sorted(
        zip(audit["status"].to_pylist(), audit["duplicate_of"].to_pylist(), strict=True)
    )
    source_file = audit["source_file"][0].as_py()
    assert statuses == [("committed", None), ("duplicate", source_file)]
    # New files append to the same lake.
    other = generated(tmp_path / "more.csv", 700, seed=14)
    code, third = run_json(capsys, str(other), "--out", str(out))
    assert code == 0
    assert third["files"][0]["status"] == "succeeded"
    assert third["lake"]["bookings"] == first["lake"]["bookings"] + 700


def test_two_files_in_one_run_and_a_repeat_within_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = generated(tmp_path / "a.csv", 1200, seed=15)
    second = generated(tmp_path / "b.csv", 800, seed=16, dirty=0.05)
    out = tmp_path / "out"
    code, report = run_json(capsys, str(first), str(second), str(first), "--out", str(out))
    assert code == 0
    statuses = [item["status"] for item in report["files"]]
    assert statuses == ["succeeded", "succeeded", "duplicate"]
    delivered = sum(item["delivered"] for item in report["files"])
    rejected = sum(item["rejected"] for item in report["files"])
    assert report["lake"] == {"bookings": delivered, "rejected_bookings": rejected}
    assert lake_rows(out, "bookings") == delivered == 1200 + report["files"][1]["valid"]


def test_sql_on_the_offline_lake_equals_plain_python_over_the_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "bookings.csv", 4000, seed=17)
    out = tmp_path / "out"
    code, _ = run_json(capsys, str(source), "--out", str(out))
    assert code == 0

    bookings: Counter[tuple[str, str]] = Counter()
    completed: Counter[tuple[str, str]] = Counter()
    passengers: Counter[tuple[str, str]] = Counter()
    with source.open(encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            group = (row["sales_channel"], row["booking_origin"])
            bookings[group] += 1
            completed[group] += int(row["booking_complete"])
            passengers[group] += int(row["num_passengers"])
    expected = {group: (bookings[group], completed[group], passengers[group]) for group in bookings}

    capsys.readouterr()
    query = (
        "SELECT sales_channel, booking_origin, count(*) AS n, "
        "sum(booking_complete) AS completed, sum(num_passengers) AS passengers "
        "FROM bookings GROUP BY sales_channel, booking_origin"
    )
    assert main(["sql", query, "--lake", str(out), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    actual = {
        (r["sales_channel"], r["booking_origin"]): (r["n"], r["completed"], r["passengers"])
        for r in rows
    }
    assert actual == expected


def test_a_model_scores_every_delivered_booking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.ml_helpers import train_small_model

    _, written = train_small_model(tmp_path / "model", n=3000)
    live = generated(tmp_path / "live.csv", 900, seed=18, outcome=False)
    out = tmp_path / "out"
    code, report = run_json(capsys, str(live), "--out", str(out), "--model", str(written.archive))
    assert code == 0
    (item,) = report["files"]
    assert item["scored"] == item["delivered"] == 900
    assert report["model"] == written.model_version
    table = pads.dataset(out / "lake" / "bookings", partitioning="hive").to_table(
        columns=["booking_complete_probability", "model_version"]
    )
    probabilities = table.column("booking_complete_probability").to_pylist()
    assert all(p is not None and 0.0 <= p <= 1.0 for p in probabilities)
    assert set(table.column("model_version").to_pylist()) == {written.model_version}


def test_the_human_summary_names_status_counts_and_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "bookings.csv", 600, seed=19)
    out = tmp_path / "out"
    assert main(["run", str(source), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"{source}: succeeded  rows 600  valid 600  rejected 0  delivered 600" in text
    assert "states: Validate " in text
    assert "FinalizeFile" in text
    assert "lake: 600 bookings, 0 rejected rows" in text
    # The functions' logs are kept apart, not mixed into the summary.
    assert '"level"' not in text
    assert (out / "logs" / "functions.log").read_text().count('"file validated"') == 1


def test_a_missing_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"bookings: error: {tmp_path / 'nope.csv'}: no such file"
    assert not (tmp_path / "out").exists()


def test_rows_already_in_the_lake_are_not_stored_twice_when_the_ledger_was_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As after a run interrupted between its export and its ledger entry: the file runs again
    # (nothing says it completed) but every row it delivers is already in the lake.
    source = generated(tmp_path / "bookings.csv", 1000, seed=20, dirty=0.05)
    out = tmp_path / "out"
    code, first = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    (out / "ledger.json").unlink()
    code, second = run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    (item,) = second["files"]
    assert item["status"] == "succeeded"
    assert item["delivered"] == first["files"][0]["delivered"]
    assert item["exported_bookings"] == item["exported_rejected"] == 0
    assert second["lake"] == first["lake"]
