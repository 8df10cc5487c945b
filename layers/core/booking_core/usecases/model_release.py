"""EvaluateModel and PromoteModel: a newly trained model replaces the live one only when it is
good enough.

The candidate is promoted when its held-out ROC AUC (``roc_auc_test`` in the archive's
``metadata.json``) reaches the floor and is at least the live model's. No live model (no
endpoint yet) means promote.
"""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from booking_core.aws.clients import ClientFactory
from booking_core.aws.model_hosting import serve_model, served_model_data_url
from booking_core.aws.settings import Settings
from booking_core.errors import ModelArchiveError
from booking_core.workflow import (
    EvaluationRequest,
    ModelEvaluation,
    ModelSummary,
    Promotion,
    PromotionRequest,
    describe_problems,
)

METADATA_FILE = "metadata.json"
METRIC = "roc_auc_test"
SAGEMAKER_NAME_LIMIT = 63


class ModelMetadata(BaseModel):
    """The fields of an archive's ``metadata.json`` that the evaluation reads."""

    model_config = ConfigDict(extra="allow")

    model_version: str
    roc_auc_test: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)


def read_model_metadata(s3: Any, model_data_url: str) -> ModelMetadata:
    """``metadata.json`` of the model archive (``model.tar.gz``) at an s3:// URL."""
    location = urlparse(model_data_url)
    if location.scheme != "s3" or not location.path.strip("/"):
        raise ModelArchiveError(f"{model_data_url}: not an s3://bucket/key URL of a model archive")
    body = s3.get_object(Bucket=location.netloc, Key=location.path.lstrip("/"))["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        member = next(
            (m for m in archive.getmembers() if m.name.removeprefix("./") == METADATA_FILE), None
        )
        handle = archive.extractfile(member) if member is not None else None
        if handle is None:
            raise ModelArchiveError(f"{model_data_url}: the archive has no {METADATA_FILE} file")
        raw = handle.read()
    try:
        return ModelMetadata.model_validate_json(raw)
    except ValidationError as exc:
        raise ModelArchiveError(
            f"{model_data_url}: {METADATA_FILE}: {describe_problems(exc)}"
        ) from None


def model_summary(s3: Any, model_data_url: str) -> ModelSummary:
    metadata = read_model_metadata(s3, model_data_url)
    return ModelSummary(
        modelVersion=metadata.model_version,
        rocAuc=metadata.roc_auc_test,
        modelDataUrl=model_data_url,
    )


def decide(candidate: ModelSummary, live: ModelSummary | None, floor: float) -> tuple[bool, str]:
    """Promote or not, and why."""
    if candidate.rocAuc < floor:
        return False, f"ROC AUC {candidate.rocAuc:.4f} is below the floor {floor:.4f}"
    if live is None:
        return True, "no live model"
    if candidate.rocAuc >= live.rocAuc:
        return True, f"ROC AUC {candidate.rocAuc:.4f} >= live {live.rocAuc:.4f}"
    return False, f"ROC AUC {candidate.rocAuc:.4f} < live {live.rocAuc:.4f}"


def evaluate_model(request: EvaluationRequest, client: ClientFactory) -> ModelEvaluation:
    s3 = client("s3")
    candidate = model_summary(s3, request.modelDataUrl)
    live_url = served_model_data_url(client("sagemaker"), request.endpointName)
    live = None if live_url is None else model_summary(s3, live_url)
    promote, reason = decide(candidate, live, request.minRocAuc)
    return ModelEvaluation(candidate=candidate, live=live, promote=promote, reason=reason)


def resource_name(prefix: str, model_version: str) -> str:
    """A SageMaker resource name (letters, digits, hyphens; at most 63 characters)."""
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", f"{prefix}-{model_version}").strip("-")
    return cleaned[-SAGEMAKER_NAME_LIMIT:].lstrip("-")


def promote_model(
    request: PromotionRequest, settings: Settings, client: ClientFactory
) -> Promotion:
    """Serve the model from the endpoint: a model and an endpoint configuration named after its
    version, then the endpoint updated to them (or created).

    The retraining owns which model the endpoint serves; the stack follows it. When the endpoint
    is the stack's own (``MODEL_ENDPOINT_NAME``, with ``LIVE_MODEL_DATA_URL`` the archive its
    model reads), the promoted archive is then copied there: a later stack update that deploys
    the stack's endpoint configuration again serves the promoted model, not the one the stack
    was first deployed with. The copy comes last, so the stack's archive only ever holds a
    model that was served."""
    settings.need(
        MODEL_ROLE_ARN=settings.model_role_arn, INFERENCE_IMAGE_URI=settings.inference_image_uri
    )
    name = resource_name(settings.model_name_prefix, request.modelVersion)
    action = serve_model(
        client("sagemaker"),
        endpoint_name=request.endpointName,
        name=name,
        model_data_url=request.modelDataUrl,
        image_uri=settings.inference_image_uri,
        role_arn=settings.model_role_arn,
        memory_mib=settings.serverless_memory_mib,
        max_concurrency=settings.serverless_max_concurrency,
    )
    stacks_endpoint = request.endpointName == settings.model_endpoint_name
    live = (settings.live_model_data_url or None) if stacks_endpoint else None
    if live is not None and live != request.modelDataUrl:
        record_live_archive(client("s3"), request.modelDataUrl, live)
    return Promotion(
        endpointName=request.endpointName, modelName=name, action=action, liveModelDataUrl=live
    )


def record_live_archive(s3: Any, model_data_url: str, live_model_data_url: str) -> None:
    """Copy the promoted archive over the stack's model archive (a new version of that object
    in a versioned bucket)."""
    source, target = urlparse(model_data_url), urlparse(live_model_data_url)
    for url, parsed in ((model_data_url, source), (live_model_data_url, target)):
        if parsed.scheme != "s3" or not parsed.path.strip("/"):
            raise ModelArchiveError(f"{url}: not an s3://bucket/key URL of a model archive")
    s3.copy_object(
        Bucket=target.netloc,
        Key=target.path.lstrip("/"),
        CopySource={"Bucket": source.netloc, "Key": source.path.lstrip("/")},
    )
