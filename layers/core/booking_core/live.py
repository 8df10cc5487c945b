"""Live bookings (the HTTP API): the same checks and enrichment as booking files.

Each value of a booking is checked by the same field validator as a file's cells
(``booking_core.validation``: the ``ColumnChecker`` the reader's record checker uses), given as
the text a CSV file would hold for it, so a booking the API accepts is exactly a booking a file
would deliver, with the same reason codes when it is not. Before that, a booking that is not an
object, names a field the contract does not have, holds a list or an object, or holds a control
character (a line break could not be in a file's cell unquoted) is rejected as such. The outcome
(``booking_complete``) is checked when the booking gives one: live bookings rarely know it.

An accepted booking travels to Firehose as a *live record* (``live_record``): its validated
values and where it came from, not yet enriched. The delivery stream's transformation Lambda
(``booking_core.stream_transform``) checks it again and enriches it, so enrichment happens in
one place for every live booking, whoever put it to the stream.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.jsonl import firehose_timestamp
from booking_core.pipeline import ValidRow
from booking_core.schema import OUTCOME_FIELD, SCHEMA_VERSION, SOURCE_FIELDS
from booking_core.validation import ColumnChecker, describe

# The members of a live record, in the order they are written.
LIVE_RECORD_KEYS: Final = ("schema_version", "source_file", "row_number", "received_at", "booking")
BOOKING_REASON_FIELD: Final = "booking"


@dataclass(frozen=True)
class LiveRejection:
    """A booking of the request that is not delivered: its position and every reason."""

    index: int
    reasons: list[str]
    message: str

    def errors(self) -> list[dict[str, str]]:
        """The reasons as ``{"field", "rule"}`` pairs (a reason code is ``field:rule``)."""
        pairs = []
        for reason in self.reasons:
            field, _, rule = reason.partition(":")
            pairs.append({"field": field, "rule": rule})
        return pairs


@dataclass(frozen=True)
class LiveValidation:
    """Valid rows (``row_number`` = position in the request + 1) and the rejections, both in
    request order."""

    valid: list[ValidRow]
    rejected: list[LiveRejection]


_CONTROL_CHARACTER: Final = re.compile(r"[\x00-\x1f\x7f]")


def _shape_problems(booking: Any) -> tuple[list[str], str] | None:
    """Reasons and a message for a booking that is not a flat object of booking fields; None
    when it is one (its values are then checked field by field)."""
    if not isinstance(booking, dict):
        reason = f"{BOOKING_REASON_FIELD}:not_an_object"
        return [reason], f"booking is a JSON {_json_type(booking)}, not an object"
    reasons: list[str] = []
    messages: list[str] = []
    for name, value in booking.items():
        if name not in SOURCE_FIELDS:
            reasons.append(f"{name}:unknown_field")
            messages.append(f"{name!r} is not a booking field")
        elif isinstance(value, dict | list):
            reasons.append(f"{name}:not_a_scalar")
            messages.append(f"{name} is a JSON {_json_type(value)}, not a value")
        elif isinstance(value, str) and _CONTROL_CHARACTER.search(value):
            reasons.append(f"{name}:control_character")
            messages.append(describe(name, "control_character", value))
    if reasons:
        return reasons, "; ".join(messages)
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _cell(value: Any) -> str:
    """A JSON value as the text a booking file's cell holds (what ``csv.writer`` writes for
    it); JSON true/false as the words the validator reads for 0/1 flags."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return value if isinstance(value, str) else repr(value)


# One checker per source field for the process: they remember the texts they have checked (a
# bounded cache), so a warm Lambda checks most values of a request with a dictionary look-up.
_CHECKERS: Final = {name: ColumnChecker(name) for name in SOURCE_FIELDS}


def _check(booking: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(values, reasons, details) of one booking, field by field as a file's row is checked;
    the outcome is checked only when the booking gives one."""
    values: dict[str, Any] = {}
    reasons: list[str] = []
    details: list[str] = []
    for name in SOURCE_FIELDS:
        raw = booking.get(name)
        if name == OUTCOME_FIELD and raw is None:
            values[name] = None
            continue
        cell = _cell(raw)
        result = _CHECKERS[name].check(cell)
        if result.rule is None:
            values[name] = result.value
        else:
            reasons.append(f"{name}:{result.rule}")
            details.append(describe(name, result.rule, cell))
    return values, reasons, details


def validate_bookings(bookings: Sequence[Any], source_file: str) -> LiveValidation:
    """Check every booking of a request; each is accepted or rejected by its position.

    ``source_file`` names the request in the records; the checks do not depend on it."""
    del source_file
    valid: list[ValidRow] = []
    rejected: list[LiveRejection] = []
    for index, booking in enumerate(bookings):
        problems = _shape_problems(booking)
        if problems is not None:
            rejected.append(LiveRejection(index, *problems))
            continue
        values, reasons, details = _check(booking)
        if reasons:
            rejected.append(LiveRejection(index, reasons, "; ".join(details)))
        else:
            valid.append(ValidRow(index + 1, values, False))
    return LiveValidation(valid, rejected)


def rejected_rows(
    bookings: Sequence[Any],
    rejections: Sequence[LiveRejection],
    source_file: str,
    rejected_at: datetime,
) -> list[dict[str, Any]]:
    """The ``schema.RejectedRow`` of each rejected booking: ``raw`` is the booking as sent
    (JSON), ``row_number`` its position in the request + 1."""
    stamp = firehose_timestamp(rejected_at)
    return [
        {
            "schema_version": SCHEMA_VERSION,
            "source_file": source_file,
            "row_number": rejection.index + 1,
            "raw": orjson.dumps(bookings[rejection.index]).decode(),
            "reason": rejection.reasons[0],
            "reasons": rejection.reasons,
            "message": rejection.message,
            "rejected_at": stamp,
        }
        for rejection in rejections
    ]


def live_record(row: ValidRow, source_file: str, received_at: datetime) -> dict[str, Any]:
    """What the API puts to the delivery stream for an accepted booking (members in
    ``LIVE_RECORD_KEYS`` order); ``received_at`` is when the request arrived."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source_file": source_file,
        "row_number": row.row_number,
        "received_at": firehose_timestamp(received_at),
        "booking": {name: value for name, value in row.values.items() if value is not None},
    }


def enrich_bookings(
    valid: Sequence[ValidRow], source_file: str, received_at: datetime
) -> list[dict[str, Any]]:
    """Enriched records, not yet scored, booked on the day they were received."""
    context = EnrichmentContext(
        source_file=source_file, ingested_at=received_at, booking_date=received_at.date()
    )
    return [unscored(enrich_row(row, context)) for row in valid]


def unscored(record: dict[str, Any]) -> dict[str, Any]:
    """An enriched record with the score members a delivered record has, empty."""
    record["booking_complete_probability"] = None
    record["model_version"] = None
    return record
