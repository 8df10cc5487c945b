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
from booking_core.aws.quicksight import parse_dataset_ids, refresh_datasets
from booking_core.aws.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    execution = str(event.get("execution") or context.aws_request_id)
    logger.set_correlation_id(execution)
    dataset_ids = parse_dataset_ids(Settings.from_env().quicksight_dataset_ids)
    if not dataset_ids:
        logger.info("QuickSight is off: no data set to refresh")
        return {"status": "disabled", "started": [], "skipped": []}
    account_id = context.invoked_function_arn.split(":")[4]
    outcome = refresh_datasets(aws_client("quicksight"), account_id, dataset_ids, execution)
    metrics.add_metric(name="SpiceRefreshes", unit=MetricUnit.Count, value=len(outcome.started))
    if outcome.skipped:
        metrics.add_metric(
            name="SpiceRefreshesSkipped", unit=MetricUnit.Count, value=len(outcome.skipped)
        )
        logger.warning("some SPICE refreshes were refused", extra={"skipped": outcome.skipped})
    return {"status": "refreshed", "started": outcome.started, "skipped": outcome.skipped}
