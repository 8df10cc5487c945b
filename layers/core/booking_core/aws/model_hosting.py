"""SageMaker model hosting: which model archive an endpoint serves, and serving another one
(serverless inference)."""

from __future__ import annotations

from typing import Any, Literal

from botocore.exceptions import ClientError

VARIANT = "AllTraffic"
# The inference container runs the archive's own code (code/inference.py).
INFERENCE_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
}
_NO_SUCH_ENDPOINT = ("ValidationException", "ResourceNotFound")


def endpoint_exists(sagemaker: Any, name: str) -> bool:
    try:
        sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _NO_SUCH_ENDPOINT:
            return False
        raise
    return True


def served_model_data_url(sagemaker: Any, endpoint_name: str) -> str | None:
    """The archive the endpoint serves now, or None when there is no such endpoint."""
    if not endpoint_name:
        return None
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _NO_SUCH_ENDPOINT:
            return None
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model_name = config["ProductionVariants"][0]["ModelName"]
    model = sagemaker.describe_model(ModelName=model_name)
    url = model.get("PrimaryContainer", {}).get("ModelDataUrl")
    return str(url) if url else None


def serve_model(
    sagemaker: Any,
    *,
    endpoint_name: str,
    name: str,
    model_data_url: str,
    image_uri: str,
    role_arn: str,
    memory_mib: int,
    max_concurrency: int,
) -> Literal["created", "updated"]:
    """Create a model and a serverless endpoint configuration called ``name``, then point the
    endpoint at it (creating the endpoint when there is none yet)."""
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=role_arn,
        PrimaryContainer={
            "Image": image_uri,
            "ModelDataUrl": model_data_url,
            "Environment": dict(INFERENCE_ENVIRONMENT),
        },
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "ServerlessConfig": {
                    "MemorySizeInMB": memory_mib,
                    "MaxConcurrency": max_concurrency,
                },
            }
        ],
    )
    if endpoint_exists(sagemaker, endpoint_name):
        sagemaker.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=name)
        return "updated"
    sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=name)
    return "created"
