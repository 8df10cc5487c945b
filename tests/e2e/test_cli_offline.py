"""`bookings invoke`, `bookings watch` and `bookings demo` through the CLI, and the pieces they
stand on (the drop folder, the ledger, the progress display)."""

from __future__ import annotations

import io
import json
import os
import shlex
import threading
import time
import warnings
from pathlib import Path

import pyarrow.dataset as pads
import pytest
from support.paths import ROOT

from bookings.cli import main
from bookings.commands.watch import DropFolder
from bookings.generator import generate_rows, write_csv
from bookings.offline.ledger import Ledger, LedgerError, ledger_key
from bookings.progress import LineProgress, SilentProgress, create_progress

# -- fast pieces -----------------------------------------------------------------------------------


def test_the_drop_folder_waits_for_a_stable_size_and_skips_partial_files(tmp_path: Path) -> None:
    drop = DropFolder(tmp_path)
    growing = tmp_path / "bookings.csv"
    growing.write_text("num_passengers,")
    (tmp_path / "bookings2.csv.part").write_text("half a file")
    (tmp_path / ".hidden.csv").write_text("editor swap")
    assert drop.ready() == []  # first look: seen, not yet known to be stable
    with growing.open("a") as handle:
        handle.write("sales_channel\n")
    assert drop.ready() == []  # it grew since the last look
    assert drop.ready() == [growing]
    drop.mark_done(growing)
    assert drop.ready() == []
    assert drop.ready() == []


def test_the_ledger_survives_a_reload_and_refuses_a_broken_file(tmp_path: Path) -> None:
    ledger = Ledger.load(tmp_path)
    key = ledger_key("raw", "incoming/a.csv", '"abc"')
    assert key == "raw/incoming/a.csv#abc"
    ledger.record(key, {"status": "succeeded", "rows": 3})
    ledger.record("raw/incoming/b.csv#def", {"status": "quarantined"})
    again = Ledger.load(tmp_path)
    assert again.completed(key)
    assert not again.completed("raw/incoming/b.csv#def")
    assert again.get(key) == {"status": "succeeded", "rows": 3}
    (tmp_path / "ledger.json").write_text("{not json")
    with pytest.raises(LedgerError, match=r"ledger\.json"):
        Ledger.load(tmp_path)


def test_progress_is_silent_when_quiet_and_plain_lines_off_a_terminal() -> None:
    assert isinstance(create_progress(quiet=True, stream=io.StringIO()), SilentProgress)
    stream = io.StringIO()
    progress = create_progress(quiet=False, stream=stream)
    assert isinstance(progress, LineProgress)
    task = progress.start("a.csv")
    progress.update(task, stage="Validate")
    progress.update(task, stage="Enrich", completed=1, total=2, rows=10)
    progress.finish(task, "succeeded")
    (line,) = stream.getvalue().splitlines()  # one line per file, not one per stage
    assert line.startswith("[1] a.csv: succeeded (")


# -- invoke ----------------------------------------------------------------------------------------


def test_invoke_an_unknown_function_lists_the_valid_names_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["invoke", "NoSuchFunction", "--event", str(ROOT / "events" / "validate.json")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("bookings: error: unknown function 'NoSuchFunction'; valid: ")
    assert "ValidateFunction (validate)" in err[0]


def test_invoke_a_missing_event_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["invoke", "validate", "--event", str(tmp_path / "none.json")])
    assert code == 2
    assert (
        capsys.readouterr().err.strip().startswith(f"bookings: error: {tmp_path / 'none.json'}: ")
    )


@pytest.mark.parametrize(
    ("function", "event"),
    [
        ("CheckCrawlerFunction", "check_crawler.json"),
        ("StartCrawlerFunction", "start_crawler.json"),
    ],
)
def test_a_handler_always_has_a_metric_to_publish(
    function: str, event: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Powertools warns "No application metrics to publish" when a handler adds none: on the
    console offline, in the test warnings, and in CloudWatch Logs for every call in AWS."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["invoke", function, "--event", str(ROOT / "events" / event)])
    assert code == 0, capsys.readouterr().err
    assert not [w for w in caught if "No application metrics" in str(w.message)]
    assert "No application metrics" not in capsys.readouterr().err


@pytest.mark.slow
def test_invoke_validate_with_an_uploaded_object_prints_its_response_and_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bookings.csv"
    summary = write_csv(source, generate_rows(400, 21), dirty=0.05, seed=21)
    code = main(
        [
            "invoke",
            "validate",
            "--event",
            str(ROOT / "events" / "validate.json"),
            "--object",
            str(source),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    response = json.loads(captured.out)
    assert response["rows"] == summary.rows
    assert response["rows"] == response["valid"] + response["rejected"]
    assert response["chunk_count"] >= 1
    assert response["chunks_key"].endswith("/chunks.json")
    assert '"message":"file validated"' in captured.err


@pytest.mark.slow
def test_invoke_reports_a_handler_error_as_lambda_does(capsys: pytest.CaptureFixture[str]) -> None:
    # The sample event names a bucket of a deployed stack, which the emulated account lacks.
    code = main(["invoke", "ValidateFunction", "--event", str(ROOT / "events" / "validate.json")])
    assert code == 1
    response = json.loads(capsys.readouterr().out)
    assert response["errorType"] == "NoSuchBucket"


@pytest.mark.slow
def test_invoke_passes_environment_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = ROOT / "events" / "refresh_spice.json"
    assert main(["invoke", "refresh_spice", "--event", str(event)]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "disabled"
    code = main(
        ["invoke", "refresh_spice", "--event", str(event), "--env", "QUICKSIGHT_DATASET_IDS=ds-1"]
    )
    assert code == 0
    response = json.loads(capsys.readouterr().out)
    assert response["status"] == "refreshed"
    assert [item["dataset_id"] for item in response["started"]] == ["ds-1"]


# -- watch -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_watch_processes_a_file_dropped_while_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    out = tmp_path / "out"
    staged = tmp_path / "staged.csv"
    write_csv(staged, generate_rows(500, 22), seed=22)
    (drop / "upload.csv.part").write_text("a copy in progress")

    def land() -> None:
        time.sleep(2.0)
        os.replace(staged, drop / "bookings.csv")

    lander = threading.Thread(target=land)
    lander.start()
    try:
        code = main(
            [
                "watch",
                str(drop),
                "--out",
                str(out),
                "--interval",
                "0.3",
                "--max-files",
                "1",
                "--timeout",
                "120",
                "--quiet",
            ]
        )
    finally:
        lander.join()
    assert code == 0
    text = capsys.readouterr().out
    assert f"{drop / 'bookings.csv'}: succeeded  rows 500" in text
    assert "upload.csv.part" not in text
    assert "1 file(s) processed; lake: 500 bookings" in text
    dataset = pads.dataset(out / "lake" / "bookings", partitioning="hive")
    assert dataset.count_rows() == 500
    assert (out / "catalog.duckdb").is_file()


def test_watch_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["watch", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert (
        capsys.readouterr().err.strip() == f"bookings: error: {tmp_path / 'nope'}: not a directory"
    )


def test_a_run_writes_one_progress_line_per_file_and_json_keeps_stderr_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = []
    for index in range(2):
        path = tmp_path / f"bookings_2025-0{index + 1}-01.csv"
        write_csv(path, generate_rows(150, 40 + index), seed=40 + index)
        files.append(str(path))
    assert main(["run", *files, "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == [
        "[1/2] bookings_2025-01-01.csv",
        "[2/2] bookings_2025-02-01.csv",
    ]
    assert all("succeeded: 150 delivered" in line and "rows/s" in line for line in err)
    assert main(["run", *files, "--out", str(tmp_path / "again"), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert [f["status"] for f in json.loads(captured.out)["files"]] == ["succeeded", "succeeded"]


# -- demo ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_runs_everything_and_its_example_queries_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--rows", "4000", "--quiet"])
    text = capsys.readouterr().out
    assert code == 0
    assert "quarantined" in text
    assert (out / "model" / "model.tar.gz").is_file()
    assert (out / "catalog.duckdb").is_file()
    dashboards = [line.split()[-1] for line in text.splitlines() if "dashboard " in line]
    assert dashboards
    for uri in dashboards:
        assert Path(uri.removeprefix("file://")).is_file()
    commands = [
        line.strip() for line in text.splitlines() if line.strip().startswith("bookings sql")
    ]
    assert len(commands) == 3
    for command in commands:
        argv = shlex.split(command)[1:]
        assert main([*argv, "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows, command
    lake = pads.dataset(out / "lake" / "bookings", partitioning="hive")
    live = lake.to_table(
        columns=["booking_complete_probability"],
        filter=pads.field("booking_complete").is_null(),
    )
    assert live.num_rows == 5000
    assert live.column(0).null_count == 0


def test_seen_rows_admit_each_source_row_once() -> None:
    from bookings.offline.export import SeenRows

    seen = SeenRows()
    records = [
        {"source_file": "s3://raw/a.csv#1", "row_number": 1},
        {"source_file": "s3://raw/a.csv#1", "row_number": 70_000},
        {"source_file": "s3://raw/b.csv#2", "row_number": 1},
        {"source_file": "s3://raw/a.csv#1", "row_number": 1},
        {"source_file": "s3://raw/a.csv#1", "row_number": 70_000},
    ]
    admitted = list(seen.admit(records))
    assert admitted == records[:3]
    # Copies of rows this export took (a chunk delivered twice), not rows already stored.
    assert (seen.repeated, seen.skipped) == (2, 0)
    # A row an earlier run stored is skipped as such.
    seen.stored("s3://raw/c.csv#3", 5)
    assert list(seen.admit([{"source_file": "s3://raw/c.csv#3", "row_number": 5}])) == []
    assert (seen.repeated, seen.skipped) == (2, 1)
