"""Whole records: a row of cells checked against the file's layout and the contract.

``RecordChecker.check(cells)`` gives the row's typed values (``fields`` order) with the
normalisations applied to them, or a ``Rejection``: the record's text and every reason
(``field:rule``, ``row:field_count``, ``row:repeated_header``, ``row:malformed``,
``row:unterminated_quote``) with a phrase
a person can act on. The row number is not the checker's business: a rejected record's message
is made by whoever numbers the rows (``Rejection.message``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from booking_core.reader import MALFORMED, MalformedRecord, fits_header, raw_text
from booking_core.validation import ColumnChecker, describe


class RecordLayout(Protocol):
    """How a file lays its records out (``booking_core.reader.BookingCsv``)."""

    fields: tuple[str, ...]
    positions: tuple[int, ...]
    width: int
    needed_width: int
    header_names: list[str]
    delimiter: str
    line_endings: str | None  # crlf, lf, cr, mixed or None, as the file's first chunk shows


@dataclass(frozen=True, slots=True)
class Rejection:
    raw: str
    reasons: list[str]
    details: list[str]

    def message(self, name: str, row_number: int) -> str:
        return f"{name}: row {row_number}: " + "; ".join(self.details)


class RecordChecker:
    """Checks records of one file; the per-column checkers remember the texts they have seen."""

    def __init__(self, layout: RecordLayout) -> None:
        self.layout = layout
        self.columns = [ColumnChecker(field) for field in layout.fields]

    def check(
        self, cells: list[str] | MalformedRecord
    ) -> Rejection | tuple[tuple[Any, ...], list[str]]:
        """(values, normalisations) of a valid record, else its ``Rejection``."""
        layout = self.layout
        if isinstance(cells, MalformedRecord):
            if cells.reason == MALFORMED:
                return Rejection(
                    cells.raw, [MALFORMED], [f"unreadable CSV record ({cells.problem})"]
                )
            return Rejection(cells.raw, [cells.reason], [cells.problem])
        raw = raw_text(cells, layout.delimiter)
        if not fits_header(cells, layout.width, layout.needed_width):
            return Rejection(
                raw,
                ["row:field_count"],
                [f"{len(cells)} fields where the header has {layout.width}"],
            )
        names = layout.header_names
        if len(cells) >= len(names) and all(
            cell.strip().lower().replace(" ", "_") == name
            for cell, name in zip(cells, names, strict=False)
            if name
        ):
            return Rejection(
                raw, ["row:repeated_header"], ["the header line repeated as a data row"]
            )
        values: list[Any] = []
        normalisations: list[str] = []
        reasons: list[str] = []
        details: list[str] = []
        for checker, position in zip(self.columns, layout.positions, strict=True):
            cell = cells[position]
            result = checker.check(cell)
            if result.rule is not None:
                reasons.append(f"{checker.field}:{result.rule}")
                details.append(describe(checker.field, result.rule, cell))
            else:
                values.append(result.value)
                normalisations.extend(result.normalisations)
        if reasons:
            return Rejection(raw, reasons, details)
        return tuple(values), normalisations
