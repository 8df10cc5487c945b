"""The fast JSON Lines path writes, byte for byte, what serialising ``enrich_row`` writes.

``bookings.fastpath.writer.write_jsonl`` assembles records from cached fragments; the reference
is iterating the same run and writing ``dumps_line`` of each outcome (``enrich_row`` for valid
rows). Every test runs both on the same bytes and compares the outputs, the parsed records and
the summaries.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from booking_core import reader
from booking_core.jsonl import BackgroundWriter
from booking_core.schema import SOURCE_FIELDS, EnrichedBooking
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.badfiles import BadFile, corpus
from support.two_paths import assert_same, outputs

from bookings.fastpath import blocks, enriched_json
from bookings.generator import generate_rows, write_csv

# Cells of every kind the fast path must treat like the reference: valid as written, valid
# after a normalisation, invalid, and texts that JSON must escape.
CELL_CHOICES: dict[str, list[str]] = {
    "num_passengers": ["1", "2", "9", "02", "2.0", " 3", "0", "x", ""],
    "sales_channel": ["Internet", "Mobile", "internet", " Mobile ", "Fax"],
    "trip_type": ["RoundTrip", "OneWay", "CircleTrip", "one way", "ONEWAY", "Return"],
    "purchase_lead": ["0", "7", "8", "365", "366", "867", "1095", "1096", "-1", "12.0"],
    "length_of_stay": ["0", "1", "3", "31", "778", "1095", "abc"],
    "flight_hour": ["0", "5", "6", "23", "24", " 7"],
    "flight_day": ["Mon", "Sat", "Sun", "sunday", "MON", "Funday"],
    "route": ["AKLDEL", "KULSYD", "QQQZZZ", "AKLQQQ", "akldel", "AKL-DEL"],
    "booking_origin": [
        "Australia",
        "(not set)",
        "Réunion",
        "Myanmar (Burma)",
        "Atlantis",
        'Côte d"Ivoire',
        "back\\slash",
        "tab\there",
        "中国",
        "Percent %d %s",
        " Malaysia ",
        "",
    ],
    "wants_extra_baggage": ["0", "1", "yes", "2"],
    "wants_preferred_seat": ["0", "1", "false"],
    "wants_in_flight_meals": ["0", "1", "1.0"],
    "flight_duration": ["5.52", "8.83", "4.67", "9.5", "9.50", "5", "0.1", "nan", "inf"],
    "booking_complete": ["0", "1", "", "true"],
}


def quirky_csv(rows: list[list[str]], header: list[str], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


def every_combination_rows() -> list[list[str]]:
    """Each choice of each column in an otherwise valid row, mixed rows, and exact repeats."""
    base = [CELL_CHOICES[name][0] for name in SOURCE_FIELDS]
    rows = []
    for column, name in enumerate(SOURCE_FIELDS):
        for choice in CELL_CHOICES[name]:
            rows.append([*base[:column], choice, *base[column + 1 :]])
    longest = max(len(choices) for choices in CELL_CHOICES.values())
    for shift in range(3):
        for index in range(longest):
            rows.append(
                [
                    CELL_CHOICES[name][(index * (shift + 1) + column) % len(CELL_CHOICES[name])]
                    for column, name in enumerate(SOURCE_FIELDS)
                ]
            )
    good = ["2", "Internet", "RoundTrip", "262", "19", "7", "Sat", "AKLDEL", "Réunion"]
    good += ["1", "0", "0", "5.52", "0"]
    normalised_copy = [*good]
    normalised_copy[1] = " internet"
    normalised_copy[12] = "5.520"
    one_way = [*good]
    one_way[2] = "OneWay"
    return [*rows, good, good, normalised_copy, one_way, [""] * 14, list(SOURCE_FIELDS), good]


@pytest.mark.parametrize("booking_date", [date(2026, 11, 24), None])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_rows_of_every_kind_give_the_same_bytes(booking_date: date | None, encoding: str) -> None:
    text = quirky_csv(every_combination_rows(), list(SOURCE_FIELDS))
    expected, got = outputs(
        text.encode(encoding),
        source_file='s3://raw/incoming/Réunion "100%" %d.csv#etag',
        booking_date=booking_date,
    )
    assert expected[2].valid > 60
    assert expected[2].rejected > 20
    assert expected[2].duplicates >= 3
    assert expected[2].normalisations
    assert_same(expected, got)
    for line in got[0].splitlines():
        EnrichedBooking.model_validate_json(line)


def test_reordered_columns_without_outcome_and_spreadsheet_padding() -> None:
    fields = [name for name in SOURCE_FIELDS if name != "booking_complete"]
    order = list(reversed(fields))
    rows = [
        [row[SOURCE_FIELDS.index(name)] for name in order] + ["", ""]
        for row in every_combination_rows()
    ]
    text = quirky_csv(rows, [*order, "", ""], delimiter=";")
    expected, got = outputs(
        text.encode("cp1252", errors="replace"),
        source_file="live.csv",
        booking_date=date(2026, 1, 31),
    )
    assert not expected[2].has_outcome
    assert_same(expected, got)
    assert b'"booking_complete":null' in got[0]


def test_generated_dirty_file_gives_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    write_csv(path, generate_rows(3000, seed=11), dirty=0.2, seed=11)
    expected, got = outputs(
        path.read_bytes(), source_file=str(path), booking_date=date(2026, 11, 24)
    )
    assert expected[2].rejected > 100
    assert expected[2].duplicates > 10
    assert_same(expected, got)


@pytest.mark.parametrize("booking_date", [None, date(2026, 2, 27)])
def test_bounded_tables_refill_and_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, booking_date: date | None
) -> None:
    monkeypatch.setattr(enriched_json, "MAX_VALUES_PER_GROUP", 3)
    monkeypatch.setattr(blocks, "MAX_TEXTS_PER_GROUP", 3)
    path = tmp_path / "many.csv"
    write_csv(path, generate_rows(2000, seed=5), dirty=0.05, seed=5)
    expected, got = outputs(path.read_bytes(), source_file=str(path), booking_date=booking_date)
    assert_same(expected, got)


READABLE_BAD_FILES = [bad for bad in corpus() if bad.error is None]


@pytest.mark.parametrize("bad", READABLE_BAD_FILES, ids=lambda bad: bad.name)
def test_the_readable_bad_files_give_the_same_bytes(bad: BadFile) -> None:
    expected, got = outputs(bad.data, source_file=bad.name, booking_date=date(2025, 2, 28))
    assert_same(expected, got)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(*(st.sampled_from(CELL_CHOICES[name]) for name in SOURCE_FIELDS)),
        min_size=1,
        max_size=25,
    ),
    booking_date=st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2090, 12, 31))),
)
def test_any_mix_of_rows_gives_the_same_bytes(
    rows: list[tuple[str, ...]], booking_date: date | None
) -> None:
    text = quirky_csv([list(row) for row in rows], list(SOURCE_FIELDS))
    expected, got = outputs(text.encode("utf-8"), source_file="p.csv", booking_date=booking_date)
    assert_same(expected, got)


def test_background_writer_keeps_order_and_reports_errors() -> None:
    target = io.BytesIO()
    with BackgroundWriter(target, depth=2) as writer:
        for index in range(200):
            writer.write(b"%d\n" % index)
    assert target.getvalue() == b"".join(b"%d\n" % index for index in range(200))

    class Full(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            raise OSError(28, "No space left on device")

    def fill(writer: BackgroundWriter) -> None:
        for _ in range(100):
            writer.write(b"x")
        writer.close()

    with pytest.raises(OSError, match="No space left"):
        fill(BackgroundWriter(Full(), depth=1))


@pytest.mark.parametrize("chunk_bytes", [97, 1024])
@pytest.mark.parametrize("quote_at", [None, 0.1, 0.9])
def test_many_small_blocks_and_a_quote_anywhere_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, quote_at: float | None
) -> None:
    """Blocks of a few lines; from a block with a double quote on, the csv module reads."""
    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(reader, "SAMPLE_BYTES", chunk_bytes)
    path = tmp_path / "bookings.csv"
    write_csv(path, generate_rows(1500, seed=13), dirty=0.1, seed=13)
    lines = path.read_bytes().split(b"\r\n")
    if quote_at is not None:
        at = int(len(lines) * quote_at)
        lines[at] = lines[at].replace(b",", b',"', 1).replace(b",", b'",', 2)
        lines.insert(at + 1, b'1,"Mobile\r\n",RoundTrip' + b",0" * 11)  # a line break quoted
    expected, got = outputs(
        b"\r\n".join(lines), source_file=str(path), booking_date=date(2026, 11, 24)
    )
    assert expected[2].rejected > 50
    assert_same(expected, got)


GOOD_LINE = "2,Internet,RoundTrip,262,19,7,Sat,AKLDEL,New Zealand,1,0,0,5.52,0"
QUIRKY_LINES = [
    GOOD_LINE,
    GOOD_LINE.replace("New Zealand", "New\rZealand"),  # a carriage return alone, in a cell
    GOOD_LINE.replace("New Zealand", "New Zealand,x"),  # one cell too many
    GOOD_LINE.rsplit(",", 1)[0],  # one cell too few
    GOOD_LINE + ",",  # an empty cell too many
    GOOD_LINE.replace("AKLDEL", "akldel"),  # valid once normalised
    GOOD_LINE.replace("262", "2620"),  # out of range
    "",  # a blank line
    ",,,,,,,,,,,,,",  # a spreadsheet's blank row
    GOOD_LINE.replace("5.52", "5.52\r"),  # a carriage return before the delimiter-free end
]


@settings(max_examples=300, deadline=None)
# A lone carriage return inside a cell balancing a line that ends in LF alone in a CRLF file;
# a lone carriage return in a last line without a line break.
@example(header_break="\r\n", lines=[(QUIRKY_LINES[9], "\n")], final_break=True, chunk_bytes=256)
@example(
    header_break="\r\n",
    lines=[(GOOD_LINE, "\r\n"), (QUIRKY_LINES[1], "\r\n")],
    final_break=False,
    chunk_bytes=256,
)
@given(
    header_break=st.sampled_from(["\r\n", "\n"]),
    lines=st.lists(
        st.tuples(st.sampled_from(QUIRKY_LINES), st.sampled_from(["\r\n", "\r\n", "\n", "\r"])),
        min_size=1,
        max_size=40,
    ),
    final_break=st.booleans(),
    chunk_bytes=st.sampled_from([64, 256, 1 << 16]),
)
def test_line_breaks_anywhere_give_the_same_bytes(
    header_break: str,
    lines: list[tuple[str, str]],
    final_break: bool,
    chunk_bytes: int,
) -> None:
    """The block path's fast expressions count on line breaks; these put them everywhere."""
    text = ",".join(SOURCE_FIELDS) + header_break
    text += "".join(line + brk for line, brk in lines)
    if not final_break:
        text = text[: -len(lines[-1][1])]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "CHUNK_BYTES", chunk_bytes)
        patch.setattr(reader, "SAMPLE_BYTES", chunk_bytes)
        expected, got = outputs(text.encode("latin-1"), source_file="b.csv", booking_date=None)
    assert_same(expected, got)
