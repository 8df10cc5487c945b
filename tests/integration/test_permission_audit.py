"""The permission audit finds a call the template does not allow, for a function and for a state
machine's own calls: each test takes a copy of the template with one grant taken out (as it
was, or as it could be lost), runs the calls on the emulated stack, and reads the audit's
verdict on that copy (the SAM transform of the copy gives the roles)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.ml_helpers import train_small_model, with_metadata
from support.paths import ROOT

from bookings import deploy_check
from bookings.offline.emulator import EmulatedStack
from bookings.offline.emulator.permissions import PermissionAudit, auditing

pytestmark = pytest.mark.slow

USER_BUCKET = "user-models"
DEPLOYED_ARCHIVE = f"s3://{USER_BUCKET}/bookings/model.tar.gz"

# EvaluateModel's grant on the archive the stack was deployed with, which the former template
# did not have (the live model's archive is in a bucket of the user's).
DEPLOYED_ARCHIVE_GRANT = "\n".join(
    [
        "            # Until a retrained model is promoted, the live model is the archive the"
        " stack was",
        "            # deployed with (SageMakerModelDataUrl), in a bucket of the user's.",
        "            - !If",
        "              - CreateModelEndpoint",
        "              - Sid: ReadDeployedModelArchive",
        "                Effect: Allow",
        "                Action: s3:GetObject",
        "                Resource: !Sub",
        "                  - arn:${AWS::Partition}:s3:::${ObjectPath}",
        '                  - ObjectPath: !Select [1, !Split ["s3://", !Ref SageMakerModelDataUrl]]',
        "              - !Ref AWS::NoValue",
        "",
    ]
)
CHUNK_LIST_GRANT = "\n".join(
    [
        "            - Sid: ReadChunkLists",
        "              Effect: Allow",
        "              Action: s3:GetObject",
        '              Resource: !Sub "${LakeBucket.Arn}/staging/*/chunks.json"',
        "",
    ]
)
CHILD_EXECUTIONS_GRANT = "\n".join(
    [
        "            - Sid: StartChunkExecutions",
        "              Effect: Allow",
        "              Action: states:StartExecution",
        '              Resource: !Sub "arn:${AWS::Partition}:states:${AWS::Region}:'
        '${AWS::AccountId}:stateMachine:${AWS::StackName}-ingest-file"',
        "",
    ]
)


def roles_without(tmp_path: Path, *grants: str) -> dict[str, object]:
    """The template, with these grants taken out, after the SAM transform."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    for grant in grants:
        assert text.count(grant) == 1, grant
        text = text.replace(grant, "")
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "tools", tmp_path / "tools")
    (tmp_path / ".tools").symlink_to((ROOT / ".tools").resolve())
    return deploy_check.Project(tmp_path).transformed


@pytest.fixture(scope="module")
def model_archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    _, written = train_small_model(tmp_path_factory.mktemp("audit"), n=2000, seed=15)
    return written.archive.read_bytes()


def with_model_archives(stack: EmulatedStack, model_archive: bytes) -> EmulatedStack:
    """The archive the stack was deployed with (a bucket of the user's), and a retrained one."""
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=USER_BUCKET)
    s3.put_object(
        Bucket=USER_BUCKET,
        Key="bookings/model.tar.gz",
        Body=with_metadata(model_archive, model_version="deployed"),
    )
    s3.put_object(
        Bucket=stack.lake_bucket,
        Key="ml/models/booking-model-m1/output/model.tar.gz",
        Body=with_metadata(model_archive, model_version="retrained"),
    )
    return stack


@pytest.fixture
def model_stack(model_archive: bytes) -> Iterator[EmulatedStack]:
    """A stack deployed with a model archive in a bucket of the user's, and a retrained one."""
    with EmulatedStack(
        ROOT / "template.yaml", overrides={"SageMakerModelDataUrl": DEPLOYED_ARCHIVE}
    ) as stack:
        yield with_model_archives(stack, model_archive)


def evaluate(stack: EmulatedStack) -> dict[str, object]:
    evaluation: dict[str, object] = stack.invoke(
        "EvaluateModelFunction",
        {
            "modelDataUrl": f"s3://{stack.lake_bucket}/ml/models/booking-model-m1/output/model.tar.gz",
            "endpointName": stack.resolver.get_att("ModelEndpoint", "EndpointName"),
            "minRocAuc": 0.5,
        },
    )
    return evaluation


def test_evaluate_model_reading_the_deployed_archive_is_denied_by_the_former_template(
    tmp_path: Path, model_archive: bytes
) -> None:
    former = PermissionAudit(roles_without(tmp_path, DEPLOYED_ARCHIVE_GRANT))
    with (
        auditing(former),
        EmulatedStack(
            ROOT / "template.yaml", overrides={"SageMakerModelDataUrl": DEPLOYED_ARCHIVE}
        ) as stack,
    ):
        with_model_archives(stack, model_archive)
        evaluation = evaluate(stack)
    # The emulated call works (moto checks no permission)...
    assert evaluation["live"]["modelVersion"] == "deployed"  # type: ignore[index]
    # ...and the former template's role would have refused it: AccessDenied on every run.
    assert [str(denial) for denial in former.denials()] == [
        "EvaluateModelFunction: s3:GetObject on "
        f"arn:aws:s3:::{USER_BUCKET}/bookings/model.tar.gz (s3.GetObject) is not allowed by "
        "its role EvaluateModelFunctionRole"
    ]
    # Its other calls (the candidate's archive, the endpoint's description) were allowed.
    principals = {call.principal for call in former.calls}
    assert principals == {"EvaluateModelFunction"}
    assert len(former.calls) > len(former.denials())


def test_the_template_allows_the_model_steps_calls(
    model_stack: EmulatedStack, permission_audit: PermissionAudit
) -> None:
    first = len(permission_audit.calls)
    evaluate(model_stack)
    promotion = model_stack.invoke(
        "PromoteModelFunction",
        {
            "modelDataUrl": f"s3://{model_stack.lake_bucket}/ml/models/booking-model-m1/output/model.tar.gz",
            "modelVersion": "retrained",
            "endpointName": model_stack.resolver.get_att("ModelEndpoint", "EndpointName"),
        },
    )
    assert promotion["action"] == "updated"
    made = {(c.principal, c.service, c.operation) for c in permission_audit.calls[first:]}
    assert {
        ("EvaluateModelFunction", "s3", "GetObject"),
        ("EvaluateModelFunction", "sagemaker", "DescribeEndpoint"),
        ("PromoteModelFunction", "sagemaker", "CreateModel"),
        ("PromoteModelFunction", "sagemaker", "UpdateEndpoint"),
        ("PromoteModelFunction", "s3", "CopyObject"),
    } <= made
    assert permission_audit.new_denials() == []


def test_the_distributed_maps_own_calls_are_checked_against_the_state_machines_role(
    tmp_path: Path,
) -> None:
    without = PermissionAudit(roles_without(tmp_path, CHUNK_LIST_GRANT, CHILD_EXECUTIONS_GRANT))
    with (
        auditing(without),
        EmulatedStack(ROOT / "template.yaml", overrides={"ChunkSize": 400}) as stack,
    ):
        outcome = stack.put_file(ROOT / "data" / "sample_bookings.csv", "incoming/audited.csv")
    assert outcome is not None
    assert outcome.status == "SUCCEEDED", outcome.cause
    denied = {(d.call.principal, d.requirement.action) for d in without.denials()}
    assert denied == {
        ("IngestFileStateMachine", "s3:GetObject"),  # its ItemReader reading the chunk list
        ("IngestFileStateMachine", "states:StartExecution"),  # a child execution per chunk
    }
    starts = [d for d in without.denials() if d.requirement.action == "states:StartExecution"]
    assert len(starts) == outcome.output["chunks"]
    assert all(d.requirement.resource == stack.state_machine_arn for d in starts)
