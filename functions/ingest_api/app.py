"""IngestApi: ``POST /v1/bookings`` (HTTP API, payload format 2.0).

The body is one booking (a JSON object) or a list of them. Every booking is validated by the
same core as the files (booking_core.live), enriched (booking date = today), and put to
Firehose. A request is all or nothing: if any booking is invalid, none is delivered and the
answer (400) gives the reasons per booking, so that a corrected request can be sent as a whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.firehose import DeliveryFailedError, FirehoseDelivery
from booking_core.aws.settings import Settings
from booking_core.live import enrich_bookings, validate_bookings

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
    checked = validate_bookings(bookings, source_file)
    metrics.add_metric(name="ApiBookingsReceived", unit=MetricUnit.Count, value=len(bookings))
    if checked.rejected:
        metrics.add_metric(
            name="ApiBookingsRejected", unit=MetricUnit.Count, value=len(checked.rejected)
        )
        return _response(400, {"accepted": [], "rejected": checked.rejected})

    records = enrich_bookings(checked.valid, source_file, datetime.now(UTC))
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
