"""IngestApi: ``POST /v1/bookings`` and ``GET /v1/openapi.json`` (HTTP API, payload format 2.0).

Each booking of a request is accepted (put to Firehose) or rejected (with its fields and rules,
and kept in the lake's rejected rows), by its position: see
``booking_core.usecases.bookings_api`` and, for the statuses, ``booking_core.api_contract``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.bookings_api import handle_request
from booking_core.workflow import parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, APIGatewayProxyEventV2Model)
    answer = handle_request(request, Settings.from_env(), aws_client, context=context)
    metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)
    counts = {
        "ApiBookingsReceived": answer.received,
        "ApiBookingsRejected": answer.rejected,
        "ApiBookingsDelivered": answer.delivered,
        "ApiRequestsReplayed": int(answer.replayed),
    }
    for name, value in counts.items():
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if answer.error:
        logger.error(
            "request not processed", extra={"status": answer.status, "error": answer.error}
        )
    elif answer.status >= 400:
        logger.info("request refused", extra={"status": answer.status, "answer": answer.body})
    return answer.response()
