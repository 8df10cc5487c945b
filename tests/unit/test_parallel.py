"""A large file shared between processes gives exactly what one process gives.

``bookings.fastpath.parallel.write_in_parallel`` is run with tiny blocks (so that small files
span many blocks and every worker gets several) and compared, byte for byte, with the single-process
path on files with every quirk: late non-ASCII bytes, rejected and normalised rows, blank lines,
duplicates across blocks, BOMs, other delimiters. Files that only the single-process path can
read (a quote, UTF-8 letters after CP1252 bytes) stop the workers, and the command still writes
the same outputs.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from booking_core import reader
from booking_core.pipeline import process_stream
from booking_core.schema import SOURCE_FIELDS, FileSummary
from support.badfiles import csv_text

from bookings.commands import validate
from bookings.fastpath import parallel
from bookings.fastpath.writer import write_jsonl
from bookings.generator import generate_rows, write_csv

INGESTED_AT = datetime(2026, 11, 30, 7, 15, 0, 250000, tzinfo=UTC)
BOOKING_DATE = date(2026, 11, 24)
GOOD = ["2", "Internet", "RoundTrip", "262", "19", "7", "Sat", "AKLDEL", "New Zealand"]
GOOD += ["1", "0", "0", "5.52", "0"]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 2048)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)


Outputs = tuple[bytes, bytes, FileSummary]


def one_process(path: Path, **options: Any) -> Outputs:
    with path.open("rb") as stream:
        run = process_stream(
            stream,
            source_file=str(path),
            booking_date=BOOKING_DATE,
            ingested_at=INGESTED_AT,
            **options,
        )
        enriched, rejected = io.BytesIO(), io.BytesIO()
        write_jsonl(run, enriched, rejected)
    return enriched.getvalue(), rejected.getvalue(), run.summary


def shared(path: Path, out: Path, workers: int = 2, **options: Any) -> Outputs | None:
    out.mkdir(exist_ok=True)
    enriched, rejected = out / "enriched.jsonl", out / "rejected.jsonl"
    result = parallel.write_in_parallel(
        path,
        enriched_path=enriched,
        rejected_path=rejected,
        booking_date=BOOKING_DATE,
        ingested_at=INGESTED_AT,
        workers=workers,
        **options,
    )
    if result is None:
        return None
    assert result.workers == workers
    return enriched.read_bytes(), rejected.read_bytes(), result.run.summary


def assert_same_as_one_process(
    path: Path, out: Path, workers: int = 2, **options: Any
) -> FileSummary:
    expected = one_process(path, **options)
    got = shared(path, out, workers, **options)
    assert got is not None, "the workers stopped"
    assert got[2] == expected[2]
    assert got[1] == expected[1]
    assert got[0] == expected[0]
    summary = got[2]
    assert summary.rows == summary.valid + summary.rejected
    assert got[0].count(b"\n") == summary.valid
    assert got[1].count(b"\n") == summary.rejected
    return summary


def generated(path: Path, rows: int, *, seed: int = 7, ascii_rows: int = 0, **options: Any) -> Path:
    """A generated file: ASCII origins in its first ``ascii_rows`` rows, some Latin-1 after."""
    records = list(generate_rows(rows, seed))
    for index, record in enumerate(records):
        if index < ascii_rows:
            if not record["booking_origin"].isascii():
                record["booking_origin"] = "Australia"
        elif index % 97 == 0:
            record["booking_origin"] = "Réunion"
    write_csv(path, records, seed=seed, **options)
    return path


@pytest.mark.parametrize("workers", [2, 3])
def test_a_latin1_file_read_as_utf8_first(
    tmp_path: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public file's case: ASCII for a while (the reader starts with UTF-8), then Latin-1."""
    monkeypatch.setattr(reader, "SAMPLE_BYTES", 4096)
    path = generated(tmp_path / "bookings.csv", 4000, ascii_rows=300)
    data = path.read_bytes()
    first_latin1 = min(index for index, byte in enumerate(data) if byte > 0x7F)
    assert 4096 < first_latin1 < len(data) // 2
    summary = assert_same_as_one_process(path, tmp_path / "out", workers)
    assert summary.encoding == "latin-1"
    assert summary.duplicates > 20


def test_every_block_reads_latin1_when_the_reader_knows_it_from_the_start(
    tmp_path: Path,
) -> None:
    path = generated(tmp_path / "bookings.csv", 3000)
    summary = assert_same_as_one_process(path, tmp_path / "out")
    assert summary.encoding == "latin-1"


def test_cp1252_bytes_after_the_turn_name_the_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "SAMPLE_BYTES", 1024)
    rows = [GOOD] * 200
    late = [*GOOD[:8], "Côte d’Ivoire", *GOOD[9:]]
    rows += [late] * 3 + [GOOD] * 200
    path = tmp_path / "cp1252.csv"
    path.write_bytes(csv_text(rows, list(SOURCE_FIELDS)).encode("cp1252"))
    summary = assert_same_as_one_process(path, tmp_path / "out")
    assert summary.encoding == "cp1252"


def test_a_dirty_file_rejects_and_normalises_the_same_rows(tmp_path: Path) -> None:
    path = generated(tmp_path / "dirty.csv", 4000, dirty=0.2)
    summary = assert_same_as_one_process(path, tmp_path / "out", workers=3)
    assert summary.rejected > 300
    assert summary.normalisations
    assert summary.reasons


def test_duplicates_across_blocks_and_workers_with_the_index_on_disk(tmp_path: Path) -> None:
    path = generated(tmp_path / "bookings.csv", 3000)
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join([*lines, *lines[1:1500]]))
    summary = assert_same_as_one_process(path, tmp_path / "out", duplicate_memory_keys=257)
    assert summary.duplicates > 1500


@pytest.mark.parametrize(
    ("encoding", "newline", "final"),
    [("utf-8-sig", "\r\n", False), ("utf-8", "\n", True), ("latin-1", "\r\n", True)],
)
def test_byte_order_marks_line_endings_and_final_line_breaks(
    tmp_path: Path, encoding: str, newline: str, final: bool
) -> None:
    origins = ["Réunion", "Myanmar (Burma)", "(not set)", "Malaysia", "New Zealand"]
    rows = [[*GOOD[:8], origins[index % 5], *GOOD[9:]] for index in range(600)]
    text = csv_text(rows, list(SOURCE_FIELDS), newline=newline, final_newline=final)
    path = tmp_path / "bookings.csv"
    path.write_bytes(("\n\n" + text).encode(encoding))  # blank lines before the header
    summary = assert_same_as_one_process(path, tmp_path / "out")
    assert summary.valid == 600
    assert summary.encoding == encoding


def test_live_bookings_with_spreadsheet_columns_and_semicolons(tmp_path: Path) -> None:
    fields = [name for name in SOURCE_FIELDS if name != "booking_complete"]
    rows = [[*GOOD[:13], "", ""] for _ in range(500)]
    rows += [[*GOOD[:13], "", "x"], [*GOOD[:13]], ["", "", ""], [*GOOD[:12], "9.5", ""]]
    path = tmp_path / "live.csv"
    path.write_bytes(csv_text(rows, [*fields, "", ""], delimiter=";").encode("latin-1"))
    summary = assert_same_as_one_process(path, tmp_path / "out")
    assert not summary.has_outcome
    assert summary.delimiter == ";"


def test_reordered_columns_are_read_by_the_csv_module_in_every_worker(tmp_path: Path) -> None:
    order = list(reversed(SOURCE_FIELDS))
    rows = [[GOOD[SOURCE_FIELDS.index(name)] for name in order] for _ in range(400)]
    path = tmp_path / "reordered.csv"
    path.write_bytes(csv_text(rows, order).encode("latin-1"))
    assert assert_same_as_one_process(path, tmp_path / "out").valid == 400


def test_carriage_returns_alone_end_lines_the_same(tmp_path: Path) -> None:
    rows = [GOOD] * 300 + [[*GOOD[:3], "x", *GOOD[4:]]]
    path = tmp_path / "mac.csv"
    path.write_bytes(csv_text(rows, list(SOURCE_FIELDS), newline="\r").encode("latin-1"))
    assert assert_same_as_one_process(path, tmp_path / "out").rejected == 1


def test_a_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(",".join(SOURCE_FIELDS).encode() + b"\r\n")
    assert assert_same_as_one_process(path, tmp_path / "out").rows == 0


def test_a_quote_stops_the_workers(tmp_path: Path) -> None:
    rows = [GOOD] * 400 + [[*GOOD[:8], "Korea, Republic of", *GOOD[9:]]] + [GOOD] * 50
    path = tmp_path / "quoted.csv"
    path.write_bytes(csv_text(rows, list(SOURCE_FIELDS)).encode("latin-1"))
    assert b'"Korea, Republic of"' in path.read_bytes()
    assert shared(path, tmp_path / "out") is None


def test_utf8_letters_after_cp1252_bytes_stop_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "SAMPLE_BYTES", 1024)
    text = csv_text([GOOD] * 100, list(SOURCE_FIELDS))
    late_latin1 = csv_text([[*GOOD[:8], "Réunion", *GOOD[9:]]] * 20, []).encode("latin-1")
    late_utf8 = csv_text([[*GOOD[:8], "Curaçao", *GOOD[9:]]] * 200, []).encode("utf-8")
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode() + b"\r\n" + late_latin1 + b"\r\n" + late_utf8)
    assert shared(path, tmp_path / "out") is None


@pytest.mark.parametrize(
    "encode",
    [gzip.compress, lambda data: codecs.BOM_UTF16_LE + data.decode().encode("utf-16-le")],
    ids=["gzip", "utf-16"],
)
def test_compressed_and_utf16_files_are_for_one_process(tmp_path: Path, encode: Any) -> None:
    path = tmp_path / "bookings.csv"
    path.write_bytes(encode(csv_text([GOOD] * 50, list(SOURCE_FIELDS)).encode()))
    assert shared(path, tmp_path / "out") is None


def test_a_worker_failure_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = generated(tmp_path / "bookings.csv", 1000)

    def broken(self: object, text: str) -> None:
        raise MemoryError("no more")

    monkeypatch.setattr(parallel.BlockEncoder, "encode", broken)
    with pytest.raises(RuntimeError, match="a worker failed: MemoryError: no more"):
        shared(path, tmp_path / "out")


def _validate(
    path: Path, out: Path, workers: int, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    args = argparse.Namespace(
        path=path, json=True, out=out, booking_date=BOOKING_DATE, workers=workers
    )
    assert validate.run(args) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    return summary


def _records(path: Path) -> list[dict[str, Any]]:
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for record in records:
        record.pop("ingested_at", None)
        record.pop("rejected_at", None)
    return records


@pytest.mark.parametrize("name", ["dirty.csv", "quoted.csv"])
def test_the_command_writes_the_same_files_with_any_number_of_workers(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated(tmp_path / name, 3000, dirty=0.1)
    if name == "quoted.csv":  # the workers stop: the command reads the file in one process
        text = path.read_bytes().replace(b",Malaysia,", b',"Malaysia",', 1)
        path.write_bytes(text)
    one = _validate(path, tmp_path / "one", 1, capsys)
    two = _validate(path, tmp_path / "two", 2, capsys)
    for summary in (one, two):
        del summary["outputs"]
    assert one == two
    for kind in ("enriched", "rejected"):
        stem = path.name.removesuffix(".csv")
        assert _records(tmp_path / "one" / f"{stem}.{kind}.jsonl") == _records(
            tmp_path / "two" / f"{stem}.{kind}.jsonl"
        )
    assert one["rows"] == one["valid"] + one["rejected"]
    assert one["rejected"] > 100


@pytest.mark.parametrize("header_break", ["\r\n", "\n"])
def test_line_breaks_and_cell_counts_of_every_kind(
    tmp_path: Path, header_break: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lone carriage returns, mixed line breaks and rows of the wrong width, in every block of
    a file whose first lines all end alike (the reader then expects CRLF, or LF, throughout)."""
    from test_enriched_json import GOOD_LINE, QUIRKY_LINES

    monkeypatch.setattr(reader, "SAMPLE_BYTES", 2048)
    breaks = ["\r\n", "\n", "\r\n", "\r"] if header_break == "\r\n" else ["\n", "\n", "\r\n"]
    lines = [GOOD_LINE + header_break] * 40
    lines += [
        QUIRKY_LINES[(index * 7) % len(QUIRKY_LINES)] + breaks[index % len(breaks)]
        for index in range(3000)
    ]
    path = tmp_path / "quirky.csv"
    path.write_bytes((",".join(SOURCE_FIELDS) + header_break + "".join(lines)).encode("latin-1"))
    summary = assert_same_as_one_process(path, tmp_path / "out", workers=3)
    assert summary.line_endings == ("crlf" if header_break == "\r\n" else "lf")
    assert summary.rejected > 500
    assert summary.valid > 500
