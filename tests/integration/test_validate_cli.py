"""``bookings validate`` through the installed command: exit codes, one-line errors, JSON shape."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.badfiles import GOOD_ROWS, BadFile, corpus, csv_text

BOOKINGS = str(Path(sys.executable).parent / "bookings")
SUMMARY_KEYS = {
    "file",
    "encoding",
    "rows",
    "valid",
    "rejected",
    "duplicates",
    "reasons",
    "compression",
    "line_endings",
    "delimiter",
    "normalisations",
    "unknown_columns",
    "ignored_columns",
    "has_outcome",
    "booking_date",
}


def _validate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BOOKINGS, "validate", *map(str, args)], capture_output=True, text=True, check=False
    )


def test_a_readable_file_with_rejected_rows_exits_0_with_one_json_object(tmp_path: Path) -> None:
    path = tmp_path / "bookings_2026-11-24.csv"
    rows = [*GOOD_ROWS, ["12", *GOOD_ROWS[0][1:]], GOOD_ROWS[0]]
    path.write_bytes(csv_text(rows).encode("latin-1"))
    result = _validate(path, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert result.stdout.count("\n") == 1
    assert summary.keys() >= SUMMARY_KEYS
    assert (summary["rows"], summary["valid"], summary["rejected"], summary["duplicates"]) == (
        7,
        6,
        1,
        1,
    )
    assert summary["reasons"] == {"num_passengers:out_of_range": 1}
    assert summary["encoding"] == "latin-1"
    assert summary["booking_date"] == "2026-11-24"


def test_out_writes_enriched_rejected_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "day.csv.gz"
    rows = [*GOOD_ROWS, ["1", "Web", *GOOD_ROWS[0][2:]]]
    path.write_bytes(gzip.compress(csv_text(rows).encode("latin-1")))
    out = tmp_path / "out"
    result = _validate(path, "--out", out, "--booking-date", "2026-01-31")
    assert result.returncode == 0, result.stderr
    assert "6 rows, 5 valid, 1 rejected" in result.stdout
    enriched = [json.loads(line) for line in (out / "day.enriched.jsonl").read_text().splitlines()]
    rejected = [json.loads(line) for line in (out / "day.rejected.jsonl").read_text().splitlines()]
    summary = json.loads((out / "day.summary.json").read_text())
    assert len(enriched) == 5
    assert len(rejected) == 1
    assert enriched[0]["departure_date"] == "2026-10-20"  # 262 days after the booking date
    assert rejected[0]["reasons"] == ["sales_channel:not_allowed"]
    assert summary["rows"] == summary["valid"] + summary["rejected"] == 6
    assert summary["compression"] == "gzip"


@pytest.mark.parametrize(
    "bad", [b for b in corpus() if b.error is not None][:6], ids=lambda b: b.name
)
def test_unreadable_files_exit_2_with_one_line(tmp_path: Path, bad: BadFile) -> None:
    path = tmp_path / bad.name
    path.write_bytes(bad.data)
    result = _validate(path, "--json")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert str(path) in result.stderr
    assert bad.error in result.stderr
    assert "Traceback" not in result.stderr
    reported = json.loads(result.stdout)
    assert set(reported) == {"file", "error"}
    assert reported["file"] == str(path)
    assert bad.error in reported["error"]


def test_missing_paths_and_directories_exit_2(tmp_path: Path) -> None:
    for path, problem in (
        (tmp_path / "nope.csv", "no such file"),
        (tmp_path, "is a directory, not a file"),
    ):
        result = _validate(path)
        assert result.returncode == 2
        assert result.stderr.strip() == f"bookings: error: {path}: {problem}"
        assert result.stdout == ""


def test_random_bytes_never_print_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(5000)))
    result = _validate(path, "--json")
    assert result.returncode in (0, 2)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 1
    json.loads(result.stdout)
