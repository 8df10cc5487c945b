"""TransformStream: the delivery stream's data-transformation Lambda, without AWS.

Firehose hands the function a batch of records (``recordId``, base64 ``data``) and needs every
one back, with the same ``recordId``, a ``result`` (``Ok``, ``Dropped`` or ``ProcessingFailed``)
and base64 ``data`` (Firehose developer guide, "Required parameters for data transformation").
What arrives:

- a *scored record* from the file workflow (the Deliver step): every member of
  ``schema.ScoredBooking``, enriched and scored already. It passes through unchanged, byte for
  byte (``Ok``).
- a *live record* from the HTTP API (``booking_core.live.live_record``): a booking's validated
  values and its provenance. It is checked again with the same validator as files (anything may
  put records to the stream) and enriched here (``Ok``, the data replaced by the scored record's
  members, the score empty).
- anything else, or a live record that fails its checks: ``ProcessingFailed`` with its reasons.
  Firehose writes such a record, as it arrived, under the stream's error prefix
  (``processing-failed/``); the reasons go to the function's log with the record id, and the
  handler counts them in a metric. Nothing is ever ``Dropped``.

The response of a synchronous Lambda invocation is limited to 6 MB. Enriching makes a record
larger, so the response is sized as it is built: a record whose enriched form would not fit is
answered ``ProcessingFailed`` (``response:size_limit``) with its original data, which always
fits since it came in the request. The stream's processor buffer (``BufferSizeInMBs`` in
template.yaml) is chosen so that this never happens; the unit tests check that bound.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.jsonl import dumps_line
from booking_core.live import LIVE_RECORD_KEYS, unscored, validate_bookings
from booking_core.pipeline import ValidRow
from booking_core.schema import SCHEMA_VERSION, ScoredBooking

OK: Final = "Ok"
PROCESSING_FAILED: Final = "ProcessingFailed"
# Lambda's synchronous response limit is 6 MB; the margin covers the response's own JSON.
MAX_RESPONSE_BYTES: Final = 6 * 1024 * 1024 - 64 * 1024
# {"recordId":"","result":"ProcessingFailed","data":""}, and a comma.
RECORD_OVERHEAD_BYTES: Final = 56
SCORED_KEYS: Final = frozenset(ScoredBooking.model_fields)
_LIVE_KEYS: Final = frozenset(LIVE_RECORD_KEYS)
_FIREHOSE_TIMESTAMP: Final = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z\Z")
MAX_SOURCE_FILE_CHARS: Final = 1024


@dataclass(frozen=True)
class StreamRecord:
    """One record of the batch, its data decoded."""

    record_id: str
    data: bytes


@dataclass(frozen=True)
class Failure:
    record_id: str
    reasons: list[str]


@dataclass
class TransformOutcome:
    """The response's records, in the order they came, and what happened to them."""

    records: list[dict[str, str]] = field(default_factory=list)
    enriched: int = 0
    passed_through: int = 0
    failures: list[Failure] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        return {"records": self.records}

    @property
    def failed(self) -> int:
        return len(self.failures)


def _b64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


@dataclass
class _Pending:
    """A live record waiting for the batch's validation."""

    position: int
    source_file: str
    row_number: int
    received_at: datetime
    booking: Any


def _live_problems(record: dict[str, Any]) -> tuple[list[str], _Pending | None]:
    reasons = []
    if record["schema_version"] != SCHEMA_VERSION:
        reasons.append("schema_version:unsupported")
    source_file = record["source_file"]
    if not isinstance(source_file, str) or not 0 < len(source_file) <= MAX_SOURCE_FILE_CHARS:
        reasons.append("source_file:bad_format")
    row_number = record["row_number"]
    if not isinstance(row_number, int) or isinstance(row_number, bool) or row_number < 1:
        reasons.append("row_number:out_of_range")
    received_at = record["received_at"]
    moment = None
    if isinstance(received_at, str) and _FIREHOSE_TIMESTAMP.match(received_at):
        try:
            moment = datetime.fromisoformat(received_at).astimezone(UTC)
        except ValueError:
            moment = None
    if moment is None:
        reasons.append("received_at:bad_format")
    if reasons or moment is None:
        return reasons, None
    return [], _Pending(0, source_file, row_number, moment, record["booking"])


def transform_records(
    records: Sequence[StreamRecord], *, max_response_bytes: int = MAX_RESPONSE_BYTES
) -> TransformOutcome:
    """Every record of a Firehose batch answered (see the module docstring)."""
    decided: list[tuple[str, bytes, list[str]]] = [("", b"", []) for _ in records]
    pending: list[_Pending] = []
    for position, record in enumerate(records):
        try:
            document = orjson.loads(record.data)
        except orjson.JSONDecodeError:
            decided[position] = (PROCESSING_FAILED, record.data, ["record:not_json"])
            continue
        if not isinstance(document, dict):
            decided[position] = (PROCESSING_FAILED, record.data, ["record:not_an_object"])
            continue
        keys = document.keys()
        if keys == SCORED_KEYS:
            decided[position] = (OK, record.data, [])
        elif keys == _LIVE_KEYS:
            reasons, live = _live_problems(document)
            if live is None:
                decided[position] = (PROCESSING_FAILED, record.data, reasons)
            else:
                live.position = position
                pending.append(live)
        else:
            decided[position] = (PROCESSING_FAILED, record.data, ["record:unknown_shape"])
    _enrich(pending, records, decided)
    return _respond(records, decided, max_response_bytes)


def _enrich(
    pending: list[_Pending],
    records: Sequence[StreamRecord],
    decided: list[tuple[str, bytes, list[str]]],
) -> None:
    if not pending:
        return
    checked = validate_bookings([live.booking for live in pending], "live records")
    for rejection in checked.rejected:
        live = pending[rejection.index]
        decided[live.position] = (PROCESSING_FAILED, records[live.position].data, rejection.reasons)
    for row in checked.valid:
        live = pending[row.row_number - 1]
        context = EnrichmentContext(live.source_file, live.received_at, live.received_at.date())
        record = unscored(enrich_row(ValidRow(live.row_number, row.values, False), context))
        decided[live.position] = (OK, dumps_line(record), [])


def _respond(
    records: Sequence[StreamRecord],
    decided: list[tuple[str, bytes, list[str]]],
    max_response_bytes: int,
) -> TransformOutcome:
    outcome = TransformOutcome()
    # What the records not answered yet would take if they all failed (their original data).
    remaining = sum(
        _b64_length(len(r.data)) + len(r.record_id) + RECORD_OVERHEAD_BYTES for r in records
    )
    size = 0
    for record, (result, data, reasons) in zip(records, decided, strict=True):
        own = _b64_length(len(record.data)) + len(record.record_id) + RECORD_OVERHEAD_BYTES
        remaining -= own
        answer = _b64_length(len(data)) + len(record.record_id) + RECORD_OVERHEAD_BYTES
        if result == OK and size + answer + remaining > max_response_bytes:
            result, data, reasons = PROCESSING_FAILED, record.data, ["response:size_limit"]
            answer = own
        size += answer
        if result == OK:
            if data is record.data:
                outcome.passed_through += 1
            else:
                outcome.enriched += 1
        else:
            outcome.failures.append(Failure(record.record_id, reasons))
        outcome.records.append(
            {
                "recordId": record.record_id,
                "result": result,
                "data": base64.b64encode(data).decode("ascii"),
            }
        )
    return outcome
