"""The retraining workflow (statemachines/train_model.asl.json) run by moto's interpreter.

moto runs the Athena UNLOAD and the training job through the aws-sdk integrations (its training
jobs complete at once and produce no archive), so each test puts a real model archive where the
training job writes it, as the training container would.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
from support.ml_helpers import train_small_model, with_metadata
from support.paths import ROOT

from bookings.offline.emulator import EmulatedStack, LambdaInvocationError

pytestmark = pytest.mark.slow

ENDPOINT = "booking-completion"
STATE_MACHINE = "TrainModelStateMachine"


@pytest.fixture(scope="module")
def model_archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    _, written = train_small_model(tmp_path_factory.mktemp("sm-model"), n=3000, seed=12)
    return written.archive.read_bytes()


@pytest.fixture
def stack() -> Iterator[EmulatedStack]:
    overrides = {
        "SageMakerEndpointName": ENDPOINT,
        "ExportPollSeconds": 0,
        "TrainingPollSeconds": 0,
        "MinRocAuc": 0.65,
        "RetryIntervalSeconds": 1,
    }
    with EmulatedStack(ROOT / "template.yaml", overrides=overrides) as emulated:
        yield emulated


def _run(stack: EmulatedStack, name: str, archive: bytes) -> Any:
    bucket = stack.lake_bucket
    stack.client("s3").put_object(
        Bucket=bucket, Key=f"ml/models/booking-model-{name}/output/model.tar.gz", Body=archive
    )
    sfn = stack.client("stepfunctions")
    arn = stack.resolver.arn(STATE_MACHINE)
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input="{}")
    return stack.wait(execution["executionArn"], timeout=120)


def _served_model_url(stack: EmulatedStack) -> str:
    sagemaker = stack.client("sagemaker")
    config_name = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return str(model["PrimaryContainer"]["ModelDataUrl"])


def test_the_definition_substitutes_every_placeholder(stack: EmulatedStack) -> None:
    definition = json.loads(stack.state_machine_definition(STATE_MACHINE))
    states = definition["States"]
    assert states["WaitForExport"]["Seconds"] == 0
    assert "UNLOAD (SELECT" in states["ExportTrainingData"]["Parameters"]["QueryString.$"]
    assert states["Evaluate"]["Parameters"]["Payload"]["endpointName"] == ENDPOINT
    assert states["ExportTrainingData"]["Parameters"]["WorkGroup"] == f"{stack.stack_name}-bookings"


def test_the_stack_has_the_templates_athena_workgroup(stack: EmulatedStack) -> None:
    name = stack.resource_name("AthenaWorkGroup")
    assert name == f"{stack.stack_name}-bookings"
    workgroup = stack.client("athena").get_work_group(WorkGroup=name)["WorkGroup"]
    results = workgroup["Configuration"]["ResultConfiguration"]["OutputLocation"]
    assert results == f"s3://{stack.resource_name('AthenaResultsBucket')}/results/"


def test_a_first_model_is_exported_trained_evaluated_and_served(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    outcome = _run(stack, "monthly-1", model_archive)
    assert outcome.status == "SUCCEEDED", (outcome.error, outcome.cause)
    visited = outcome.visited()
    for state in (
        "ExportTrainingData",
        "CheckExport",
        "Train",
        "CheckTraining",
        "Evaluate",
        "Promote",
        "ModelPromoted",
    ):
        assert state in visited
    assert outcome.output["evaluation"]["live"] is None
    assert outcome.output["promotion"]["action"] == "created"
    query = stack.client("athena").get_query_execution(
        QueryExecutionId=outcome.output["export"]["queryExecutionId"]
    )["QueryExecution"]["Query"]
    assert query.startswith("UNLOAD (SELECT * FROM ")
    assert "/ml/training/monthly-1/data/'" in query
    export = stack.client("athena").get_query_execution(
        QueryExecutionId=outcome.output["export"]["queryExecutionId"]
    )["QueryExecution"]
    assert export["WorkGroup"] == stack.resource_name("AthenaWorkGroup")
    job = stack.client("sagemaker").describe_training_job(TrainingJobName="booking-model-monthly-1")
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"].endswith(
        "/ml/training/monthly-1/data/"
    )
    assert _served_model_url(stack).endswith("booking-model-monthly-1/output/model.tar.gz")


def test_a_worse_model_leaves_the_live_one_in_place(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    assert _run(stack, "monthly-1", model_archive).status == "SUCCEEDED"
    with tarfile.open(fileobj=io.BytesIO(model_archive)) as archive:
        metadata = archive.extractfile("metadata.json").read()  # type: ignore[union-attr]
    live_auc = json.loads(metadata)["roc_auc_test"]
    worse = with_metadata(model_archive, roc_auc_test=live_auc - 0.01, model_version="worse")
    outcome = _run(stack, "monthly-2", worse)
    assert outcome.status == "SUCCEEDED", (outcome.error, outcome.cause)
    assert "KeepLiveModel" in outcome.visited()
    assert "Promote" not in outcome.visited()
    assert outcome.output["evaluation"]["promote"] is False
    assert outcome.output["evaluation"]["live"]["rocAuc"] == pytest.approx(live_auc)
    assert _served_model_url(stack).endswith("booking-model-monthly-1/output/model.tar.gz")


def test_a_model_below_the_floor_is_never_served(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    poor = with_metadata(model_archive, roc_auc_test=0.6)
    outcome = _run(stack, "monthly-3", poor)
    assert outcome.status == "SUCCEEDED"
    assert "KeepLiveModel" in outcome.visited()
    assert "below the floor" in outcome.output["evaluation"]["reason"]


def test_a_missing_model_archive_fails_the_run(stack: EmulatedStack) -> None:
    sfn = stack.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=stack.resolver.arn(STATE_MACHINE), name="no-archive", input="{}"
    )
    outcome = stack.wait(execution["executionArn"], timeout=120)
    assert outcome.status == "FAILED"
    assert outcome.error == "EvaluationFailed"


@pytest.mark.parametrize(
    ("logical_id", "event_file", "model", "field"),
    [
        ("EvaluateModelFunction", "evaluate_model", "EvaluationRequest", "modelDataUrl"),
        ("PromoteModelFunction", "promote_model", "PromotionRequest", "modelVersion"),
    ],
)
def test_the_model_steps_refuse_a_malformed_event_in_one_line(
    stack: EmulatedStack, logical_id: str, event_file: str, model: str, field: str
) -> None:
    event = json.loads((ROOT / "events" / f"{event_file}.json").read_text())
    del event[field]
    for malformed in (event, {"unexpected": True}, "not an object"):
        with pytest.raises(LambdaInvocationError) as raised:
            stack.invoke(logical_id, malformed)
        assert raised.value.error_type == "InvalidEvent"
        assert "\n" not in raised.value.error_message
    with pytest.raises(LambdaInvocationError) as raised:
        stack.invoke(logical_id, event)
    assert raised.value.error_message.startswith(f"not a {model}: {field}: Field required")
    assert field in raised.value.error_message


def test_a_model_archive_without_its_metric_is_named(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    broken = with_metadata(model_archive, roc_auc_test="high")
    key = "ml/models/booking-model-broken/output/model.tar.gz"
    stack.client("s3").put_object(Bucket=stack.lake_bucket, Key=key, Body=broken)
    event = json.loads((ROOT / "events" / "evaluate_model.json").read_text())
    event.update(modelDataUrl=f"s3://{stack.lake_bucket}/{key}", endpointName=ENDPOINT)
    with pytest.raises(LambdaInvocationError) as raised:
        stack.invoke("EvaluateModelFunction", event)
    assert raised.value.error_type == "ModelArchiveError"
    assert raised.value.error_message.startswith(f"s3://{stack.lake_bucket}/{key}: metadata.json:")
    assert "roc_auc_test" in raised.value.error_message
    assert "\n" not in raised.value.error_message
