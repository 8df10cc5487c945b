"""QuarantineFile: a file's processing failed. Copy the raw object to ``quarantine/files/``
with an ``.error.json`` report, alert the operators, and release the idempotency claim (FAILED)
so that a corrected re-upload runs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.quarantine import quarantine_file
from booking_core.workflow import QuarantineRequest, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, QuarantineRequest)
    logger.set_correlation_id(request.execution)
    logger.append_keys(object_key=request.detail.object.key)
    quarantined = quarantine_file(request, Settings.from_env(), aws_client)
    if quarantined.quarantine_key is None:
        logger.error("the raw object could not be copied: only the report is kept")
    metrics.add_metric(name="QuarantinedFiles", unit=MetricUnit.Count, value=1)
    logger.error(
        "file quarantined", extra={"error": quarantined.error, "cause": quarantined.reason}
    )
    return quarantined.model_dump(mode="json")
