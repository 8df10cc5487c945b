"""Live bookings sent one by one (the HTTP API): the same checks and enrichment as booking files.

A request is validated through the same CSV reader and validator as a file, so a booking the API
accepts is exactly a booking a file would deliver, with the same reason codes when it is not.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.pipeline import RejectedRecord, ValidRow, validate_stream
from booking_core.schema import OUTCOME_FIELD, SOURCE_FIELDS


@dataclass(frozen=True)
class LiveValidation:
    """Valid rows (``row_number`` = position in the request + 1) and the rejections, each
    ``{"index", "reasons", "message"}`` by position in the request."""

    valid: list[ValidRow]
    rejected: list[dict[str, Any]]


def _shape_errors(booking: Any) -> list[str]:
    if not isinstance(booking, dict):
        return ["booking:not_an_object"]
    errors = [f"{name}:unknown_field" for name in booking if name not in SOURCE_FIELDS]
    errors += [
        f"{name}:not_a_scalar" for name, value in booking.items() if isinstance(value, dict | list)
    ]
    return errors


def _as_csv(bookings: list[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for booking in bookings:
        writer.writerow(["" if booking.get(c) is None else booking.get(c) for c in columns])
    return out.getvalue().encode()


def validate_bookings(bookings: list[Any], source_file: str) -> LiveValidation:
    """Check every booking of a request; a non-object or unknown field is a rejection too."""
    rejected: list[dict[str, Any]] = []
    candidates: list[tuple[int, dict[str, Any]]] = []
    for index, booking in enumerate(bookings):
        errors = _shape_errors(booking)
        if errors:
            rejected.append({"index": index, "reasons": errors, "message": ", ".join(errors)})
        else:
            candidates.append((index, booking))
    valid: list[ValidRow] = []
    if candidates:
        columns = [f for f in SOURCE_FIELDS if f != OUTCOME_FIELD]
        if any(b.get(OUTCOME_FIELD) is not None for _, b in candidates):
            columns.append(OUTCOME_FIELD)
        run = validate_stream(
            io.BytesIO(_as_csv([b for _, b in candidates], columns)), source_file=source_file
        )
        for outcome in run:
            index = candidates[outcome.row_number - 1][0]
            if isinstance(outcome, RejectedRecord):
                rejected.append(
                    {"index": index, "reasons": outcome.reasons, "message": outcome.message}
                )
            else:
                valid.append(ValidRow(index + 1, outcome.values, False))
    rejected.sort(key=lambda item: int(item["index"]))
    return LiveValidation(valid, rejected)


def enrich_bookings(
    valid: list[ValidRow], source_file: str, received_at: datetime
) -> list[dict[str, Any]]:
    """Enriched records, not yet scored, booked on the day they were received."""
    context = EnrichmentContext(
        source_file=source_file, ingested_at=received_at, booking_date=received_at.date()
    )
    records = [enrich_row(row, context) for row in valid]
    for record in records:
        record["booking_complete_probability"] = None
        record["model_version"] = None
    return records
