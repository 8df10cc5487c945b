"""IngestApi: ``POST /v1/bookings`` (HTTP API, payload format 2.0).

The body is one booking or a list of them; a request is all or nothing (see
``booking_core.usecases.bookings_api``): 200 with the booking ids, or 400 with the reasons per
booking, 413 past the limits, 503 when the bookings could not be stored.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.bookings_api import post_bookings
from booking_core.workflow import parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, APIGatewayProxyEventV2Model)
    answer = post_bookings(request, Settings.from_env(), aws_client)
    metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)
    counts = {
        "ApiBookingsReceived": answer.received,
        "ApiBookingsRejected": answer.rejected,
        "RecordsDelivered": answer.delivered,
    }
    for name, value in counts.items():
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if answer.delivery_error:
        logger.error("bookings not delivered", extra={"error": answer.delivery_error})
    return answer.response()
