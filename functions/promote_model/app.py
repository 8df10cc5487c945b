"""PromoteModel: serve a newly trained model from the endpoint (serverless inference).

Creates a SageMaker model and an endpoint configuration named after the model version, then
updates the endpoint to it (or creates the endpoint when there is none yet).
"""

from __future__ import annotations

import os
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from botocore.exceptions import ClientError

logger = Logger()
VARIANT = "AllTraffic"


def resource_name(prefix: str, model_version: str) -> str:
    """A SageMaker resource name (letters, digits, hyphens; at most 63 characters)."""
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", f"{prefix}-{model_version}").strip("-")
    return cleaned[-63:].lstrip("-")


def endpoint_exists(sagemaker: Any, name: str) -> bool:
    try:
        sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return False
        raise
    return True


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sagemaker = aws_client("sagemaker")
    endpoint_name = str(event["endpointName"])
    name = resource_name(
        os.environ.get("MODEL_NAME_PREFIX", "booking-model"), str(event["modelVersion"])
    )
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=os.environ["MODEL_ROLE_ARN"],
        PrimaryContainer={
            "Image": os.environ["INFERENCE_IMAGE_URI"],
            "ModelDataUrl": str(event["modelDataUrl"]),
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            },
        },
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "ServerlessConfig": {
                    "MemorySizeInMB": int(os.environ.get("SERVERLESS_MEMORY_MIB", "2048")),
                    "MaxConcurrency": int(os.environ.get("SERVERLESS_MAX_CONCURRENCY", "5")),
                },
            }
        ],
    )
    if endpoint_exists(sagemaker, endpoint_name):
        sagemaker.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=name)
        action = "updated"
    else:
        sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=name)
        action = "created"
    logger.info(
        "model promoted", extra={"endpoint": endpoint_name, "model": name, "action": action}
    )
    return {"endpointName": endpoint_name, "modelName": name, "action": action}
