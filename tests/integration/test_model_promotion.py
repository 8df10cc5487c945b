"""Who owns the live endpoint's model: the retraining decides, the stack follows.

The stack creates the endpoint from SageMakerModelDataUrl (BookingModel, ModelEndpointConfig,
ModelEndpoint); PromoteModel then points it at a retrained model. A later stack update that
deploys the stack's endpoint configuration again (here a new serverless memory size, which
replaces ModelEndpointConfig: ProductionVariants is a create-only property in CloudFormation's
schema) must not put the first model back: PromoteModel copies each promoted archive over the
stack's model archive, which the stack's model reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from booking_core.aws.model_hosting import served_model_data_url
from booking_core.usecases.model_release import read_model_metadata
from support.ml_helpers import train_small_model, with_metadata
from support.paths import ROOT

from bookings.offline.emulator import EmulatedStack

pytestmark = pytest.mark.slow

USER_BUCKET = "user-models"
DEPLOYED_ARCHIVE = f"s3://{USER_BUCKET}/bookings/model.tar.gz"


@pytest.fixture(scope="module")
def model_archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    _, written = train_small_model(tmp_path_factory.mktemp("promotion"), n=2000, seed=14)
    return written.archive.read_bytes()


@pytest.fixture
def stack(model_archive: bytes) -> Iterator[EmulatedStack]:
    """A stack deployed with a model archive in a bucket of the user's (versioned, as advised)."""
    with EmulatedStack(
        ROOT / "template.yaml", overrides={"SageMakerModelDataUrl": DEPLOYED_ARCHIVE}
    ) as emulated:
        s3 = emulated.client("s3")
        s3.create_bucket(Bucket=USER_BUCKET)
        s3.put_bucket_versioning(Bucket=USER_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(
            Bucket=USER_BUCKET,
            Key="bookings/model.tar.gz",
            Body=with_metadata(model_archive, model_version="deployed"),
        )
        yield emulated


def served_version(stack: EmulatedStack) -> str:
    """The version of the model the stack's endpoint serves (its model's archive)."""
    endpoint = stack.resolver.get_att("ModelEndpoint", "EndpointName")
    url = served_model_data_url(stack.client("sagemaker"), endpoint)
    assert url is not None
    return read_model_metadata(stack.client("s3"), url).model_version


def promote_retrained(stack: EmulatedStack, model_archive: bytes) -> dict[str, object]:
    candidate = "ml/models/booking-model-monthly-1/output/model.tar.gz"
    stack.client("s3").put_object(
        Bucket=stack.lake_bucket,
        Key=candidate,
        Body=with_metadata(model_archive, model_version="retrained"),
    )
    promotion: dict[str, object] = stack.invoke(
        "PromoteModelFunction",
        {
            "modelDataUrl": f"s3://{stack.lake_bucket}/{candidate}",
            "modelVersion": "retrained",
            "endpointName": stack.resolver.get_att("ModelEndpoint", "EndpointName"),
        },
    )
    return promotion


def test_a_stack_update_after_a_promotion_keeps_serving_the_promoted_model(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    assert served_version(stack) == "deployed"
    promotion = promote_retrained(stack, model_archive)
    assert promotion["action"] == "updated"
    assert promotion["liveModelDataUrl"] == DEPLOYED_ARCHIVE
    assert served_version(stack) == "retrained"

    changed = stack.update_stack({"SageMakerServerlessMemoryMiB": 3072})
    # CloudFormation replaced the endpoint configuration and moved the endpoint to it...
    assert [line.split(" ", 1)[0] for line in changed] == ["ModelEndpointConfig", "ModelEndpoint"]
    # ...whose model (the stack's, unchanged) reads the archive PromoteModel recorded.
    assert served_version(stack) == "retrained"
    versions = stack.client("s3").list_object_versions(
        Bucket=USER_BUCKET, Prefix="bookings/model.tar.gz"
    )["Versions"]
    assert len(versions) == 2  # the deployed archive is kept as the older version


def test_without_the_recorded_archive_a_stack_update_puts_the_first_model_back(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    # PromoteModel as it was: the endpoint moved, the stack's model archive left as deployed.
    stack.extra_environment["LIVE_MODEL_DATA_URL"] = ""
    promote_retrained(stack, model_archive)
    assert served_version(stack) == "retrained"
    stack.update_stack({"SageMakerServerlessMemoryMiB": 3072})
    assert served_version(stack) == "deployed"


def test_an_update_that_changes_nothing_of_the_endpoint_leaves_it_alone(
    stack: EmulatedStack, model_archive: bytes
) -> None:
    promote_retrained(stack, model_archive)
    assert stack.update_stack({"LogLevel": "DEBUG"}) == []
    assert served_version(stack) == "retrained"
