"""IngestApi: ``POST /v1/bookings`` (HTTP API, payload format 2.0).

The body is one booking (a JSON object) or a list of them. Every booking is validated by the
same core as the files (``booking_core.live``), enriched (booking date = the day it arrives) and
put to Firehose. A request is all or nothing: if any booking is invalid, none is delivered and the
answer (400) gives the reasons per booking, so that a corrected request can be sent as a whole.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from booking_core.aws.clients import ClientFactory
from booking_core.aws.firehose import DeliveryFailedError, FirehoseDelivery
from booking_core.aws.settings import Settings
from booking_core.live import enrich_bookings, validate_bookings

MAX_BOOKINGS_PER_REQUEST = 500
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class ApiAnswer:
    """The HTTP answer, and what the request held (for the handler's metrics and logs)."""

    status: int
    body: dict[str, Any]
    received: int = 0
    rejected: int = 0
    delivered: int = 0
    delivery_error: str | None = None

    def response(self) -> dict[str, Any]:
        """The Lambda proxy integration's response."""
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json"},
            "body": orjson.dumps(self.body).decode(),
        }


def problem(status: int, message: str, **counts: Any) -> ApiAnswer:
    return ApiAnswer(status, {"error": message}, **counts)


def post_bookings(
    request: APIGatewayProxyEventV2Model,
    settings: Settings,
    client: ClientFactory,
    now: datetime | None = None,
) -> ApiAnswer:
    if request.requestContext.http.method != "POST":
        return problem(405, "use POST")
    try:
        body = _body_bytes(request)
    except (binascii.Error, ValueError):
        return problem(400, "the body is not valid base64")
    if len(body) > MAX_BODY_BYTES:
        return problem(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return problem(400, f"the body is not valid JSON: {exc}")
    bookings = payload if isinstance(payload, list) else [payload]
    if not bookings:
        return problem(400, "no booking in the request")
    if len(bookings) > MAX_BOOKINGS_PER_REQUEST:
        return problem(
            413, f"{len(bookings)} bookings: at most {MAX_BOOKINGS_PER_REQUEST} per request"
        )
    # The request id makes the source identity (and so every booking id) unique per request.
    source_file = f"api#{request.requestContext.requestId}"
    checked = validate_bookings(bookings, source_file)
    received = len(bookings)
    if checked.rejected:
        body_out = {"accepted": [], "rejected": checked.rejected}
        return ApiAnswer(400, body_out, received=received, rejected=len(checked.rejected))

    records = enrich_bookings(checked.valid, source_file, now or datetime.now(UTC))
    settings.need(DELIVERY_STREAM_NAME=settings.delivery_stream_name)
    delivery = FirehoseDelivery(client("firehose"), settings.delivery_stream_name)
    try:
        delivery.deliver(orjson.dumps(record) + b"\n" for record in records)
    except DeliveryFailedError as exc:
        return problem(
            503,
            "the bookings could not be stored, retry later",
            received=received,
            delivery_error=str(exc),
        )
    accepted = [{"index": r["row_number"] - 1, "booking_id": r["booking_id"]} for r in records]
    return ApiAnswer(
        200, {"accepted": accepted, "rejected": []}, received=received, delivered=len(records)
    )


def _body_bytes(request: APIGatewayProxyEventV2Model) -> bytes:
    raw = request.body if isinstance(request.body, str) else ""
    if request.isBase64Encoded:
        return base64.b64decode(raw, validate=True)
    return raw.encode()
