"""The reader and the validator on inputs nobody wrote: no crash, no hang, nothing lost.

Every input is held to the same promises:

- it is read, or refused with one line naming the file (``UnreadableFileError``), never a
  traceback, and within ``support.fuzzing.HANG_SECONDS``;
- every character of the data (all but quotes, delimiters and white space, which quoting and
  splitting move) lands in exactly one record, in file order;
- every record is exactly one row, valid or rejected with its reasons, numbered in order, and
  the run's counts reconcile (rows = valid + rejected);
- a line that is a valid booking on its own is delivered with its values, whatever surrounds it
  (stray quotes, broken rows, mixed line breaks);
- the CLI's block path writes the row path's bytes, and ``bookings validate`` exits 0 or 2 with
  outputs that match its summary.

The number of examples is the hypothesis profile's: the default in ``make test`` (a few seconds
per test), many more with ``make fuzz`` (the ``fuzz`` profile, ``tests/conftest.py``).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import gzip
import io
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from booking_core import reader
from booking_core.errors import UnreadableFileError
from booking_core.pipeline import RejectedRecord, ValidRow, validate_stream
from booking_core.reader import MalformedRecord, open_booking_csv
from booking_core.records import RecordChecker, Rejection
from booking_core.schema import OUTCOME_FIELD, SOURCE_FIELDS, BookingSource
from booking_core.validation import ColumnChecker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.badfiles import GOOD_ROWS, HEADER
from support.fuzzing import characters, within
from support.two_paths import INGESTED_AT, assert_same, block_path_outputs, outputs

from bookings.commands import validate
from bookings.fastpath import parallel

# No max_examples here: the profile decides (see the module's description).
FUZZ = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
KNOWN_RULES = {"missing", "not_integer", "not_number", "out_of_range", "not_allowed"}
KNOWN_RULES |= {"bad_format", "too_long"}
ROW_REASONS = {"row:field_count", "row:repeated_header", "row:malformed", "row:unterminated_quote"}


def _good_values() -> list[dict[str, Any]]:
    text = "\r\n".join(",".join(row) for row in [HEADER, *GOOD_ROWS])
    outcomes = list(validate_stream(io.BytesIO(text.encode("latin-1")), source_file="good.csv"))
    assert all(isinstance(outcome, ValidRow) for outcome in outcomes)
    return [outcome.values for outcome in outcomes]  # type: ignore[union-attr]


GOOD_VALUES = _good_values()


def _record_text(record: list[str] | MalformedRecord) -> str:
    return record.raw if isinstance(record, MalformedRecord) else "".join(record)


def check_file(data: bytes, good: list[dict[str, Any]] | None = None) -> None:
    """Hold one input to every promise of the module's description; ``good``: the values of
    the lines that are valid bookings on their own, in file order."""
    with within():
        refusal = ""
        try:
            opened = open_booking_csv(io.BytesIO(data), "fuzz.csv")
        except UnreadableFileError as exc:
            refusal = str(exc)
        if refusal:
            assert refusal.startswith("fuzz.csv: ")
            assert "\n" not in refusal
            with pytest.raises(UnreadableFileError):
                validate_stream(io.BytesIO(data), source_file="fuzz.csv")
            assert good is None
            return
        text = "".join(opened.text_blocks())
        opened.close()
        layout = open_booking_csv(io.BytesIO(data), "fuzz.csv")
        records = list(layout.records())
        layout.close()
        assert [number for number, _ in records] == list(range(1, len(records) + 1))
        # Every character in exactly one record, in order.
        delimiter = layout.delimiter
        assert "".join(characters(_record_text(record), delimiter) for _, record in records) == (
            characters(text, delimiter)
        )
        run = validate_stream(io.BytesIO(data), source_file="fuzz.csv")
        outcomes = list(run)
        summary = run.summary
        # Every record exactly one row, as the record checker judges it.
        assert [outcome.row_number for outcome in outcomes] == [number for number, _ in records]
        checker = RecordChecker(layout)
        names = layout.fields if layout.has_outcome else (*layout.fields, OUTCOME_FIELD)
        for (_, record), outcome in zip(records, outcomes, strict=True):
            verdict = checker.check(record)
            if isinstance(verdict, Rejection):
                assert isinstance(outcome, RejectedRecord)
                assert (outcome.raw, outcome.reasons) == (verdict.raw, verdict.reasons)
                assert outcome.message.startswith(f"fuzz.csv: row {outcome.row_number}: ")
                assert "\n" not in outcome.message
                assert "\r" not in outcome.message
                assert all(
                    reason in ROW_REASONS or reason.split(":")[1] in KNOWN_RULES
                    for reason in outcome.reasons
                )
            else:
                assert isinstance(outcome, ValidRow)
                padding = () if layout.has_outcome else (None,)
                assert outcome.values == dict(zip(names, (*verdict[0], *padding), strict=True))
        assert summary.rows == summary.valid + summary.rejected == len(outcomes)
        assert summary.valid == sum(isinstance(o, ValidRow) for o in outcomes)
        assert summary.duplicates <= summary.valid
        assert sum(summary.reasons.values()) >= summary.rejected
        if good is not None:
            _assert_delivered_in_order(good, outcomes)
        expected, got = outputs(data, source_file="fuzz.csv", booking_date=date(2026, 11, 24))
        assert_same(expected, got)


def _assert_delivered_in_order(
    good: list[dict[str, Any]], outcomes: list[ValidRow | RejectedRecord]
) -> None:
    delivered = iter(o.values for o in outcomes if isinstance(o, ValidRow))
    for values in good:
        assert any(found == values for found in delivered), f"not delivered: {values}"


def check_command(data: bytes) -> None:
    """``bookings validate --out`` on the input: exit 0 with outputs matching the summary, or
    exit 2 with one line on stderr."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        out = Path(folder) / "out"
        args = argparse.Namespace(path=path, json=True, out=out, booking_date=None, workers=1)
        stdout, stderr = io.StringIO(), io.StringIO()
        with (
            within(),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            code = validate.run(args)
        if code == validate.EXIT_UNREADABLE:
            assert stderr.getvalue().startswith(f"bookings: error: {path}: ")
            assert stderr.getvalue().count("\n") == 1
            return
        assert code == validate.EXIT_OK, stderr.getvalue()
        summary = json.loads(stdout.getvalue())
        assert summary["rows"] == summary["valid"] + summary["rejected"]
        enriched = (out / "fuzz.enriched.jsonl").read_bytes()
        rejected = (out / "fuzz.rejected.jsonl").read_bytes()
        assert enriched.count(b"\n") == summary["valid"]
        assert rejected.count(b"\n") == summary["rejected"]


HEADER_LINE = ",".join(HEADER)
BYTES = st.one_of(
    st.binary(max_size=1500),
    st.binary(max_size=1500).map(lambda data: (HEADER_LINE + "\r\n").encode() + data),
    st.binary(max_size=600).map(lambda data: gzip.compress((HEADER_LINE + "\n").encode() + data)),
)


@FUZZ
@given(BYTES)
def test_any_bytes(data: bytes) -> None:
    check_file(data)
    check_command(data)


# Text that breaks CSV: quotes, delimiters, line breaks, NUL, non-ASCII, spaces.
JUNK_CHARACTERS = '",;\t\r\n \x00aéZ1.-|’'
KINDS = ["good", "good", "good", "stray", "quoted", "junk", "cell", "blank", "header"]


@st.composite
def lines_of_a_file(draw: st.DrawFn, quotes: bool = True) -> tuple[str, str, list[dict[str, Any]]]:
    """(text, encoding, values of the good lines): a header, then lines of every kind (without
    a double quote anywhere unless ``quotes``)."""
    junk = st.text(
        alphabet=st.sampled_from([c for c in JUNK_CHARACTERS if quotes or c != '"']), max_size=40
    )
    kinds = KINDS if quotes else [kind for kind in KINDS if kind not in ("stray", "quoted")]
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    lines: list[str] = []
    good: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(kinds))
        index = draw(st.integers(0, len(GOOD_ROWS) - 1))
        row = list(GOOD_ROWS[index])
        if kind == "good":
            good.append(GOOD_VALUES[index])
        elif kind == "stray":  # a quote where it opens a field, or inside one
            field = draw(st.integers(0, len(row) - 1))
            at = draw(st.integers(0, len(row[field])))
            row[field] = row[field][:at] + '"' + row[field][at:]
        elif kind == "quoted":  # a legitimate quoted field: delimiters, line breaks, quotes
            field = draw(st.integers(0, len(row) - 1))
            inside = draw(st.text(alphabet=st.sampled_from(list('ab ,;\t\r\n"')), max_size=12))
            row[field] = '"' + inside.replace('"', '""') + '"'
        elif kind == "cell":  # a cell of junk, quotes and delimiters included
            row[draw(st.integers(0, len(row) - 1))] = draw(junk)
        if kind == "junk":
            lines.append(draw(junk))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", delimiter * 13, '""' if quotes else ""])))
        elif kind == "header":
            lines.append(delimiter.join(HEADER))
        else:
            lines.append(delimiter.join(row))
    breaks = st.sampled_from(["\r\n", "\r\n", "\n", "\r"])
    text = delimiter.join(HEADER) + draw(breaks)
    text += "".join(line + draw(breaks) for line in lines)
    if lines and draw(st.booleans()):
        text = text.rstrip("\r\n")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]))
    return text, encoding, good


@FUZZ
@given(lines_of_a_file(), st.sampled_from([64, 97, 256, 1 << 16]))
def test_lines_of_every_kind(case: tuple[str, str, list[dict[str, Any]]], chunk: int) -> None:
    text, encoding, good = case
    data = codecs.encode(text, encoding, errors="replace")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "CHUNK_BYTES", chunk)
        patch.setattr(reader, "SAMPLE_BYTES", chunk)
        check_file(data, good)


FIELDS = st.sampled_from(SOURCE_FIELDS)


@FUZZ
@given(FIELDS, st.text(max_size=120))
def test_any_cell_text(field: str, text: str) -> None:
    """A cell is valid with a value the contract accepts, or rejected with a known rule; the
    same text always gets the same verdict (the checker caches it)."""
    checker = ColumnChecker(field)
    with within():
        first = checker.check(text)
        again = checker.check(text)
    assert again == first
    if first.rule is not None:
        assert first.rule in KNOWN_RULES
        assert text not in checker.fast
        return
    row = dict(GOOD_VALUES[0])
    row[field] = first.value
    assert BookingSource.model_validate(row).model_dump()[field] == first.value
    assert (text in checker.fast) == (not first.normalisations)


@FUZZ
@given(st.lists(st.text(max_size=30), max_size=18), st.sampled_from([",", ";"]))
def test_any_record(cells: list[str], delimiter: str) -> None:
    """Any cells, as many as they come: valid values the contract accepts, or a rejection with
    its reasons, its text bounded, and a one-line message."""
    layout = open_booking_csv(io.BytesIO(delimiter.join(HEADER).encode()), "r.csv")
    with within():
        verdict = RecordChecker(layout).check(cells)
    if isinstance(verdict, Rejection):
        assert verdict.reasons
        assert all(
            reason in ROW_REASONS or reason.split(":")[1] in KNOWN_RULES
            for reason in verdict.reasons
        )
        message = verdict.message("r.csv", 7)
        assert message.startswith("r.csv: row 7: ")
        assert "\n" not in message
        assert "\r" not in message
        assert len(verdict.raw) <= reader.RAW_TEXT_LIMIT + 40
        return
    values, _ = verdict
    model = BookingSource.model_validate(dict(zip(SOURCE_FIELDS, values, strict=True)))
    assert tuple(model.model_dump().values()) == values


@FUZZ
@given(lines_of_a_file(quotes=False))
def test_the_shared_out_path(case: tuple[str, str, list[dict[str, Any]]]) -> None:
    """Forked workers on blocks of a few lines write what one process writes."""
    text, encoding, _ = case
    if encoding not in parallel.ENCODINGS:
        encoding = "latin-1"
    data = codecs.encode(text, encoding, errors="replace")
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "BLOCK_BYTES", 128)
        patch.setattr(parallel, "MIN_BYTES", 0)
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        enriched, rejected = Path(folder) / "e.jsonl", Path(folder) / "r.jsonl"
        with within():
            try:
                result = parallel.write_in_parallel(
                    path,
                    enriched_path=enriched,
                    rejected_path=rejected,
                    booking_date=date(2026, 11, 24),
                    ingested_at=INGESTED_AT,
                    workers=2,
                )
            except UnreadableFileError:
                return
        expected = block_path_outputs(
            data, source_file=str(path), booking_date=date(2026, 11, 24), ingested_at=INGESTED_AT
        )
        if result is None:  # UTF-8 letters after CP1252 bytes: for one process
            return
        assert (enriched.read_bytes(), rejected.read_bytes(), result.run.summary) == expected
