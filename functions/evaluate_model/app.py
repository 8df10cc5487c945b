"""EvaluateModel: decide whether a newly trained model replaces the live one.

Reads ``metadata.json`` from the new model's archive and from the archive of the model the
endpoint serves now; the new model is promoted when its held-out ROC AUC reaches the floor and is
at least the live model's. No live model (no endpoint yet) means promote.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.usecases.model_release import evaluate_model
from booking_core.workflow import EvaluationRequest, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, EvaluationRequest)
    # The training job's output URL names the job, and so the retraining execution.
    logger.set_correlation_id(request.modelDataUrl)
    evaluation = evaluate_model(request, aws_client)
    metrics.add_metric(
        name="CandidateRocAuc", unit=MetricUnit.NoUnit, value=evaluation.candidate.rocAuc
    )
    metrics.add_metric(
        name="ModelsPromotable", unit=MetricUnit.Count, value=int(evaluation.promote)
    )
    logger.info(
        "model evaluated", extra={"promote": evaluation.promote, "reason": evaluation.reason}
    )
    return evaluation.model_dump(mode="json")
