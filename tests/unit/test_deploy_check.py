"""The template checks of `make deploy-check` find each kind of defect they are for: each test
copies the template and the workflow definitions, puts one defect back, and runs the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

from bookings import deploy_check


def project_with(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> deploy_check.Project:
    """A copy of the template and definitions, each file's ``old`` text replaced by ``new``."""
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    shutil.copytree(ROOT / "statemachines", tmp_path / "statemachines")
    for relative, (old, new) in edits.items():
        path = tmp_path / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (relative, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    return deploy_check.Project(tmp_path)


def test_a_float_substitution_is_found(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"template.yaml": ('MinRocAuc: "0.75"', "MinRocAuc: 0.75")})
    (problem,) = deploy_check.substitution_types(project)
    assert "TrainModelStateMachine" in problem
    assert "MinRocAuc is 0.75 (float)" in problem


def test_a_placeholder_without_substitution_is_found(tmp_path: Path) -> None:
    old = '"Seconds": ${TrainingPollSeconds}'
    project = project_with(
        tmp_path, {"statemachines/train_model.asl.json": (old, '"Seconds": ${PollSeconds}')}
    )
    problems = deploy_check.substitution_types(project)
    assert "TrainModelStateMachine: ${PollSeconds} has no substitution" in problems


def edit_state(project: deploy_check.Project, state: str, old: str, new: str) -> None:
    """Replace the first ``old`` after the start of ``state`` in the retraining definition."""
    path = project.root / "statemachines" / "train_model.asl.json"
    text = path.read_text(encoding="utf-8")
    start = text.index(f'"{state}": {{')
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")


@pytest.mark.parametrize(
    ("state", "old", "new", "integration"),
    [
        (
            "CheckTraining",
            '"States.TaskFailed"',
            '"SageMaker.ThrottlingException"',
            "sagemaker:describeTrainingJob",
        ),
        (
            "ExportTrainingData",
            '"Athena.InternalServerException"',
            '"Athena.ThrottlingException"',
            "athena:startQueryExecution",
        ),
        ("Train", '"SageMaker.ResourceInUseException"', '"SageMaker.ResourceInUse"', "sagemaker"),
    ],
)
def test_an_error_no_api_raises_is_found(
    tmp_path: Path, state: str, old: str, new: str, integration: str
) -> None:
    project = project_with(tmp_path, {})
    edit_state(project, state, old, new)
    problems = deploy_check.workflow_error_names(project)
    assert len(problems) == 1, problems
    assert f"/{state}: Retry names {new.strip(chr(34))}" in problems[0]
    assert integration in problems[0]


def test_a_lambda_error_that_does_not_exist_is_found(tmp_path: Path) -> None:
    project = project_with(tmp_path, {})
    path = tmp_path / "statemachines" / "ingest_file.asl.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('"Lambda.TooManyRequestsException"', '"Lambda.ThrottlingException"'),
        encoding="utf-8",
    )
    problems = deploy_check.workflow_error_names(project)
    # Each retry, in both configurations checked (the defaults, and with a model).
    assert len(problems) == 2 * text.count('"Lambda.TooManyRequestsException"') > 2
    assert all("Lambda.ThrottlingException" in p and "lambda:invoke" in p for p in problems)


def test_an_iam_action_that_does_not_exist_is_found(tmp_path: Path) -> None:
    project = project_with(
        tmp_path,
        {
            "template.yaml": (
                "Action: [glue:StartCrawler, glue:GetCrawler]",
                "Action: [glue:RunCrawler, glue:Get*]",
            )
        },
    )
    assert deploy_check.iam_actions(project) == [
        "StartCrawlerFunction: glue:RunCrawler is not an IAM action"
    ]


def test_a_wildcard_matching_no_action_is_found(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"template.yaml": ("- kms:Create*", "- kms:Make*")})
    assert deploy_check.iam_actions(project) == ["AlertTopicKey: kms:Make* matches no IAM action"]


def test_a_suffix_on_a_log_group_arn_is_found(tmp_path: Path) -> None:
    project = project_with(
        tmp_path,
        {
            "template.yaml": (
                'Resource: !Sub "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:'
                'log-group:${DeliveryStreamLogGroup}:log-stream:${DeliveryStreamLogStream}"',
                'Resource: !Sub "${DeliveryStreamLogGroup.Arn}:log-stream:*"',
            )
        },
    )
    (problem,) = deploy_check.log_group_arns(project)
    assert problem.startswith("DeliveryStreamRole: ")
    assert "DeliveryStreamLogGroup.Arn" in problem


def test_an_incremental_recrawl_of_catalog_targets_is_found(tmp_path: Path) -> None:
    project = project_with(
        tmp_path,
        {
            "template.yaml": (
                "RecrawlBehavior: CRAWL_EVERYTHING",
                "RecrawlBehavior: CRAWL_NEW_FOLDERS_ONLY",
            )
        },
    )
    assert deploy_check.crawler_recrawl_policies(project) == [
        "PartitionCrawler: RecrawlBehavior CRAWL_NEW_FOLDERS_ONLY applies to S3 targets only, "
        "the crawler has CatalogTargets"
    ]


def test_express_child_executions_longer_than_five_minutes_are_found(tmp_path: Path) -> None:
    project = project_with(
        tmp_path,
        {
            "statemachines/ingest_file.asl.json": (
                '"ExecutionType": "STANDARD"',
                '"ExecutionType": "EXPRESS"',
            )
        },
    )
    # Enrich, Score and Deliver may each run for 300 s: one child could need 900 s.
    assert deploy_check.express_children_within_their_limit(project) == [
        "IngestFileStateMachine/ProcessChunks: its EXPRESS child executions end after 300 s, "
        "its tasks may take 900 s"
    ]
    assert deploy_check.express_children_within_their_limit(deploy_check.Project(ROOT)) == []


def test_names_that_include_the_stack_or_environment_are_unique() -> None:
    resources = {"GlueDatabase": {}}
    unique = deploy_check.names_the_stack
    assert unique({"Fn::Sub": "${AWS::StackName}-core"}, resources)
    assert unique({"Fn::Sub": "airline_bookings_${EnvironmentName}"}, resources)
    assert unique({"Ref": "GlueDatabase"}, resources)
    assert unique({"Fn::Sub": ["x-${Name}", {"Name": {"Ref": "AWS::StackName"}}]}, resources)
    assert unique(
        {"Fn::If": ["C", {"Fn::Sub": "${AWS::StackName}"}, {"Ref": "AWS::NoValue"}]}, resources
    )
    assert not unique("TrainModelStateMachineMonthly", resources)
    assert not unique({"Fn::Sub": "${AWS::Region}-bookings"}, resources)
    assert not unique({"Ref": "LogLevel"}, resources)
    assert not unique({"Fn::If": ["C", {"Fn::Sub": "${AWS::StackName}"}, "fixed"]}, resources)


def test_the_command_prints_one_line_per_check_and_fails_on_a_defect(tmp_path: Path) -> None:
    def run(root: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bookings.deploy_check", "--root", str(root), "--offline-only"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    offline = [check.name for check in deploy_check.CHECKS if not check.needs_tools]
    clean = run(ROOT)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.splitlines() == [f"{name}: ok" for name in offline]

    project_with(tmp_path, {"template.yaml": ('MinRocAuc: "0.75"', "MinRocAuc: 0.75")})
    broken = run(tmp_path)
    assert broken.returncode == 1
    lines = broken.stdout.splitlines()
    assert lines[: len(offline)] == [
        f"{name}: {'failed' if name.startswith('definition substitutions') else 'ok'}"
        for name in offline
    ]
    assert any("MinRocAuc is 0.75 (float)" in line for line in lines[len(offline) :])
