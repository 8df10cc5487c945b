"""EvaluateModel: decide whether a newly trained model replaces the live one.

Reads ``metadata.json`` from the new model's archive and from the archive of the model the
endpoint serves now; the new model is promoted when its held-out ROC AUC reaches the floor and is
at least the live model's. No live model (no endpoint yet) means promote.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any
from urllib.parse import urlparse

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from botocore.exceptions import ClientError

logger = Logger()
METRIC = "roc_auc_test"


def read_model_metadata(s3: Any, model_data_url: str) -> dict[str, Any]:
    location = urlparse(model_data_url)
    if location.scheme != "s3" or not location.path.strip("/"):
        raise ValueError(f"{model_data_url}: not an s3://bucket/key URL of a model archive")
    body = s3.get_object(Bucket=location.netloc, Key=location.path.lstrip("/"))["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        member = next(
            (m for m in archive.getmembers() if m.name.removeprefix("./") == "metadata.json"), None
        )
        if member is None:
            raise ValueError(f"{model_data_url}: the archive has no metadata.json")
        handle = archive.extractfile(member)
        if handle is None:
            raise ValueError(f"{model_data_url}: metadata.json is not a file")
        metadata: dict[str, Any] = json.load(handle)
    if not isinstance(metadata.get(METRIC), int | float):
        raise ValueError(f"{model_data_url}: metadata.json has no {METRIC}")
    return metadata


def live_model_data_url(sagemaker: Any, endpoint_name: str) -> str | None:
    """The archive the endpoint serves now, or None when there is no such endpoint."""
    if not endpoint_name:
        return None
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return None
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model_name = config["ProductionVariants"][0]["ModelName"]
    model = sagemaker.describe_model(ModelName=model_name)
    url = model.get("PrimaryContainer", {}).get("ModelDataUrl")
    return str(url) if url else None


def _summary(metadata: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "modelVersion": metadata["model_version"],
        "rocAuc": float(metadata[METRIC]),
        "modelDataUrl": url,
    }


def decide(
    candidate: dict[str, Any], live: dict[str, Any] | None, floor: float
) -> tuple[bool, str]:
    if candidate["rocAuc"] < floor:
        return False, f"ROC AUC {candidate['rocAuc']:.4f} is below the floor {floor:.4f}"
    if live is None:
        return True, "no live model"
    if candidate["rocAuc"] >= live["rocAuc"]:
        return True, f"ROC AUC {candidate['rocAuc']:.4f} >= live {live['rocAuc']:.4f}"
    return False, f"ROC AUC {candidate['rocAuc']:.4f} < live {live['rocAuc']:.4f}"


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    s3 = aws_client("s3")
    candidate_url = str(event["modelDataUrl"])
    candidate = _summary(read_model_metadata(s3, candidate_url), candidate_url)
    live_url = live_model_data_url(aws_client("sagemaker"), str(event.get("endpointName") or ""))
    live = None if live_url is None else _summary(read_model_metadata(s3, live_url), live_url)
    promote, reason = decide(candidate, live, float(event.get("minRocAuc", 0.0)))
    logger.info("model evaluated", extra={"promote": promote, "reason": reason})
    return {"candidate": candidate, "live": live, "promote": promote, "reason": reason}
