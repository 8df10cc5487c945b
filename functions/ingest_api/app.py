"""IngestApi: ``POST /v1/bookings`` (HTTP API, payload format 2.0).

The body is one booking (a JSON object) or a list of them. Every booking is validated by the
same core as the files (through the same CSV reader), enriched (booking date = today), and put
to Firehose. A request is all or nothing: if any booking is invalid, none is delivered and the
answer (400) gives the reasons per booking, so that a corrected request can be sent as a whole.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.firehose import DeliveryFailedError, FirehoseDelivery
from booking_core.aws.ingest import StagedRow
from booking_core.aws.settings import Settings
from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.pipeline import RejectedRecord, validate_stream
from booking_core.schema import OUTCOME_FIELD, SOURCE_FIELDS

logger = Logger()
tracer = Tracer()
metrics = Metrics()

MAX_BOOKINGS_PER_REQUEST = 500
MAX_BODY_BYTES = 1_000_000


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": orjson.dumps(body).decode(),
    }


def _problem(status: int, message: str) -> dict[str, Any]:
    return _response(status, {"error": message})


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


def validate_bookings(
    bookings: list[Any], source_file: str
) -> tuple[list[StagedRow], list[dict[str, Any]]]:
    """Valid rows and rejections (``{index, reasons, message}``), by position in the request."""
    rejected: list[dict[str, Any]] = []
    candidates: list[tuple[int, dict[str, Any]]] = []
    for index, booking in enumerate(bookings):
        errors = _shape_errors(booking)
        if errors:
            rejected.append({"index": index, "reasons": errors, "message": ", ".join(errors)})
        else:
            candidates.append((index, booking))
    valid: list[StagedRow] = []
    if not candidates:
        return valid, rejected
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
            valid.append(StagedRow(index + 1, outcome.values, False))
    rejected.sort(key=lambda item: int(item["index"]))
    return valid, rejected


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayProxyEventV2(event)
    if request.request_context.http.method.upper() != "POST":
        return _problem(405, "use POST")
    raw = request.decoded_body or ""
    body_bytes = raw.encode() if isinstance(raw, str) else raw
    if len(body_bytes) > MAX_BODY_BYTES:
        return _problem(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = orjson.loads(body_bytes)
    except orjson.JSONDecodeError as exc:
        return _problem(400, f"the body is not valid JSON: {exc}")
    bookings = payload if isinstance(payload, list) else [payload]
    if not bookings:
        return _problem(400, "no booking in the request")
    if len(bookings) > MAX_BOOKINGS_PER_REQUEST:
        return _problem(
            413, f"{len(bookings)} bookings: at most {MAX_BOOKINGS_PER_REQUEST} per request"
        )
    request_id = request.request_context.request_id
    # The request id makes the source identity (and so every booking id) unique per request.
    source_file = f"api#{request_id}"
    valid, rejected = validate_bookings(bookings, source_file)
    metrics.add_metric(name="ApiBookingsReceived", unit=MetricUnit.Count, value=len(bookings))
    if rejected:
        metrics.add_metric(name="ApiBookingsRejected", unit=MetricUnit.Count, value=len(rejected))
        return _response(400, {"accepted": [], "rejected": rejected})

    now = datetime.now(UTC)
    context_ = EnrichmentContext(source_file=source_file, ingested_at=now, booking_date=now.date())
    records = [enrich_row(row, context_) for row in valid]
    for record in records:
        record["booking_complete_probability"] = None
        record["model_version"] = None
    settings = Settings.from_env()
    settings.need(DELIVERY_STREAM_NAME=settings.delivery_stream_name)
    delivery = FirehoseDelivery(aws_client("firehose"), settings.delivery_stream_name)
    try:
        delivery.deliver(orjson.dumps(record) + b"\n" for record in records)
    except DeliveryFailedError as exc:
        logger.error("bookings not delivered", extra={"error": str(exc)})
        return _problem(503, "the bookings could not be stored, retry later")
    metrics.add_metric(name="RecordsDelivered", unit=MetricUnit.Count, value=len(records))
    return _response(
        200,
        {
            "accepted": [
                {"index": r["row_number"] - 1, "booking_id": r["booking_id"]} for r in records
            ],
            "rejected": [],
        },
    )
