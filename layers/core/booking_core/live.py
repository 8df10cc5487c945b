"""Live bookings (the HTTP API): the same checks and enrichment as booking files.

A request is validated through the same CSV reader and validator as a file, so a booking the API
accepts is exactly a booking a file would deliver, with the same reason codes when it is not.
Before the reader sees them, a booking that is not an object, names a field the contract does
not have, holds a list or an object, holds a control character (a line break would split the
CSV record) or has no value at all (the reader skips blank records) is rejected on its own.

An accepted booking travels to Firehose as a *live record* (``live_record``): its validated
values and where it came from, not yet enriched. The delivery stream's transformation Lambda
(``booking_core.stream_transform``) checks it again and enriches it, so enrichment happens in
one place for every live booking, whoever put it to the stream.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.jsonl import firehose_timestamp
from booking_core.pipeline import RejectedRecord, ValidRow, validate_stream
from booking_core.schema import OUTCOME_FIELD, REQUIRED_FIELDS, SCHEMA_VERSION, SOURCE_FIELDS
from booking_core.validation import describe

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
    """Reasons and a message for a booking the CSV path must not see; None when it may."""
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
    if all(_blank(booking.get(name)) for name in SOURCE_FIELDS):
        reasons = [f"{name}:missing" for name in REQUIRED_FIELDS]
        return reasons, "the booking has no value"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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


def _cell(value: Any) -> Any:
    # JSON true/false reach the validator as the words it reads for 0/1 flags.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _as_csv(bookings: Sequence[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for booking in bookings:
        writer.writerow([_cell(booking.get(column)) for column in columns])
    return out.getvalue().encode()


def _checked(
    bookings: Sequence[dict[str, Any]], source_file: str
) -> list[ValidRow | RejectedRecord] | None:
    """One outcome per booking, in order; None if the reader did not see one record each."""
    columns = [f for f in SOURCE_FIELDS if f != OUTCOME_FIELD]
    if any(b.get(OUTCOME_FIELD) is not None for b in bookings):
        columns.append(OUTCOME_FIELD)
    run = validate_stream(io.BytesIO(_as_csv(bookings, columns)), source_file=source_file)
    outcomes = list(run)
    if [o.row_number for o in outcomes] != list(range(1, len(bookings) + 1)):
        return None
    return outcomes


def validate_bookings(bookings: Sequence[Any], source_file: str) -> LiveValidation:
    """Check every booking of a request; each is accepted or rejected by its position.

    Bookings with an outcome (``booking_complete``) and without one are read as two files: in a
    file that has the outcome column an empty outcome is an error, and a live booking may or may
    not know its outcome."""
    rejected: list[LiveRejection] = []
    groups: dict[bool, list[tuple[int, dict[str, Any]]]] = {False: [], True: []}
    for index, booking in enumerate(bookings):
        problems = _shape_problems(booking)
        if problems is not None:
            rejected.append(LiveRejection(index, *problems))
        else:
            groups[booking.get(OUTCOME_FIELD) is not None].append((index, booking))
    valid: list[ValidRow] = []
    for group in groups.values():
        if not group:
            continue
        outcomes = _checked([booking for _, booking in group], source_file)
        if outcomes is None:
            # Safety net: the reader must see one record per booking; if it did not, each
            # booking is read alone so that no outcome is ever given to another booking.
            outcomes = [_checked_alone(booking, source_file) for _, booking in group]
        for (index, _), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, RejectedRecord):
                message = outcome.message.removeprefix(f"{source_file}: row {outcome.row_number}: ")
                rejected.append(LiveRejection(index, list(outcome.reasons), message))
            else:
                valid.append(ValidRow(index + 1, outcome.values, False))
    rejected.sort(key=lambda item: item.index)
    valid.sort(key=lambda row: row.row_number)
    return LiveValidation(valid, rejected)


def _checked_alone(booking: dict[str, Any], source_file: str) -> ValidRow | RejectedRecord:
    outcomes = _checked([booking], source_file)
    if outcomes is not None:
        return outcomes[0]
    return RejectedRecord(1, "", ["row:malformed"], "the booking could not be read as one record")


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
