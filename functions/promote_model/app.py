"""PromoteModel: serve a newly trained model from the endpoint (serverless inference).

Creates a SageMaker model and an endpoint configuration named after the model version, then
updates the endpoint to it (or creates the endpoint when there is none yet).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.usecases.model_release import promote_model
from booking_core.workflow import PromotionRequest, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, PromotionRequest)
    logger.set_correlation_id(request.modelVersion)
    promotion = promote_model(request, Settings.from_env(), aws_client)
    metrics.add_metric(name="ModelsPromoted", unit=MetricUnit.Count, value=1)
    logger.info(
        "model promoted",
        extra={
            "endpoint": promotion.endpointName,
            "model": promotion.modelName,
            "action": promotion.action,
        },
    )
    return promotion.model_dump(mode="json")
