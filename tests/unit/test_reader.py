"""The reader on the corpus of real-life files, and its invariants on arbitrary bytes."""

from __future__ import annotations

import gzip
import io
import itertools

import pytest
from booking_core.errors import MissingColumnError, UnreadableFileError
from booking_core.pipeline import RejectedRecord, ValidRow, validate_stream
from booking_core.reader import RAW_TEXT_LIMIT, _Decoder, open_booking_csv
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.badfiles import GOOD_ROWS, HEADER, BadFile, corpus, csv_text, zipped

CORPUS = corpus()
READABLE = [bad for bad in CORPUS if bad.error is None]
UNREADABLE = [bad for bad in CORPUS if bad.error is not None]


def _read(data: bytes, name: str = "file.csv") -> tuple[list[ValidRow | RejectedRecord], object]:
    run = validate_stream(io.BytesIO(data), source_file=name)
    outcomes = list(run)
    return outcomes, run.summary


class _NonSeekable(io.RawIOBase):
    """A stream that can only be read forward (like an S3 body or a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@pytest.mark.parametrize("bad", READABLE, ids=lambda bad: bad.name)
def test_readable_files_give_the_expected_counts(bad: BadFile) -> None:
    outcomes, summary = _read(bad.data, bad.name)
    assert summary.rows == summary.valid + summary.rejected == len(outcomes)
    assert [o.row_number for o in outcomes] == list(range(1, summary.rows + 1))
    if bad.rows is not None:
        assert (summary.rows, summary.valid, summary.rejected) == (
            bad.rows,
            bad.valid,
            bad.rejected,
        )
    assert summary.reasons == bad.reasons or bad.rows is None
    if bad.encoding is not None:
        assert summary.encoding.startswith(bad.encoding)
    assert summary.compression == bad.compression
    if bad.line_endings is not None:
        assert summary.line_endings == bad.line_endings
    assert summary.delimiter == (bad.delimiter or ",")


@pytest.mark.parametrize("bad", UNREADABLE, ids=lambda bad: bad.name)
def test_unreadable_files_raise_one_line_naming_file_and_problem(bad: BadFile) -> None:
    with pytest.raises(UnreadableFileError) as caught:
        _read(bad.data, bad.name)
    message = str(caught.value)
    assert bad.error is not None
    assert bad.error in message
    assert message.startswith(f"{bad.name}: ")
    assert "\n" not in message


def _values(outcomes: list[ValidRow | RejectedRecord]) -> list[dict[str, object]]:
    return [o.values for o in outcomes if isinstance(o, ValidRow)]


def test_every_encoding_gives_the_same_values() -> None:
    reference = _values(_read(next(b for b in CORPUS if b.name == "latin1_crlf.csv").data)[0])
    assert reference[1]["booking_origin"] == "Réunion"
    for name in (
        "utf8_lf.csv",
        "utf8_bom.csv",
        "utf16_le_bom.csv",
        "utf16_be_bom.csv",
        "utf16_le_no_bom.csv",
        "gzip_without_suffix.csv",
        "one_csv.zip",
        "semicolon.csv",
        "tab.tsv",
        "reordered.csv",
        "padded_upper_header.csv",
        "trailing_empty_columns.csv",
        "unknown_column.csv",
        "cr_only.csv",
    ):
        bad = next(b for b in CORPUS if b.name == name)
        assert _values(_read(bad.data)[0]) == reference, name


def test_cp1252_punctuation_and_late_latin1_bytes_are_decoded() -> None:
    outcomes, _ = _read(next(b for b in CORPUS if b.name == "cp1252.csv").data)
    assert _values(outcomes)[4]["booking_origin"] == "Côte d’Ivoire"
    outcomes, summary = _read(next(b for b in CORPUS if b.name == "late_latin1.csv").data)
    assert _values(outcomes)[-1]["booking_origin"] == "Réunion"
    assert summary.encoding == "latin-1"  # only ASCII came before the first Latin-1 byte


def test_mangled_characters_are_kept_as_they_are() -> None:
    outcomes, _ = _read(next(b for b in CORPUS if b.name == "mangled_characters.csv").data)
    assert _values(outcomes)[0]["booking_origin"] == "RÃ©union"


def test_unknown_and_ignored_columns_are_reported() -> None:
    _, summary = _read(next(b for b in CORPUS if b.name == "unknown_column.csv").data)
    assert summary.unknown_columns == ["Booking ID"]
    _, summary = _read(next(b for b in CORPUS if b.name == "trailing_empty_columns.csv").data)
    assert summary.ignored_columns == 2
    assert summary.unknown_columns == []


def test_a_file_without_booking_complete_is_live_bookings() -> None:
    outcomes, summary = _read(next(b for b in CORPUS if b.name == "live_no_outcome.csv").data)
    assert summary.has_outcome is False
    assert all(v["booking_complete"] is None for v in _values(outcomes))
    assert all(len(v) == len(HEADER) for v in _values(outcomes))


def test_missing_column_error_names_every_missing_column() -> None:
    header = [name for name in HEADER if name not in ("route", "flight_day")]
    data = csv_text([], header).encode()
    with pytest.raises(MissingColumnError) as caught:
        _read(data, "x.csv")
    assert caught.value.columns == ["flight_day", "route"]


def test_a_five_megabyte_field_is_rejected_with_a_bounded_raw_text() -> None:
    outcomes, _ = _read(next(b for b in CORPUS if b.name == "five_mb_field.csv").data)
    rejected = [o for o in outcomes if isinstance(o, RejectedRecord)]
    assert rejected[0].row_number == 1
    assert len(rejected[0].raw) < RAW_TEXT_LIMIT + 100
    assert len(rejected[0].message) < 400


def test_broken_quoting_costs_its_own_row_only() -> None:
    outcomes, summary = _read(next(b for b in CORPUS if b.name == "broken_quote.csv").data)
    assert isinstance(outcomes[0], RejectedRecord)
    assert outcomes[0].reasons == ["row:unterminated_quote"]
    assert outcomes[0].raw == ",".join(GOOD_ROWS[0]).replace("New Zealand", '"New Zealand')
    reference = _values(_read(next(b for b in CORPUS if b.name == "latin1_crlf.csv").data)[0])
    assert _values(outcomes[1:]) == reference[1:]
    assert summary.rows == 5


def test_repeated_header_and_blank_lines_keep_stable_row_numbers() -> None:
    data = next(b for b in CORPUS if b.name == "repeated_header.csv").data
    first, _ = _read(data)
    second, _ = _read(data)
    assert first == second
    assert isinstance(first[2], RejectedRecord)
    assert first[2].reasons == ["row:repeated_header"]
    blank, summary = _read(next(b for b in CORPUS if b.name == "blank_lines.csv").data)
    assert [o.row_number for o in blank] == [1, 2, 3, 4, 5]
    assert summary.normalisations["row:blank_line_skipped"] == 4


def test_nul_bytes_do_not_stop_the_file() -> None:
    outcomes, _ = _read(next(b for b in CORPUS if b.name == "nul_bytes.csv").data)
    assert _values(outcomes)[0]["booking_origin"] == "New\x00Zealand"
    assert isinstance(outcomes[1], RejectedRecord)
    assert outcomes[1].reasons == ["num_passengers:not_integer"]


def test_zip_from_a_non_seekable_stream_is_spooled() -> None:
    data = next(b for b in CORPUS if b.name == "one_csv.zip").data
    run = validate_stream(io.BufferedReader(_NonSeekable(data)), source_file="s3://b/k.zip")
    assert len(list(run)) == 5
    assert run.summary.compression == "zip"


def test_gzip_is_read_as_a_stream() -> None:
    data = gzip.compress(csv_text(GOOD_ROWS * 2000).encode("latin-1"))
    run = validate_stream(io.BufferedReader(_NonSeekable(data)), source_file="x")
    assert sum(1 for _ in run) == 10_000


def test_a_field_count_mismatch_is_a_rejected_row_with_its_raw_text() -> None:
    text = csv_text([GOOD_ROWS[0], ["1", "2", "3"], [*GOOD_ROWS[1], "extra"]])
    outcomes, summary = _read(text.encode("latin-1"), "f.csv")
    assert [type(o).__name__ for o in outcomes] == ["ValidRow", "RejectedRecord", "RejectedRecord"]
    assert outcomes[1].raw == "1,2,3"  # type: ignore[union-attr]
    assert outcomes[1].message == "f.csv: row 2: 3 fields where the header has 14"  # type: ignore[union-attr]
    assert summary.reasons == {"row:field_count": 2}


def test_reader_reports_how_the_file_is_stored() -> None:
    data = zipped({"dir/": b"", "dir/b.csv": csv_text(GOOD_ROWS, delimiter=";").encode("utf-16")})
    opened = open_booking_csv(io.BytesIO(data), "b.zip")
    assert (opened.compression, opened.encoding, opened.delimiter) == ("zip", "utf-16-le", ";")
    assert opened.fields == tuple(HEADER)
    opened.close()


def _reconciles(data: bytes) -> None:
    problem = ""
    try:
        run = validate_stream(io.BytesIO(data), source_file="fuzz.csv")
        outcomes = list(run)
    except UnreadableFileError as exc:
        problem = str(exc)
    if problem:
        assert problem.startswith("fuzz.csv: ")
        assert "\n" not in problem
        return
    summary = run.summary
    assert summary.rows == summary.valid + summary.rejected == len(outcomes)
    assert [o.row_number for o in outcomes] == list(range(1, len(outcomes) + 1))
    assert summary.duplicates <= summary.valid
    assert sum(summary.reasons.values()) >= summary.rejected


HEADER_BYTES = (",".join(HEADER) + "\r\n").encode()
CSVISH = st.text(
    alphabet=st.sampled_from(list('0123456789,;"\r\n \t.-abcAKLDELInternetRoundTripMonSat\x00é')),
    max_size=400,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash_and_always_reconcile(data: bytes) -> None:
    _reconciles(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_a_valid_header_reconcile(data: bytes) -> None:
    _reconciles(HEADER_BYTES + data)


@settings(max_examples=300, deadline=None)
@given(CSVISH, st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_csv_like_text_after_a_valid_header_reconciles(text: str, encoding: str) -> None:
    _reconciles((",".join(HEADER) + "\n" + text).encode(encoding))


def test_a_utf8_file_with_latin1_bytes_later_says_so() -> None:
    row = [*GOOD_ROWS[0][:8], "Curaçao", *GOOD_ROWS[0][9:]]
    utf8 = csv_text([row] * 1100, final_newline=True).encode("utf-8")
    late = csv_text([GOOD_ROWS[1]], header=[]).lstrip("\r\n").encode("latin-1")
    outcomes, summary = _read(utf8 + late)
    values = _values(outcomes)
    assert values[0]["booking_origin"] == "Curaçao"
    assert values[-1]["booking_origin"] == "Réunion"
    assert summary.encoding == f"utf-8, cp1252 from byte {len(utf8) + late.index(b'\xe9')}"


LINE_BYTES = st.sampled_from(
    [b"abc,1", "é".encode(), "é".encode("latin-1"), b"\x93q\x94", "’".encode(), b"\x80"]
)


@settings(max_examples=300, deadline=None)
# A chunk ending in a byte that could start a UTF-8 letter, and that the next chunk shows is
# Latin-1: the file is Latin-1, not "UTF-8, then CP1252".
@example(encoding="utf-8", lines=[b"\xe9"], prefix_lines=0, cuts=set(), chunk=1)
@given(
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]),
    lines=st.lists(st.lists(LINE_BYTES, max_size=4).map(b"".join), min_size=1, max_size=30),
    prefix_lines=st.integers(0, 30),
    cuts=st.sets(st.integers(1, 29), max_size=6),
    chunk=st.integers(1, 50),
)
def test_parts_decoded_on_their_own_read_as_the_reader_reads_them(
    encoding: str, lines: list[bytes], prefix_lines: int, cuts: set[int], chunk: int
) -> None:
    """What the shared-out path does: parts of whole lines decoded alone from the reader's state,
    then followed in file order, give the reader's text and label, or say they cannot."""
    bom = b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b""
    data = [line + b"\r\n" for line in lines]
    head = bom + b"".join(data[:prefix_lines])
    rest = data[prefix_lines:]
    sequential = _Decoder(encoding)
    sequential.decode(head)
    start = sequential.state()
    expected = "".join(
        sequential.decode(piece)
        for piece in (
            b"".join(rest)[at : at + chunk] for at in range(0, len(b"".join(rest)), chunk)
        )
    ) + sequential.decode(b"", final=True)
    bounds = [0, *sorted(cut for cut in cuts if cut < len(rest)), len(rest)]
    followed = start.state()
    texts = []
    offset = len(head)
    for low, high in itertools.pairwise(bounds):
        part = b"".join(rest[low:high])
        decoded = start.decode_part(part, offset)
        offset += len(part)
        if decoded is None or not followed.follow(decoded[1]):
            return  # the shared-out path hands the file to the sequential reader
        texts.append(decoded[0])
    assert "".join(texts) == expected
    assert followed.label == sequential.label
