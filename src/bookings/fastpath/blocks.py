"""Validate and enrich a file a block of lines at a time, writing its records as JSON Lines.

A block is about one chunk of text (64 KiB, a thousand rows). ``BlockEncoder.encode`` splits
every line of a block into the member groups of a record (``enriched_json``) with one
regular expression call, and maps each group's text to its pre-serialised piece with one
dictionary look-up per group: a text is checked (``validation``) the first time it is seen,
and a row every one of whose groups is valid as written costs no Python bytecode of its own.
Any other row (to normalise, to reject, blank, or a line the expression does not split) goes
through ``records.RecordChecker`` as the csv module reads it, so the outcome is the same as
reading the file row by row.

What a block cannot know alone is left to ``BlockSequencer``, which sees the blocks in file
order: the row numbers, which rows are exact copies of earlier ones (each valid row has a key,
the hash of its group pieces: equal values, equal pieces) and where the block's bytes go in the
output. ``EncodedBlock.finish`` then adds the provenance pieces (row number and duplicate flag)
and joins the lines. The split lets a file's blocks be encoded by several processes
(``bookings.fastpath.parallel``) and sequenced by one.

A block holding a double quote is not encoded (``encode`` returns None): a quoted field may
hold a line break, so from there on the csv module reads the file (``encode_records``).
"""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import add
from typing import Any, Final, cast

from booking_core.duplicates import DEFAULT_MEMORY_KEYS, DuplicateIndex
from booking_core.enrichment import RECORD_GROUPS
from booking_core.reader import MalformedRecord, is_blank, truncate_raw
from booking_core.records import RecordChecker, RecordLayout, Rejection

from bookings.fastpath.enriched_json import BOOKING, FLIGHT_TIME, STAY, RecordFragments

# Distinct group texts remembered per group (the pieces they map to are bounded separately).
MAX_TEXTS_PER_GROUP: Final = 50_000
# Rows per block when the csv module reads the records.
CSV_BLOCK_ROWS: Final = 1000
# Group pieces of a row in line order (after the provenance piece): the return date comes
# after the stay.
_RETURN_AT: Final = FLIGHT_TIME


def record_pattern(layout: RecordLayout, line_endings: str | None = None) -> re.Pattern[str] | None:
    """A line of the file as its groups of cells, or None when the columns are not in contract
    order (their lines then all go through the csv module).

    For files whose lines end in CRLF or in LF (``line_endings``), a cell but the last is
    anything but the delimiter, which the regular expression engine scans fastest: a line break
    inside such a cell makes a match span two lines (``BlockEncoder.encode`` then counts too few
    matches), and a carriage return on its own is found by counting them
    (``_line_breaks_as_expected``). Other files get cells that exclude line breaks themselves.
    """
    if layout.positions != tuple(range(len(layout.fields))):
        return None
    delimiter = re.escape(layout.delimiter)
    if line_endings == "crlf":
        cell, last_cell, end = f"[^{delimiter}]*+", f"[^{delimiter}\\r\\n]*+", "(?:\\r$|\\Z)"
    elif line_endings == "lf":
        cell, last_cell, end = f"[^{delimiter}]*+", f"[^{delimiter}\\n]*+", "$"
    else:
        cell = last_cell = f"[^{delimiter}\\r\\n]*+"
        end = "\\r?$"
    cells = [cell for _, names in RECORD_GROUPS for name in names if name in layout.fields] + [
        cell
    ] * (layout.width - len(layout.fields))
    cells[-1] = last_cell
    groups, at = [], 0
    for _, names in RECORD_GROUPS:
        width = sum(name in layout.fields for name in names)
        groups.append("(" + delimiter.join(cells[at : at + width]) + ")")
        at += width
    trailing = "".join(delimiter + extra for extra in cells[at:])
    return re.compile("^" + delimiter.join(groups) + trailing + end, re.MULTILINE)


@dataclass(slots=True)
class BlockInfo:
    """What the sequencer needs of a block (small enough to send between processes)."""

    rows: int  # data rows: valid + rejected (blank lines are not rows)
    valid_rows: list[int] | None  # positions of the valid rows among ``rows``; None: all
    keys: list[int]  # one per valid row: equal keys, equal rows
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    normalisations: Counter[str] = field(default_factory=Counter)
    blank: int = 0
    pieces_length: int | None = None  # bytes of the lines without their provenance pieces

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Keys travel as 8 bytes each: pickling them as integers costs several times as much.
        return _restore_info, (
            self.rows,
            self.valid_rows,
            array("q", self.keys).tobytes(),
            self.rejected,
            dict(self.normalisations) if self.normalisations else None,
            self.blank,
            self.pieces_length,
        )


def _restore_info(
    rows: int,
    valid_rows: list[int] | None,
    keys: bytes,
    rejected: list[tuple[int, Rejection]],
    normalisations: dict[str, int] | None,
    blank: int,
    pieces_length: int | None,
) -> BlockInfo:
    return BlockInfo(
        rows,
        valid_rows,
        array("q", keys).tolist(),
        rejected,
        Counter(normalisations or {}),
        blank,
        pieces_length,
    )


class EncodedBlock:
    """The valid rows of a block as columns of pieces, waiting for their row numbers."""

    __slots__ = ("columns", "info", "templates")

    def __init__(
        self, info: BlockInfo, columns: list[list[bytes]], templates: tuple[bytes, bytes]
    ) -> None:
        self.info = info
        self.columns = columns
        self.templates = templates

    def measure(self) -> BlockInfo:
        """``info`` with ``pieces_length`` filled in (what placing the block in a file needs)."""
        # Joining a column is quicker than adding up the lengths of its pieces.
        self.info.pieces_length = sum(map(len, map(b"".join, self.columns)))
        return self.info

    def finish(self, first_row: int, duplicates: Sequence[int]) -> bytes:
        """The block's JSON Lines, its first row being ``first_row`` of the file."""
        info = self.info
        count = len(info.keys)
        numbers: Sequence[int]
        if info.valid_rows is None:
            numbers = range(first_row, first_row + count)
        else:
            numbers = [first_row + position for position in info.valid_rows]
        unique, duplicate = self.templates
        provenance = list(map(unique.__mod__, zip(numbers, numbers, strict=True)))
        for position in duplicates:
            number = numbers[position]
            provenance[position] = duplicate % (number, number)
        # The pieces in line order, column by column (quicker than zipping them row by row).
        width = len(self.columns) + 1
        pieces: list[bytes] = [b""] * (count * width)
        pieces[::width] = provenance
        for position, column in enumerate(self.columns, start=1):
            pieces[position::width] = column
        return b"".join(pieces)


class _PiecesByText(dict[str, bytes | None]):
    """A group's cells as written -> its piece, or None when they are not valid as written."""

    __slots__ = ("_make", "invalid_seen")

    def __init__(self, make: Any) -> None:
        super().__init__()
        self._make = make
        # Until a text maps to None, a block's pieces need no looking through for None.
        self.invalid_seen = False

    def __missing__(self, text: str) -> bytes | None:
        piece: bytes | None = self._make(text)
        if piece is None:
            self.invalid_seen = True
        if len(self) >= MAX_TEXTS_PER_GROUP:
            self.clear()
        self[text] = piece
        return piece


class BlockEncoder:
    """Encodes the blocks of one file (see the module's description)."""

    def __init__(
        self, layout: RecordLayout, fragments: RecordFragments, records: RecordChecker
    ) -> None:
        self.layout = layout
        self.fragments = fragments
        self.records = records
        self.line_endings = layout.line_endings
        self.pattern = record_pattern(layout, self.line_endings)
        self._templates: tuple[bytes, bytes] = fragments.provenance_templates  # type: ignore[assignment]
        self._tables = [
            _PiecesByText(lambda text, group=group: self._piece_of_text(group, text))
            for group in range(len(RECORD_GROUPS))
        ]
        self._lookups = [table.__getitem__ for table in self._tables]

    def _piece_of_text(self, group: int, text: str) -> bytes | None:
        positions = self.fragments.group_positions[group]
        cells = text.split(self.layout.delimiter)
        values = []
        for position, cell in zip(positions, cells, strict=True):
            result = self.records.columns[position].check(cell)
            if result.rule is not None or result.normalisations:
                return None
            values.append(result.value)
        return self.fragments.group_piece(group, tuple(values))

    def encode(self, text: str) -> EncodedBlock | None:
        """A block of whole lines; None when it holds a double quote (see the module)."""
        if '"' in text:
            return None
        if self.pattern is not None:
            matches = self.pattern.findall(text)
            newlines = text.count("\n")
            lines = newlines + (not text.endswith("\n"))
            if len(matches) == lines and self._line_breaks_as_expected(text, newlines):
                pieces = [
                    list(map(lookup, texts))
                    for lookup, texts in zip(self._lookups, zip(*matches, strict=True), strict=True)
                ]
                if not any(
                    table.invalid_seen and None in column
                    for table, column in zip(self._tables, pieces, strict=True)
                ):
                    valid = cast(list[list[bytes]], pieces)
                    keys = list(map(hash, zip(*valid, strict=True)))
                    info = BlockInfo(len(keys), None, keys)
                    return EncodedBlock(info, self._columns(valid), self._templates)
                return self._mixed_block(pieces, text)
        return self._encode_lines(io.StringIO(text, newline="").readlines())

    def _line_breaks_as_expected(self, text: str, newlines: int) -> bool:
        """No carriage return but those ending lines (every line, in a CRLF file)."""
        if self.line_endings == "crlf":
            return text.count("\r") == newlines
        if self.line_endings == "lf":
            return "\r" not in text
        return True

    def _columns(self, pieces: list[list[bytes]]) -> list[list[bytes]]:
        """The group pieces of valid rows, with their return dates, in line order."""
        returns = self._returns(pieces[BOOKING], pieces[STAY])
        return [*pieces[:_RETURN_AT], returns, *pieces[_RETURN_AT:]]

    def _mixed_block(self, pieces: list[list[Any]], text: str) -> EncodedBlock:
        """Some rows are not valid as written: those go through the record checker."""
        rows = list(zip(*pieces, strict=True))
        lines = text.split("\n")
        builder = _Builder(self)
        for row, line in zip(rows, lines, strict=False):
            if None in row:
                builder.add_cells(self._cells(line))
            else:
                builder.add_pieces(row)
        return builder.build()

    def _encode_lines(self, lines: list[str]) -> EncodedBlock:
        builder = _Builder(self)
        pattern, lookups = self.pattern, self._lookups
        for line in lines:
            match = pattern.match(line) if pattern is not None else None
            if match is not None:
                texts = match.groups()
                row = tuple(lookup(text) for lookup, text in zip(lookups, texts, strict=True))
                if None not in row:
                    builder.add_pieces(row)  # type: ignore[arg-type]
                    continue
            builder.add_cells(self._cells(line))
        return builder.build()

    def _cells(self, line: str) -> list[str] | MalformedRecord:
        try:
            return next(csv.reader([line], delimiter=self.layout.delimiter), [])
        except csv.Error as exc:
            return MalformedRecord(truncate_raw(line), str(exc))

    def encode_records(self, records: Iterable[list[str] | MalformedRecord]) -> EncodedBlock:
        """A block of records as the csv module read them (cells, or a record it could not)."""
        builder = _Builder(self)
        for cells in records:
            builder.add_cells(cells)
        return builder.build()

    def _returns(self, booking: list[bytes], stay: list[bytes]) -> list[bytes]:
        fragments = self.fragments
        if fragments.booking_date is None:
            return [fragments.no_return] * len(booking)
        days = map(
            add,
            map(fragments.lead_days.__getitem__, booking),
            map(fragments.stay_days.__getitem__, stay),
        )
        return list(map(fragments.returns.__getitem__, days))


class _Builder:
    """Collects a block row by row (rows that are not all valid as written)."""

    def __init__(self, encoder: BlockEncoder) -> None:
        self.encoder = encoder
        self.rows = 0
        self.valid: list[tuple[bytes, ...]] = []
        self.valid_rows: list[int] = []
        self.rejected: list[tuple[int, Rejection]] = []
        self.normalisations: Counter[str] = Counter()
        self.blank = 0

    def add_pieces(self, pieces: tuple[bytes, ...]) -> None:
        self.valid.append(pieces)
        self.valid_rows.append(self.rows)
        self.rows += 1

    def add_cells(self, cells: list[str] | MalformedRecord) -> None:
        if not isinstance(cells, MalformedRecord) and is_blank(cells):
            self.blank += 1
            return
        outcome = self.encoder.records.check(cells)
        if isinstance(outcome, Rejection):
            self.rejected.append((self.rows, outcome))
            self.rows += 1
            return
        values, normalisations = outcome
        self.normalisations.update(normalisations)
        self.add_pieces(self.encoder.fragments.pieces_of_values(values))

    def build(self) -> EncodedBlock:
        columns: list[list[bytes]] = [list(column) for column in zip(*self.valid, strict=True)]
        if not columns:
            columns = [[] for _ in range(len(RECORD_GROUPS))]
        info = BlockInfo(
            rows=self.rows,
            valid_rows=None if len(self.valid_rows) == self.rows else self.valid_rows,
            keys=list(map(hash, self.valid)),
            rejected=self.rejected,
            normalisations=self.normalisations,
            blank=self.blank,
        )
        return EncodedBlock(info, self.encoder._columns(columns), self.encoder._templates)


@dataclass(frozen=True, slots=True)
class Placement:
    first_row: int  # the file's row number of the block's first row
    duplicates: list[int]  # positions, among the block's valid rows, of exact copies
    offset: int  # where the block's lines start in the output (when lengths are given)


def _digits_in_range(start: int, stop: int) -> int:
    """Decimal digits written for every integer of ``range(start, stop)`` (start >= 1)."""
    total, low, digits = 0, 1, 1
    while low < stop:
        high = low * 10
        first, last = max(start, low), min(stop, high)
        if first < last:
            total += (last - first) * digits
        low, digits = high, digits + 1
    return total


def provenance_digits(numbers: range | Sequence[int]) -> int:
    """Digits of the row numbers in their provenance pieces (``%08d`` and ``%d``)."""
    if isinstance(numbers, range):
        start, stop = numbers.start, numbers.stop
        small = max(0, min(stop, 10**8) - start)  # numbers padded to eight digits
        return small * 8 + _digits_in_range(max(start, 10**8), stop) + _digits_in_range(start, stop)
    return sum(max(8, len(str(number))) + len(str(number)) for number in numbers)


class BlockSequencer:
    """Numbers the rows of a file's blocks, finds exact duplicates and places the blocks.

    Blocks must be placed in file order. The counts reconcile with the file's summary.
    """

    def __init__(
        self, fragments: RecordFragments, *, duplicate_memory_keys: int = DEFAULT_MEMORY_KEYS
    ) -> None:
        self.provenance_lengths = fragments.provenance_lengths
        self.index = DuplicateIndex(duplicate_memory_keys)
        self.rows = self.valid = self.rejected = self.duplicates = self.blank = 0
        self.offset = 0
        self.reasons: Counter[str] = Counter()
        self.normalisations: Counter[str] = Counter()

    def place(self, info: BlockInfo) -> Placement:
        first_row = self.rows + 1
        self.rows += info.rows
        self.valid += len(info.keys)
        self.rejected += len(info.rejected)
        for _, rejection in info.rejected:
            self.reasons.update(rejection.reasons)
        self.normalisations.update(info.normalisations)
        self.blank += info.blank
        duplicates = self._duplicates(info.keys)
        self.duplicates += len(duplicates)
        offset = self.offset
        if info.pieces_length is not None:
            numbers: range | list[int]
            if info.valid_rows is None:
                numbers = range(first_row, first_row + len(info.keys))
            else:
                numbers = [first_row + position for position in info.valid_rows]
            unique, duplicate = self.provenance_lengths
            self.offset += (
                info.pieces_length
                + unique * len(info.keys)
                - (unique - duplicate) * len(duplicates)
                + provenance_digits(numbers)
            )
        return Placement(first_row, duplicates, offset)

    @property
    def duplicate_keys_spilled(self) -> int:
        """Keys of distinct rows moved from memory to disk (``booking_core.duplicates``)."""
        return self.index.spilled

    def _duplicates(self, keys: list[int]) -> list[int]:
        index = self.index
        if index.spilled:
            return list(compress(range(len(keys)), map(index.seen_before, keys)))
        # One look-up per key: the set outgrows the processor's caches, and a key's look-up and
        # insertion in one step cost one miss, not two.
        recent = index.recent
        remember = recent.add
        duplicates = []
        for position, key in enumerate(keys):
            if key in recent:
                duplicates.append(position)
            else:
                remember(key)
        if len(recent) >= index.memory_keys:
            index.spill()
        return duplicates

    def close(self) -> None:
        self.index.close()


__all__ = [
    "BlockEncoder",
    "BlockInfo",
    "BlockSequencer",
    "EncodedBlock",
    "Placement",
]
