"""Read + validate + enrich a booking file as a stream.

This is the contract between the core and its users.

Stages, so that the Validate and Enrich Lambdas can run them separately:

- ``validate_stream(stream, source_file=...)`` -> ``ValidationRun``: iterate it to get, in input
  order, ``ValidRow`` and ``RejectedRecord`` outcomes; after iteration ``run.summary`` is the
  ``FileSummary`` (rows == valid + rejected). A file that cannot be read at all raises
  ``booking_core.errors.UnreadableFileError`` (a one-line message naming the file and the problem).
- ``enrich_row(valid_row_dict, context)`` (booking_core.enrichment) -> enriched record dict.
- ``process_stream(...)``: both, for the CLI, the model's training data and the benchmark;
  iterate it for record dicts.

This row path is the reference. The CLI's ``bookings validate --out`` writes the same records
as JSON Lines, byte for byte, a block of lines at a time (``bookings.fastpath``, which never
ships to a Lambda); it reads a run through ``start_reading`` and ``take_counts``.

Exact duplicates within a file are flagged (``is_duplicate`` on the second and later copies),
never dropped: the pipeline keeps a 64-bit hash of each valid normalised row
(``booking_core.duplicates``: in a set up to a million of them, about 70 MB, and beyond that
in a temporary SQLite table on disk, so that memory stays bounded whatever the file size).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import IO, Any, BinaryIO, Protocol

from booking_core.duplicates import DEFAULT_MEMORY_KEYS, DuplicateIndex
from booking_core.errors import UnreadableFileError
from booking_core.jsonl import firehose_timestamp
from booking_core.reader import BookingCsv, MalformedRecord, is_blank, open_booking_csv
from booking_core.records import RecordChecker, Rejection
from booking_core.schema import OUTCOME_FIELD, SCHEMA_VERSION, FileSummary

BLANK_LINES_SKIPPED = "row:blank_line_skipped"


@dataclass(frozen=True, slots=True)
class ValidRow:
    row_number: int
    values: dict[str, Any]  # the 14 source fields typed; booking_complete may be None
    is_duplicate: bool


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    row_number: int
    raw: str
    reasons: list[str]
    message: str

    @property
    def reason(self) -> str:
        return self.reasons[0]


class RunCounts(Protocol):
    """A whole file's counts, as a reader of a run other than iterating it keeps them."""

    @property
    def rows(self) -> int: ...
    @property
    def valid(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def blank(self) -> int: ...
    @property
    def duplicate_keys_spilled(self) -> int: ...
    @property
    def reasons(self) -> Counter[str]: ...
    @property
    def normalisations(self) -> Counter[str]: ...


class ValidationRun:
    """The outcomes of one file in input order; ``summary`` once they have all been read."""

    def __init__(
        self,
        csv_file: BookingCsv,
        *,
        source_file: str,
        name: str,
        duplicate_memory_keys: int = DEFAULT_MEMORY_KEYS,
    ) -> None:
        self.source_file = source_file
        self._duplicate_memory_keys = duplicate_memory_keys
        # Keys of distinct rows moved from memory to disk (booking_core.duplicates).
        self.duplicate_keys_spilled = 0
        self.name = name
        self._csv = csv_file
        self._records = RecordChecker(csv_file)
        self._checkers = self._records.columns
        self._iterated = False
        self._finished = False
        self.rows = 0
        self.valid = 0
        self.rejected = 0
        self.duplicates = 0
        self.reasons: Counter[str] = Counter()
        self.normalisations: Counter[str] = Counter()

    @property
    def csv_file(self) -> BookingCsv:
        """The opened file: its layout, how it is decoded, its data."""
        return self._csv

    @property
    def records(self) -> RecordChecker:
        """The record checker, whose per-column caches the run fills."""
        return self._records

    @property
    def duplicate_memory_keys(self) -> int:
        return self._duplicate_memory_keys

    @property
    def encoding(self) -> str:
        return self._csv.decoder.label

    @property
    def compression(self) -> str | None:
        return self._csv.compression

    @property
    def line_endings(self) -> str | None:
        return self._csv.line_endings

    @property
    def delimiter(self) -> str:
        return self._csv.delimiter

    @property
    def has_outcome(self) -> bool:
        return self._csv.has_outcome

    @property
    def fields(self) -> tuple[str, ...]:
        """The source fields the file has, in ``SOURCE_FIELDS`` order."""
        return self._csv.fields

    @property
    def unknown_columns(self) -> list[str]:
        return list(self._csv.unknown_columns)

    @property
    def ignored_columns(self) -> int:
        return self._csv.ignored_columns

    @property
    def summary(self) -> FileSummary:
        if not self._finished:
            raise RuntimeError("the summary exists once every row has been read")
        normalisations = dict(sorted(self.normalisations.items()))
        if self._csv.blank_lines:
            normalisations[BLANK_LINES_SKIPPED] = self._csv.blank_lines
        return FileSummary(
            file=self.name,
            encoding=self.encoding,
            compression=self.compression,
            line_endings=self.line_endings,
            delimiter=self.delimiter,
            rows=self.rows,
            valid=self.valid,
            rejected=self.rejected,
            duplicates=self.duplicates,
            reasons=dict(sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))),
            normalisations=normalisations,
            unknown_columns=self.unknown_columns,
            ignored_columns=self.ignored_columns,
            has_outcome=self.has_outcome,
        )

    def __iter__(self) -> Iterator[ValidRow | RejectedRecord]:
        if self._iterated:
            raise RuntimeError("a ValidationRun can be iterated once")
        self._iterated = True
        return self._outcomes()

    # One loop over every row, its branches the outcomes a row can have: one function on purpose.
    def _outcomes(self) -> Iterator[ValidRow | RejectedRecord]:  # noqa: C901
        # The hot path: a row whose every cell is a value already seen as valid costs one
        # dictionary look-up per cell; anything else goes to ``_check_slowly``.
        csv_file = self._csv
        fields = csv_file.fields
        names = (*fields, OUTCOME_FIELD) if not csv_file.has_outcome else fields
        padding = (None,) if not csv_file.has_outcome else ()
        width = csv_file.width
        pick = itemgetter(*csv_file.positions)
        # The usual file has the columns in contract order: its cells need no picking (map
        # stops at the last column the contract knows).
        in_order = csv_file.positions == tuple(range(len(csv_file.positions)))
        fast_lookups = [checker.fast for checker in self._checkers]
        lookup = dict.get
        index = DuplicateIndex(self._duplicate_memory_keys)
        memory_keys = index.memory_keys
        seen = index.recent
        remember = seen.add
        reader = csv_file.csv_reader()
        row_number = valid = duplicates = blank = 0
        try:
            while True:
                try:
                    for cells in reader:
                        if len(cells) == width:
                            values = tuple(
                                map(lookup, fast_lookups, cells if in_order else pick(cells))
                            )
                            if None not in values:
                                row_number += 1
                                values += padding
                                key = hash(values)
                                if key in seen:
                                    duplicates += 1
                                    duplicate = True
                                elif index.spilled:
                                    duplicate = index.seen_before(key)
                                    duplicates += duplicate
                                else:
                                    remember(key)
                                    duplicate = False
                                    if len(seen) >= memory_keys:
                                        index.spill()
                                valid += 1
                                yield ValidRow(
                                    row_number, dict(zip(names, values, strict=False)), duplicate
                                )
                                continue
                        if is_blank(cells):
                            blank += 1
                            continue
                        row_number += 1
                        outcome = self._check_slowly(row_number, cells)
                        if type(outcome) is RejectedRecord:
                            self.rejected += 1
                            self.reasons.update(outcome.reasons)
                            yield outcome
                            continue
                        values, normalisations = outcome  # type: ignore[misc]
                        values += padding
                        self.normalisations.update(normalisations)
                        key = hash(values)
                        if key in seen:
                            duplicates += 1
                            duplicate = True
                        elif index.spilled:
                            duplicate = index.seen_before(key)
                            duplicates += duplicate
                        else:
                            remember(key)
                            duplicate = False
                            if len(seen) >= memory_keys:
                                index.spill()
                        valid += 1
                        yield ValidRow(
                            row_number, dict(zip(names, values, strict=False)), duplicate
                        )
                    break
                except csv.Error as exc:
                    row_number += 1
                    yield self._reject_malformed(row_number, exc)
        finally:
            self.duplicate_keys_spilled = index.spilled
            index.close()
            self.rows, self.valid, self.duplicates = row_number, valid, duplicates
            csv_file.blank_lines += blank
            csv_file.close()
        self._finished = True

    def start_reading(self) -> None:
        """Mark the run as read by something other than iterating it (it is read once); that
        reader then ends with ``take_counts``."""
        if self._iterated:
            raise RuntimeError("a ValidationRun can be iterated once")
        self._iterated = True

    def take_counts(self, counts: RunCounts) -> None:
        """Finish the run with the counts of every row of the file, read another way."""
        self.rows, self.valid = counts.rows, counts.valid
        self.rejected, self.duplicates = counts.rejected, counts.duplicates
        self.reasons.update(counts.reasons)
        self.normalisations.update(counts.normalisations)
        self.duplicate_keys_spilled = counts.duplicate_keys_spilled
        self._csv.blank_lines += counts.blank
        self._iterated = self._finished = True

    def rejected_record(self, row_number: int, rejection: Rejection) -> RejectedRecord:
        return RejectedRecord(
            row_number, rejection.raw, rejection.reasons, rejection.message(self.name, row_number)
        )

    def _reject_malformed(self, row_number: int, error: csv.Error) -> RejectedRecord:
        """A record the reader could not read: rejected with its original line, counted."""
        malformed = self._csv.malformed(error)
        outcome = self._check_slowly(row_number, malformed)
        assert isinstance(outcome, RejectedRecord)
        self.rejected += 1
        self.reasons.update(outcome.reasons)
        return outcome

    def _check_slowly(
        self, row_number: int, cells: list[str] | MalformedRecord
    ) -> RejectedRecord | tuple[tuple[Any, ...], list[str]]:
        outcome = self._records.check(cells)
        if isinstance(outcome, Rejection):
            return self.rejected_record(row_number, outcome)
        return outcome


def validate_stream(
    stream: BinaryIO | IO[bytes],
    *,
    source_file: str,
    name: str | None = None,
    duplicate_memory_keys: int = DEFAULT_MEMORY_KEYS,
) -> ValidationRun:
    """Open ``stream`` and return the run over its rows (raises UnreadableFileError)."""
    display = name or source_file
    return ValidationRun(
        open_booking_csv(stream, display),
        source_file=source_file,
        name=display,
        duplicate_memory_keys=duplicate_memory_keys,
    )


def rejected_row_dict(
    record: RejectedRecord, *, source_file: str, rejected_at: datetime
) -> dict[str, Any]:
    """The ``schema.RejectedRow`` fields of a rejected record, as a plain dict."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source_file": source_file,
        "row_number": record.row_number,
        "raw": record.raw,
        "reason": record.reasons[0],
        "reasons": record.reasons,
        "message": record.message,
        "rejected_at": firehose_timestamp(rejected_at),
    }


class ProcessRun:
    """``("valid", enriched record)`` and ``("rejected", RejectedRow dict)`` in input order."""

    def __init__(
        self, run: ValidationRun, *, booking_date: date | None, ingested_at: datetime
    ) -> None:
        self.validation = run
        self.booking_date = booking_date
        self.ingested_at = ingested_at
        self._outcomes = self._generate()

    @property
    def summary(self) -> FileSummary:
        return self.validation.summary

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self._outcomes

    def __next__(self) -> tuple[str, dict[str, Any]]:
        return next(self._outcomes)

    def _generate(self) -> Iterator[tuple[str, dict[str, Any]]]:
        from booking_core.enrichment import EnrichmentContext, enrich_row

        run = self.validation
        context = EnrichmentContext(
            source_file=run.source_file,
            ingested_at=self.ingested_at,
            booking_date=self.booking_date,
        )
        source_file = run.source_file
        for outcome in run:
            if type(outcome) is ValidRow:
                yield "valid", enrich_row(outcome, context)
            else:
                yield (
                    "rejected",
                    rejected_row_dict(
                        outcome,  # type: ignore[arg-type]
                        source_file=source_file,
                        rejected_at=self.ingested_at,
                    ),
                )


def process_stream(
    stream: BinaryIO | IO[bytes],
    *,
    source_file: str,
    booking_date: date | None = None,
    ingested_at: datetime | None = None,
    name: str | None = None,
    duplicate_memory_keys: int = DEFAULT_MEMORY_KEYS,
) -> ProcessRun:
    """Validate and enrich ``stream``; ``.summary`` of the result once it has been iterated."""
    run = validate_stream(
        stream, source_file=source_file, name=name, duplicate_memory_keys=duplicate_memory_keys
    )
    return ProcessRun(run, booking_date=booking_date, ingested_at=ingested_at or datetime.now(UTC))


__all__ = [
    "ProcessRun",
    "RejectedRecord",
    "UnreadableFileError",
    "ValidRow",
    "ValidationRun",
    "process_stream",
    "validate_stream",
]
