"""The functions' logs never hold a booking: counts, keys and reasons only.

A file whose every booking carries a marker no log message has any business printing (its
booking origin) runs through the offline stack at INFO, the template's level; rows with a fault
and a file that is quarantined go through too. The marker must not appear in the functions' log
(as CloudWatch would hold it), nor in the run's summary.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bookings.cli import main
from bookings.generator import generate_rows, write_csv

pytestmark = pytest.mark.slow

MARKER = "Marker-Origin-7f3a"


def with_marker(path: Path, rows: int, seed: int) -> Path:
    """Generated bookings whose origin is the marker; every tenth row also has a fault."""
    write_csv(path, generate_rows(rows, seed), seed=seed)
    plain = io.StringIO()
    lines = path.read_text(encoding="latin-1").splitlines()
    reader = csv.reader(lines)
    header = next(reader)
    origin = header.index("booking_origin")
    passengers = header.index("num_passengers")
    writer = csv.writer(plain, lineterminator="\r\n")
    writer.writerow(header)
    for number, cells in enumerate(reader, start=1):
        cells[origin] = MARKER
        if number % 10 == 0:
            cells[passengers] = "many"  # rejected: the row (and the marker) in rejected_bookings
        writer.writerow(cells)
    path.write_text(plain.getvalue(), encoding="latin-1")
    return path


def test_no_booking_reaches_the_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = with_marker(tmp_path / "bookings.csv", 200, seed=61)
    broken = tmp_path / "broken.csv"
    # Quarantined (columns missing), with a booking in it.
    broken.write_text(f"num_passengers,booking_origin\r\n2,{MARKER}\r\n", encoding="latin-1")
    out = tmp_path / "out"
    assert main(["run", str(good), str(broken), "--out", str(out), "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert f"{good}: succeeded  rows 200  valid 180  rejected 20" in summary
    log = (out / "logs" / "functions.log").read_text(encoding="utf-8")
    assert '"file validated"' in log
    assert '"file quarantined"' in log
    # What the functions logged, at every level: never a booking, nor a rejected row's text.
    assert MARKER not in log
    assert MARKER not in summary
    # The rows are where they belong: in the lake and in the rejected rows.
    capsys.readouterr()
    query = f"SELECT count(*) AS n FROM committed_bookings WHERE booking_origin = '{MARKER}'"
    assert main(["sql", query, "--lake", str(out), "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ['"n"', "180"]
