"""RefreshSpice: one SPICE ingestion per configured QuickSight data set.

A clean no-op when QUICKSIGHT_DATASET_IDS is empty (QuickSight off); an ingestion refused for a
limit or a concurrent update is logged and counted, never fatal (the next refresh catches up).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.spice import refresh_spice
from booking_core.workflow import ExecutionStep, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, ExecutionStep)
    logger.set_correlation_id(request.execution)
    account_id = context.invoked_function_arn.split(":")[4]
    refresh = refresh_spice(request, Settings.from_env(), aws_client, account_id)
    metrics.add_metric(name="SpiceRefreshes", unit=MetricUnit.Count, value=len(refresh.started))
    if refresh.status == "disabled":
        logger.info("QuickSight is off: no data set to refresh")
        return refresh.model_dump(mode="json")
    if refresh.skipped:
        metrics.add_metric(
            name="SpiceRefreshesSkipped", unit=MetricUnit.Count, value=len(refresh.skipped)
        )
        logger.warning("some SPICE refreshes were refused", extra={"skipped": refresh.skipped})
    return refresh.model_dump(mode="json")
