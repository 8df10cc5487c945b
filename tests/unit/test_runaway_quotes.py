"""A stray double quote costs its own line, never the lines after it.

A quote at the start of a field opens a quoted field; when the lines it would swallow read as
records of their own (or the file ends inside it), the reader rejects the line that opened it
(``row:unterminated_quote``) and reads on from the next line. Legitimate quoted fields, with
delimiters or line breaks, stay one field. Every case is checked on the row path (the
Lambdas') and on the CLI's block path, which must write the same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from booking_core import reader
from booking_core.pipeline import RejectedRecord, ValidRow, validate_stream
from booking_core.reader import UNTERMINATED_QUOTE, ends_in_quotes
from booking_core.schema import FileSummary
from hypothesis import given, settings
from hypothesis import strategies as st
from support.badfiles import GOOD_ROWS, HEADER
from support.two_paths import assert_same, outputs

from bookings.commands import validate
from bookings.fastpath import parallel
from bookings.generator import generate_rows, write_csv

BREAKS = {"crlf": "\r\n", "lf": "\n"}


def read(data: bytes) -> tuple[list[ValidRow | RejectedRecord], FileSummary]:
    run = validate_stream(io.BytesIO(data), source_file="quotes.csv")
    outcomes = list(run)
    return outcomes, run.summary


def assert_both_paths_agree(data: bytes) -> FileSummary:
    expected, got = outputs(data, source_file="quotes.csv", booking_date=date(2026, 11, 24))
    assert_same(expected, got)
    return got[2]


def generated_lines(tmp_path: Path, rows: int, line_endings: str) -> tuple[list[str], str]:
    """The lines of a generated Latin-1 file (header first), and its line break."""
    path = tmp_path / f"bookings_{line_endings}.csv"
    records = list(generate_rows(rows, seed=20))
    for record in records[::97]:
        record["booking_origin"] = "Réunion"  # Latin-1 bytes throughout
    write_csv(path, records, seed=20, line_endings=line_endings)
    text = path.read_bytes().decode("latin-1")
    newline = BREAKS[line_endings]
    return text.split(newline), newline


def by_row(outcomes: list[ValidRow | RejectedRecord]) -> dict[int, ValidRow | RejectedRecord]:
    return {outcome.row_number: outcome for outcome in outcomes}


def assert_only_rows_rejected(
    clean: bytes, faulty: bytes, rejected_lines: dict[int, str]
) -> FileSummary:
    """``faulty`` reads as ``clean`` but for the rows in ``rejected_lines`` (row number -> its
    line), each rejected alone for its unterminated quote with its own text."""
    clean_outcomes, clean_summary = read(clean)
    outcomes, summary = read(faulty)
    assert clean_summary.rejected == 0
    assert summary.rows == clean_summary.rows
    assert summary.valid == clean_summary.rows - len(rejected_lines)
    assert summary.rejected == len(rejected_lines)
    assert summary.reasons == {UNTERMINATED_QUOTE: len(rejected_lines)}
    expected = by_row(clean_outcomes)
    for number, outcome in by_row(outcomes).items():
        if number in rejected_lines:
            assert isinstance(outcome, RejectedRecord)
            assert outcome.reasons == [UNTERMINATED_QUOTE]
            assert outcome.raw == rejected_lines[number]
            assert outcome.message.startswith(f"quotes.csv: row {number}: a double quote opens")
        else:
            assert isinstance(outcome, ValidRow)
            assert outcome.values == expected[number].values  # type: ignore[union-attr]
    assert_both_paths_agree(faulty)
    return summary


@pytest.mark.parametrize("line_endings", ["crlf", "lf"])
def test_a_stray_quote_at_the_start_of_row_20_of_5000_costs_one_row(
    tmp_path: Path, line_endings: str
) -> None:
    lines, newline = generated_lines(tmp_path, 5000, line_endings)
    clean = newline.join(lines).encode("latin-1")
    lines[20] = '"' + lines[20]
    faulty = newline.join(lines).encode("latin-1")
    summary = assert_only_rows_rejected(clean, faulty, {20: lines[20]})
    assert (summary.rows, summary.valid, summary.rejected) == (5000, 4999, 1)
    assert summary.encoding == "latin-1"
    assert summary.line_endings == line_endings


@pytest.mark.parametrize("chunk_bytes", [97, 1 << 16])
@pytest.mark.parametrize("line_endings", ["crlf", "lf"])
def test_several_stray_quotes_anywhere_in_a_field_and_the_last_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, line_endings: str
) -> None:
    """Quotes opening the first field, a middle one and the last one, on consecutive rows, and
    on the last row; small chunks put the quoted fields across chunk boundaries."""
    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(reader, "SAMPLE_BYTES", chunk_bytes)
    lines, newline = generated_lines(tmp_path, 300, line_endings)
    clean = newline.join(lines).encode("latin-1")

    def quote_field(line: str, field: int) -> str:
        cells = line.split(",")
        cells[field] = '"' + cells[field]
        return ",".join(cells)

    for row, field in ((3, 0), (4, 0), (5, 8), (120, 13), (121, 1), (300, 0)):
        lines[row] = quote_field(lines[row], field)
    faulty = newline.join(lines).encode("latin-1")
    rejected = {row: lines[row] for row in (3, 4, 5, 120, 121, 300)}
    assert_only_rows_rejected(clean, faulty, rejected)
    # The same with a final line break.
    assert_only_rows_rejected(clean + newline.encode(), faulty + newline.encode(), rejected)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_quotes_inside_a_field_are_characters_and_cost_nothing_else(newline: str) -> None:
    rows = [list(row) for row in GOOD_ROWS]
    rows[1][8] = 'New Zea"land'
    rows[2][2] = 'Round"Trip"'
    text = newline.join(",".join(row) for row in [HEADER, *rows])
    outcomes, summary = read(text.encode("latin-1"))
    assert summary.rows == len(GOOD_ROWS)
    assert UNTERMINATED_QUOTE not in summary.reasons
    assert isinstance(outcomes[2], RejectedRecord)
    assert outcomes[2].reasons == ["trip_type:not_allowed"]
    assert outcomes[2].raw == ",".join(rows[2]).replace('"', '""').replace(
        'Round""Trip""', '"Round""Trip"""'
    )
    for number in (1, 4, 5):
        outcome = outcomes[number - 1]
        assert isinstance(outcome, ValidRow)
        assert outcome.values["booking_origin"] == GOOD_ROWS[number - 1][8]
    assert_both_paths_agree(text.encode("latin-1"))


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_legitimate_quoted_fields_with_delimiters_and_line_breaks_stay_one_field(
    newline: str, final_newline: bool
) -> None:
    quoted = [
        ("Korea, Republic of", "Korea, Republic of"),
        ("New\r\nZealand", "New\r\nZealand"),
        # A field over three lines, holding delimiters and an escaped quote.
        ('Côte d""Ivoire,\nWest\nAfrica', 'Côte d"Ivoire,\nWest\nAfrica'),
        ("Réunion", "Réunion"),
    ]
    lines = [",".join(HEADER)]
    for index, (written, _) in enumerate(quoted):
        row = list(GOOD_ROWS[index])
        row[8] = f'"{written}"'
        lines.append(",".join(row))
    text = newline.join(lines) + (newline if final_newline else "")
    outcomes, summary = read(text.encode("latin-1"))
    assert summary.rows == len(quoted)
    assert UNTERMINATED_QUOTE not in summary.reasons
    for index, (outcome, (_, value)) in enumerate(zip(outcomes, quoted, strict=True)):
        assert isinstance(outcome, ValidRow)
        assert outcome.values["booking_origin"] == value
        assert outcome.values["route"] == GOOD_ROWS[index][7]
        assert outcome.values["booking_complete"] == int(GOOD_ROWS[index][13])
    assert_both_paths_agree(text.encode("latin-1"))


def test_a_quoted_field_the_file_ends_inside_is_cut_back_and_the_rest_read_alone() -> None:
    row = list(GOOD_ROWS[0])
    row[8] = '"New'
    continuation = "Zealand," + ",".join(GOOD_ROWS[0][9:])  # 6 fields: not a record
    text = "\r\n".join([",".join(HEADER), ",".join(GOOD_ROWS[1]), ",".join(row), continuation])
    outcomes, summary = read(text.encode("latin-1"))
    assert summary.rows == 3
    assert [o.row_number for o in outcomes] == [1, 2, 3]
    assert isinstance(outcomes[0], ValidRow)
    assert isinstance(outcomes[1], RejectedRecord)
    assert outcomes[1].reasons == [UNTERMINATED_QUOTE]
    assert outcomes[1].raw == ",".join(row)
    assert "the file ends inside it" in outcomes[1].message
    assert isinstance(outcomes[2], RejectedRecord)
    assert outcomes[2].reasons == ["row:field_count"]
    assert outcomes[2].raw == continuation
    assert_both_paths_agree(text.encode("latin-1"))


def test_a_runaway_over_lines_that_are_not_records_stops_at_the_field_size_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader, "FIELD_SIZE_LIMIT", 200)
    short_lines = ["a,b,c"] * 30  # none of them a record of the header's 14 fields
    text = "\r\n".join(
        [",".join(HEADER), '"' + ",".join(GOOD_ROWS[0]), *short_lines, ",".join(GOOD_ROWS[1])]
    )
    outcomes, summary = read(text.encode())
    assert summary.rows == 32
    assert outcomes[0].reasons == [UNTERMINATED_QUOTE]  # type: ignore[union-attr]
    assert "more than" in outcomes[0].message  # type: ignore[union-attr]
    assert all(o.reasons == ["row:field_count"] for o in outcomes[1:31])  # type: ignore[union-attr]
    assert [o.raw for o in outcomes[1:31]] == short_lines  # type: ignore[union-attr]
    assert isinstance(outcomes[31], ValidRow)
    assert_both_paths_agree(text.encode())


def _command(path: Path, out: Path, workers: int, capsys: pytest.CaptureFixture[str]) -> Any:
    args = argparse.Namespace(
        path=path, json=True, out=out, booking_date=date(2026, 11, 24), workers=workers
    )
    assert validate.run(args) == 0
    return json.loads(capsys.readouterr().out)


def test_the_command_with_workers_gives_the_row_paths_outcomes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shared-out path stops at the quote; the command's outputs are the row path's."""
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 2048)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    lines, newline = generated_lines(tmp_path, 3000, "crlf")
    lines[2000] = '"' + lines[2000]
    path = tmp_path / "stray.csv"
    path.write_bytes(newline.join(lines).encode("latin-1"))
    summary = _command(path, tmp_path / "out", 2, capsys)
    assert (summary["rows"], summary["valid"], summary["rejected"]) == (3000, 2999, 1)
    rejected = [orjson.loads(line) for line in (tmp_path / "out/stray.rejected.jsonl").open("rb")]
    assert [(r["row_number"], r["reason"], r["raw"]) for r in rejected] == [
        (2000, UNTERMINATED_QUOTE, lines[2000])
    ]
    enriched = (tmp_path / "out/stray.enriched.jsonl").read_bytes().splitlines()
    row_numbers = [orjson.loads(line)["row_number"] for line in enriched]
    assert row_numbers == [n for n in range(1, 3001) if n != 2000]


def test_ends_in_quotes_follows_the_csv_modules_rules() -> None:
    assert not ends_in_quotes("a,b,c\r\n", ",", in_quotes=False)
    assert ends_in_quotes('a,"b,c\r\n', ",", in_quotes=False)
    assert not ends_in_quotes('a,b"c,d\r\n', ",", in_quotes=False)  # a quote inside a field
    assert not ends_in_quotes('a,"b""c",d\n', ",", in_quotes=False)
    assert ends_in_quotes('a,"b""c\n', ",", in_quotes=False)
    assert not ends_in_quotes('a,"b"c,"d"\n', ",", in_quotes=False)  # closed, then plain
    assert not ends_in_quotes('"a"x"y,b\n', ",", in_quotes=False)  # quotes in a plain field
    assert ends_in_quotes('"a";"b\n', ";", in_quotes=False)
    assert not ends_in_quotes('land",1,0\r\n', ",", in_quotes=True)
    assert ends_in_quotes("land,1,0\r\n", ",", in_quotes=True)
    assert ends_in_quotes('x"",1\n', ",", in_quotes=True)
    assert not ends_in_quotes('x""",1\n', ",", in_quotes=True)


QUOTE_TEXT = st.text(alphabet=st.sampled_from(list('ab,;"\t ')), max_size=30)


@settings(max_examples=500, deadline=None)
@given(text=QUOTE_TEXT, delimiter=st.sampled_from([",", ";", "\t"]), newline=st.booleans())
def test_ends_in_quotes_agrees_with_the_csv_module(
    text: str, delimiter: str, newline: bool
) -> None:
    """The csv module reads a line that ends inside quotes together with the next one."""
    import csv

    line = text + ("\n" if newline else "")
    follow = "z\n"
    records = list(csv.reader([line, follow], delimiter=delimiter))
    assert ends_in_quotes(line, delimiter, in_quotes=False) == (
        len(records) == 1 and records[0][-1].endswith("z\n")
    )
