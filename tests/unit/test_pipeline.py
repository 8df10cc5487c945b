"""The pipeline: encoding round trips, duplicates, enriched output, JSON Lines, memory."""

from __future__ import annotations

import codecs
import csv
import io
import tracemalloc
from datetime import UTC, date, datetime

import orjson
import pytest
from booking_core.jsonl import dumps_line, write_jsonl
from booking_core.pipeline import (
    RejectedRecord,
    ValidRow,
    process_stream,
    rejected_row_dict,
    validate_stream,
)
from booking_core.schema import (
    FLIGHT_DAYS,
    SALES_CHANNELS,
    SOURCE_FIELDS,
    TRIP_TYPES,
    EnrichedBooking,
    FileSummary,
    RejectedRow,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from support.badfiles import GOOD_ROWS, HEADER, csv_text

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")
ORIGIN_LETTERS = {
    "utf-8": "abcXYZ ()'-.éüñçÅ’中",
    "utf-8-sig": "abcXYZ ()'-.éüñçÅ’中",
    "utf-16": "abcXYZ ()'-.éüñçÅ’中",
    # Only letters from 0xC0 up: two of them never form valid UTF-8 by accident.
    "latin-1": "abcXYZ ()'-.éüñçÅ",
    "cp1252": "abcXYZ ()'-.éüñçÅ’",
}


@st.composite
def valid_values(draw: st.DrawFn, letters: str) -> dict[str, object]:
    origin = draw(st.text(alphabet=letters, min_size=1, max_size=30).filter(lambda s: s.strip()))
    return {
        "num_passengers": draw(st.integers(1, 9)),
        "sales_channel": draw(st.sampled_from(SALES_CHANNELS)),
        "trip_type": draw(st.sampled_from(TRIP_TYPES)),
        "purchase_lead": draw(st.integers(0, 1095)),
        "length_of_stay": draw(st.integers(0, 1095)),
        "flight_hour": draw(st.integers(0, 23)),
        "flight_day": draw(st.sampled_from(FLIGHT_DAYS)),
        "route": draw(st.from_regex(r"\A[A-Z]{6}\Z")),
        "booking_origin": origin.strip(),
        "wants_extra_baggage": draw(st.integers(0, 1)),
        "wants_preferred_seat": draw(st.integers(0, 1)),
        "wants_in_flight_meals": draw(st.integers(0, 1)),
        "flight_duration": draw(st.floats(0.5, 24.0, allow_nan=False)),
        "booking_complete": draw(st.integers(0, 1)),
    }


@st.composite
def encoded_file(draw: st.DrawFn) -> tuple[str, str, list[dict[str, object]], bytes]:
    encoding = draw(st.sampled_from(ENCODINGS))
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    rows = draw(st.lists(valid_values(ORIGIN_LETTERS[encoding]), min_size=1, max_size=8))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(SOURCE_FIELDS)
    writer.writerows([[row[f] for f in SOURCE_FIELDS] for row in rows])
    return encoding, newline, rows, out.getvalue().encode(encoding)


@settings(max_examples=200, deadline=None)
@given(encoded_file())
def test_valid_rows_survive_a_round_trip_in_every_encoding(
    case: tuple[str, str, list[dict[str, object]], bytes],
) -> None:
    encoding, newline, rows, data = case
    run = validate_stream(io.BytesIO(data), source_file="rt.csv")
    outcomes = list(run)
    assert [o.values for o in outcomes if isinstance(o, ValidRow)] == rows
    assert run.summary.valid == len(rows)
    assert run.summary.rejected == 0
    assert run.summary.line_endings == ("crlf" if newline == "\r\n" else "lf")
    if encoding == "utf-16":
        assert run.summary.encoding == "utf-16-le"
        assert data.startswith(codecs.BOM_UTF16_LE)
    elif encoding == "utf-8-sig":
        assert run.summary.encoding == "utf-8-sig"


def test_exact_duplicates_are_flagged_not_dropped() -> None:
    padded = [" 2", "internet", *GOOD_ROWS[0][2:]]  # the same booking once normalised
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[0], padded, GOOD_ROWS[2]]
    run = validate_stream(io.BytesIO(csv_text(rows).encode()), source_file="d.csv")
    flags = [o.is_duplicate for o in run if isinstance(o, ValidRow)]
    assert flags == [False, False, True, True, False]
    assert run.summary.duplicates == 2
    assert run.summary.valid == 5


def test_the_summary_exists_only_after_iteration_and_iteration_happens_once() -> None:
    run = validate_stream(io.BytesIO(csv_text(GOOD_ROWS).encode()), source_file="s.csv")
    with pytest.raises(RuntimeError):
        _ = run.summary
    assert len(list(run)) == 5
    with pytest.raises(RuntimeError):
        iter(run)
    assert isinstance(run.summary, FileSummary)


def test_process_stream_gives_records_that_satisfy_the_contract() -> None:
    rows = [*GOOD_ROWS, ["0", *GOOD_ROWS[0][1:]]]
    ingested = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    run = process_stream(
        io.BytesIO(csv_text(rows).encode("latin-1")),
        source_file="s3://raw/incoming/b.csv#etag",
        booking_date=date(2026, 11, 24),
        ingested_at=ingested,
        name="b.csv",
    )
    outcomes = list(run)
    kinds = [kind for kind, _ in outcomes]
    assert kinds == ["valid"] * 5 + ["rejected"]
    for kind, record in outcomes:
        if kind == "valid":
            booking = EnrichedBooking.model_validate(record)
            assert booking.source_file == "s3://raw/incoming/b.csv#etag"
        else:
            rejected = RejectedRow.model_validate(record)
            assert rejected.reason == "num_passengers:out_of_range"
            assert rejected.row_number == 6
            assert rejected.message.startswith("b.csv: row 6: ")
    assert run.summary.file == "b.csv"
    assert run.summary.rows == 6 == run.summary.valid + run.summary.rejected


def test_json_lines_round_trip_dates_and_summaries() -> None:
    record = {"a": 1, "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "day": date(2026, 1, 2)}
    line = dumps_line(record)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert orjson.loads(line) == {"a": 1, "when": "2026-01-02T03:04:05+00:00", "day": "2026-01-02"}
    summary = FileSummary(file="f", encoding="utf-8", rows=1, valid=1, rejected=0, duplicates=0)
    rejected = rejected_row_dict(
        RejectedRecord(3, "x,y", ["row:field_count"], "f: row 3: 2 fields"),
        source_file="f",
        rejected_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    out = io.BytesIO()
    assert write_jsonl(out, [summary, rejected]) == 2
    first, second = (orjson.loads(line) for line in out.getvalue().splitlines())
    assert FileSummary.model_validate(first) == summary
    assert RejectedRow.model_validate(second).reasons == ["row:field_count"]


class _GeneratedStream(io.RawIOBase):
    """A large booking file produced on the fly, so that the input itself takes no memory."""

    def __init__(self, rows: int) -> None:
        self._header = (",".join(HEADER) + "\r\n").encode()
        self._row = (",".join(GOOD_ROWS[0]) + "\r\n").encode()
        self._left = rows
        self._pending = self._header

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer) and self._left:
            batch = min(self._left, 1000)
            self._pending += self._row * batch
            self._left -= batch
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@pytest.mark.slow
def test_memory_stays_constant_whatever_the_file_size() -> None:
    rows = 100_000  # ~7 MB of CSV text; all duplicates, so the duplicate set stays tiny
    tracemalloc.start()
    try:
        run = validate_stream(io.BufferedReader(_GeneratedStream(rows)), source_file="big.csv")
        count = sum(1 for _ in run)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert run.summary.duplicates == rows - 1
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while reading {rows} rows"
