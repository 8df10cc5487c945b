"""IngestApi: ``POST /v1/bookings`` and ``GET /v1/openapi.json`` (HTTP API, payload format 2.0).

``POST /v1/bookings`` takes one booking (a JSON object) or a list of up to 500. Each booking is
validated by the same core as the files (``booking_core.live``) and answered by its position:

- accepted: put to Firehose as a live record (validated values and provenance), with its
  ``booking_id``; the stream's transformation Lambda enriches it on the way to the lake;
- rejected: every field and rule it broke; the booking is also written, as sent, to the
  rejected rows of the lake (``quarantine/rows/``, the ``rejected_bookings`` table), like a
  file's rejected rows.

A request is not all or nothing: its valid bookings are delivered even when others are not.
With an ``Idempotency-Key`` header, the work runs once per key (``aws.api_idempotency``): a
retry with the same key and body gets the stored answer and delivers nothing. The key also
names the request's source (``api#<key>``), so its bookings keep the same ids whichever
attempt delivered them. The statuses are listed in ``booking_core.api_contract``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core.api_contract import (
    BOOKINGS_PATH,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
    IDEMPOTENCY_REPLAYED_HEADER,
    MAX_BODY_BYTES,
    MAX_BOOKINGS_PER_REQUEST,
    OPENAPI_PATH,
    openapi_document,
)
from booking_core.aws.api_idempotency import (
    IdempotencyAlreadyInProgressError,
    IdempotencyError,
    IdempotencyValidationError,
    RequestIdempotency,
)
from booking_core.aws.clients import ClientFactory
from booking_core.aws.firehose import DeliveryFailedError, FirehoseDelivery
from booking_core.aws.settings import Settings
from booking_core.enrichment import booking_id, source_key
from booking_core.errors import BookingError
from booking_core.jsonl import dumps_line
from booking_core.live import live_record, rejected_rows, validate_bookings

JSON_HEADERS = {"content-type": "application/json"}
SOURCE_PREFIX = "api#"
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


class RejectedRowsNotKeptError(BookingError):
    """The rejected bookings of a request could not be written to the lake."""


@dataclass(frozen=True)
class ApiAnswer:
    """The HTTP answer, and what the request held (for the handler's metrics and logs)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    received: int = 0
    rejected: int = 0
    delivered: int = 0
    replayed: bool = False
    error: str | None = None

    def response(self) -> dict[str, Any]:
        """The Lambda proxy integration's response (payload format 2.0)."""
        return {
            "statusCode": self.status,
            "headers": {**JSON_HEADERS, **self.headers},
            "body": orjson.dumps(self.body).decode(),
        }


def problem(status: int, message: str, **details: Any) -> ApiAnswer:
    return ApiAnswer(status, {"error": message}, **details)


@functools.lru_cache(maxsize=1)
def openapi_body() -> dict[str, Any]:
    return openapi_document()


def handle_request(
    request: APIGatewayProxyEventV2Model,
    settings: Settings,
    client: ClientFactory,
    *,
    now: datetime | None = None,
    context: LambdaContext | None = None,
) -> ApiAnswer:
    """Answer one request of the HTTP API's routes."""
    method = request.requestContext.http.method
    path = request.rawPath
    if path == OPENAPI_PATH and method == "GET":
        return ApiAnswer(200, openapi_body())
    if path != BOOKINGS_PATH or method != "POST":
        return problem(405, f"{method} {path}: use POST {BOOKINGS_PATH}")
    return post_bookings(request, settings, client, now=now, context=context)


def post_bookings(
    request: APIGatewayProxyEventV2Model,
    settings: Settings,
    client: ClientFactory,
    *,
    now: datetime | None = None,
    context: LambdaContext | None = None,
) -> ApiAnswer:
    batch = _read_batch(request)
    if isinstance(batch, ApiAnswer):
        return batch
    body, bookings = batch
    key = _header(request, IDEMPOTENCY_HEADER)
    if key is not None and not _KEY.match(key):
        return problem(400, f"the {IDEMPOTENCY_HEADER} header must match {IDEMPOTENCY_KEY_PATTERN}")
    source_file = SOURCE_PREFIX + (key if key is not None else request.requestContext.requestId)
    received_at = now or datetime.now(UTC)

    def work() -> dict[str, Any]:
        return accept_bookings(bookings, source_file, received_at, settings, client)

    try:
        if key is None:
            outcome = work()
        else:
            outcome = _idempotency(settings, client, context).run(
                key, hashlib.sha256(body).hexdigest(), work
            )
    except (DeliveryFailedError, RejectedRowsNotKeptError) as exc:
        return problem(
            503,
            "the bookings could not be stored: retry later"
            + (" with the same Idempotency-Key" if key else ""),
            received=len(bookings),
            error=str(exc),
        )
    except IdempotencyError as exc:
        return _idempotency_problem(exc, len(bookings))
    replayed = bool(outcome.get("replayed"))
    headers = {IDEMPOTENCY_REPLAYED_HEADER: str(replayed).lower()} if key is not None else {}
    return ApiAnswer(
        200,
        outcome["body"],
        headers,
        received=len(bookings),
        rejected=0 if replayed else int(outcome["rejected"]),
        delivered=0 if replayed else int(outcome["delivered"]),
        replayed=replayed,
    )


def _read_batch(request: APIGatewayProxyEventV2Model) -> tuple[bytes, list[Any]] | ApiAnswer:
    """The request's body and its bookings, or the answer refusing them (400 or 413)."""
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
    return body, bookings


def _idempotency_problem(exc: IdempotencyError, received: int) -> ApiAnswer:
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        return problem(409, "a request with this Idempotency-Key is in progress", received=received)
    if isinstance(exc, IdempotencyValidationError):
        return problem(422, "this Idempotency-Key was used with another body", received=received)
    return problem(
        503,
        "the request could not be recorded: retry later with the same Idempotency-Key",
        received=received,
        error=f"{type(exc).__name__}: {exc}",
    )


def _idempotency(
    settings: Settings, client: ClientFactory, context: LambdaContext | None
) -> RequestIdempotency:
    settings.need(API_IDEMPOTENCY_TABLE=settings.api_idempotency_table)
    return RequestIdempotency(settings.api_idempotency_table, client("dynamodb"), context)


def accept_bookings(
    bookings: list[Any],
    source_file: str,
    received_at: datetime,
    settings: Settings,
    client: ClientFactory,
    deliver: Callable[[list[bytes]], None] | None = None,
) -> dict[str, Any]:
    """Validate, keep the rejected bookings, deliver the accepted ones; the answer's body and
    counts (JSON, as the idempotency store keeps them). Raises DeliveryFailedError when the
    bookings cannot be stored."""
    checked = validate_bookings(bookings, source_file)
    if checked.rejected:
        _store_rejected(
            rejected_rows(bookings, checked.rejected, source_file, received_at),
            source_file,
            received_at,
            settings,
            client,
        )
    if checked.valid:
        records = [dumps_line(live_record(row, source_file, received_at)) for row in checked.valid]
        (deliver or _firehose(settings, client))(records)
    body = {
        "source_file": source_file,
        "received": len(bookings),
        "accepted": [
            {"index": row.row_number - 1, "booking_id": booking_id(source_file, row.row_number)}
            for row in checked.valid
        ],
        "rejected": [
            {"index": r.index, "errors": r.errors(), "message": r.message} for r in checked.rejected
        ],
    }
    return {"body": body, "delivered": len(checked.valid), "rejected": len(checked.rejected)}


def _firehose(settings: Settings, client: ClientFactory) -> Callable[[list[bytes]], None]:
    settings.need(DELIVERY_STREAM_NAME=settings.delivery_stream_name)
    delivery = FirehoseDelivery(client("firehose"), settings.delivery_stream_name)

    def deliver(records: list[bytes]) -> None:
        delivery.deliver(records)

    return deliver


def rejected_key(quarantine_prefix: str, source_file: str, received_at: datetime) -> str:
    """Where a request's rejected bookings are kept (one object per request source)."""
    day = received_at.astimezone(UTC).date().isoformat()
    return f"{quarantine_prefix}rows/ingest_date={day}/api-{source_key(source_file)}.jsonl"


def _store_rejected(
    rows: list[dict[str, Any]],
    source_file: str,
    received_at: datetime,
    settings: Settings,
    client: ClientFactory,
) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    settings.need(LAKE_BUCKET=settings.lake_bucket)
    key = rejected_key(settings.quarantine_prefix, source_file, received_at)
    try:
        client("s3").put_object(
            Bucket=settings.lake_bucket,
            Key=key,
            Body=b"".join(dumps_line(row) for row in rows),
            ContentType="application/x-ndjson",
        )
    except (BotoCoreError, ClientError) as exc:
        # Nothing is delivered until the rejected bookings are kept: the client retries.
        raise RejectedRowsNotKeptError(
            f"s3://{settings.lake_bucket}/{key}: {len(rows)} rejected booking(s) not kept: {exc}"
        ) from exc


def _header(request: APIGatewayProxyEventV2Model, name: str) -> str | None:
    wanted = name.lower()
    for header, value in (request.headers or {}).items():
        if header.lower() == wanted:
            return str(value)
    return None


def _body_bytes(request: APIGatewayProxyEventV2Model) -> bytes:
    raw = request.body if isinstance(request.body, str) else ""
    if request.isBase64Encoded:
        return base64.b64decode(raw, validate=True)
    return raw.encode()
