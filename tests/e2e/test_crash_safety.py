"""A real ``bookings run`` killed or stopped at a chosen point, and other processes on the same
output folder meanwhile.

The run is a subprocess with ``BOOKINGS_FAULT_POINT`` set (``bookings.fault_points``: the
test-only hook that makes the session kill itself, or wait, at a named point of its writes).
Every case ends with the reconciliation: what users query holds each file's rows exactly once
(``support.faults.assert_exactly_once``) and ``bookings audit`` exits 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support.faults import assert_exactly_once, lake_content

from bookings.cli import main
from bookings.generator import generate_rows, write_csv

pytestmark = pytest.mark.slow

START_SECONDS = 120.0


def generated(path: Path, rows: int, seed: int, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, generate_rows(rows, seed), seed=seed, **options)
    return path


def bookings_process(
    *args: str, fault: str | None = None, action: str = "kill", tmp_path: Path | None = None
) -> tuple[subprocess.Popen[str], Path | None, Path | None]:
    """``python -m bookings ARGS`` in a subprocess, stopping at ``fault`` when given; returns
    it and the files it creates when it waits there (ready) and waits for (resume)."""
    environment = dict(os.environ)
    ready = resume = None
    if fault is not None:
        environment["BOOKINGS_FAULT_POINT"] = fault
        environment["BOOKINGS_FAULT_ACTION"] = action
        if action == "pause":
            assert tmp_path is not None
            ready, resume = tmp_path / f"{fault}.ready", tmp_path / f"{fault}.resume"
            environment["BOOKINGS_FAULT_READY"] = str(ready)
            environment["BOOKINGS_FAULT_RESUME"] = str(resume)
    process = subprocess.Popen(
        [sys.executable, "-m", "bookings", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, ready, resume


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {path.name}: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the run never reached {path.name}")
        time.sleep(0.1)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sigkill_during_export_leaves_nothing_a_reader_trips_on_and_a_rerun_counts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = generated(tmp_path / "in" / "first.csv", 300, seed=51, dirty=0.04)
    second = generated(tmp_path / "in" / "second.csv", 250, seed=52)
    out = tmp_path / "out"
    # The first file commits; the run dies with the second's export half written.
    assert run_cli(capsys, "run", str(first), "--out", str(out), "--quiet")[0] == 0
    process, _, _ = bookings_process(
        "run", str(second), "--out", str(out), "--quiet", fault="lake-file-open"
    )
    process.communicate(timeout=START_SECONDS)
    assert process.returncode == -signal.SIGKILL
    leftovers = [p for p in (out / ".staging").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".tmp") for p in leftovers)  # a Parquet file without its footer
    # Readers see the lake as it was: no partial file, no traceback.
    code, text, error = run_cli(
        capsys, "sql", "SELECT count(*) AS n FROM bookings", "--lake", str(out), "--format", "csv"
    )
    assert (code, error) == (0, "")
    assert text.split() == ['"n"', str(len(lake_content(out).raw["incoming/first.csv"]))]
    # The next run needs no cleanup by hand, and stores every row once.
    code, text, _ = run_cli(capsys, "run", str(first), str(second), "--out", str(out), "--quiet")
    assert code == 0
    assert "recovered from an interrupted run: 1 unfinished export(s) removed" in text
    assert f"{first}: duplicate" in text
    assert f"{second}: succeeded" in text
    assert not (out / ".staging").exists()
    assert_exactly_once(out, {"incoming/first.csv": first, "incoming/second.csv": second})
    assert run_cli(capsys, "audit", "--lake", str(out))[0] == 0


def test_sigkill_during_commit_is_rolled_forward_by_the_next_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 400, seed=53, dirty=0.05)
    out = tmp_path / "out"
    process, _, _ = bookings_process(
        "run", str(source), "--out", str(out), "--quiet", fault="commit-moving"
    )
    process.communicate(timeout=START_SECONDS)
    assert process.returncode == -signal.SIGKILL
    # Killed between two renames: the bookings are in the lake, the audit row that commits them
    # is not, so what users query does not show them yet.
    half = lake_content(out)
    assert len(half.raw["incoming/bookings.csv"]) > 0
    assert half.committed == {}
    assert (out / ".staging").is_dir()
    code, text, _ = run_cli(capsys, "run", str(source), "--out", str(out), "--quiet")
    assert code == 0
    assert "recovered from an interrupted run: 1 interrupted commit(s) finished" in text
    # The commit's ledger entry was written by the roll-forward: the file is done.
    assert f"{source}: duplicate" in text
    assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert run_cli(capsys, "audit", "--lake", str(out))[0] == 0


def test_sigterm_during_export_then_a_rerun_counts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 300, seed=54)
    out = tmp_path / "out"
    process, ready, _ = bookings_process(
        "run",
        str(source),
        "--out",
        str(out),
        "--quiet",
        fault="lake-file-open",
        action="pause",
        tmp_path=tmp_path,
    )
    assert ready is not None
    wait_for(ready, process)
    process.send_signal(signal.SIGTERM)  # what timeout(1), CI runners and systemd send
    process.communicate(timeout=START_SECONDS)
    assert process.returncode == -signal.SIGTERM
    code, text, _ = run_cli(capsys, "run", str(source), "--out", str(out), "--quiet")
    assert code == 0
    assert "1 unfinished export(s) removed" in text
    assert f"{source}: succeeded" in text
    assert_exactly_once(out, {"incoming/bookings.csv": source})


def test_readers_and_a_second_writer_while_a_run_commits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = generated(tmp_path / "in" / "before.csv", 200, seed=55)
    during = generated(tmp_path / "in" / "during.csv", 300, seed=56, dirty=0.05)
    waiting = generated(tmp_path / "in" / "waiting.csv", 150, seed=57)
    out = tmp_path / "out"
    assert run_cli(capsys, "run", str(before), "--out", str(out), "--quiet")[0] == 0
    writer, ready, resume = bookings_process(
        "run",
        str(during),
        "--out",
        str(out),
        "--quiet",
        fault="commit-moving",
        action="pause",
        tmp_path=tmp_path,
    )
    assert ready is not None
    assert resume is not None
    try:
        wait_for(ready, writer)
        # Readers: the half-moved file is not shown by what users query; no traceback.
        code, text, error = run_cli(
            capsys,
            "sql",
            "SELECT count(*) AS n FROM committed_bookings",
            "--lake",
            str(out),
            "--format",
            "csv",
        )
        assert (code, error) == (0, "")
        assert text.split() == ['"n"', "200"]
        code, _, error = run_cli(
            capsys, "report", "--lake", str(out), "--out", str(tmp_path / "r"), "--no-dashboards"
        )
        assert (code, error) == (0, "")
        # A second writer on the same folder fails at once, in one line naming the holder.
        started = time.monotonic()
        code, _, error = run_cli(capsys, "run", str(waiting), "--out", str(out), "--quiet")
        assert code == 2
        assert time.monotonic() - started < 30
        assert error.strip() == (
            f"error: {out}: another bookings process (pid {writer.pid}) is writing to this "
            "folder; wait for it to end, or pass --wait"
        )
        # With --wait it waits for the writer, then runs.
        patient, _, _ = bookings_process(
            "run", str(waiting), "--out", str(out), "--quiet", "--wait"
        )
        time.sleep(1.0)
        assert patient.poll() is None
        resume.write_text("go")
        writer_out, writer_err = writer.communicate(timeout=START_SECONDS)
        patient_out, patient_err = patient.communicate(timeout=START_SECONDS)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, writer_err
    assert patient.returncode == 0, patient_err
    assert f"{during}: succeeded" in writer_out
    assert f"{waiting}: succeeded" in patient_out
    assert_exactly_once(
        out,
        {
            "incoming/before.csv": before,
            "incoming/during.csv": during,
            "incoming/waiting.csv": waiting,
        },
    )
    assert run_cli(capsys, "audit", "--lake", str(out))[0] == 0


def test_sigkill_while_the_catalog_is_rebuilt_keeps_the_previous_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    first = generated(tmp_path / "in" / "first.csv", 150, seed=58)
    second = generated(tmp_path / "in" / "second.csv", 120, seed=59)
    out = tmp_path / "out"
    assert run_cli(capsys, "run", str(first), "--out", str(out), "--quiet")[0] == 0
    process, _, _ = bookings_process(
        "run", str(second), "--out", str(out), "--quiet", fault="catalog"
    )
    process.communicate(timeout=START_SECONDS)
    assert process.returncode == -signal.SIGKILL
    # The file was committed before the catalog's rebuild; the old catalog is whole and opens.
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    try:
        (count,) = con.execute("SELECT count(*) FROM committed_bookings").fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert count == 270  # its views read the lake's files as they are now
    code, text, _ = run_cli(capsys, "run", str(second), "--out", str(out), "--quiet")
    assert code == 0
    assert "1 partial file(s) removed" in text
    assert f"{second}: duplicate" in text
    assert not list(out.glob(".*.tmp"))
    assert_exactly_once(out, {"incoming/first.csv": first, "incoming/second.csv": second})
