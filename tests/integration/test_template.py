"""The template through the AWS tooling: `sam validate --lint`, cfn-lint, checkov, npm's
asl-validator, the SAM transform (names per stack) and `sam build`.

The tools live in .tools (`make tools`); a missing tool fails the test with that command.
`sam build` and the layer build download the core layer's wheels from PyPI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.contract import FUNCTIONS, TRAINING_FUNCTIONS
from support.paths import ROOT

from bookings import deploy_check

TEMPLATE = ROOT / "template.yaml"
TOOLS = ROOT / ".tools" / "bin"
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024

pytestmark = pytest.mark.slow


def tool(name: str) -> str:
    path = TOOLS / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make tools` (it installs into {TOOLS})")
    return found


def tool_environment() -> dict[str, str]:
    env = dict(os.environ)
    # sam build looks for python3.12 on PATH: the project's virtualenv provides it.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["SAM_CLI_TELEMETRY"] = "0"
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def run(command: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        env=tool_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_sam_validate_lint() -> None:
    result = run([tool("sam"), "validate", "--lint", "--template", str(TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_reports_nothing() -> None:
    result = run([tool("cfn-lint"), str(TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_checkov_finds_no_failed_check() -> None:
    result = run(
        [
            tool("checkov"),
            "--file",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ]
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 50
    assert result.returncode == 0, result.stderr


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def test_sam_build_fits_each_function_with_the_layer_under_50_mib(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    result = run(
        [tool("sam"), "build", "--template", str(TEMPLATE), "--build-dir", str(build_dir)],
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    layer = build_dir / "CoreLayer"
    assert (layer / "python" / "booking_core" / "schema.py").is_file()
    assert (layer / "python" / "pydantic_core").is_dir()
    # The layer targets arm64: its compiled extensions must be aarch64 builds.
    extensions = [p.name for p in (layer / "python").rglob("*.so")]
    assert extensions
    assert all("x86_64" not in name for name in extensions), extensions
    layer_bytes = directory_size(layer)

    functions = [p for p in build_dir.iterdir() if p.is_dir() and p.name.endswith("Function")]
    # The ingest functions (workflow, API, stream) and the two retraining steps.
    assert {p.name for p in functions} == set(FUNCTIONS) | set(TRAINING_FUNCTIONS)
    for function in functions:
        assert (function / "app.py").is_file(), function.name
        total = directory_size(function) + layer_bytes
        assert total < MAX_UNZIPPED_BYTES, (
            f"{function.name} with the layer is {total / 2**20:.1f} MiB unzipped"
        )


@pytest.fixture(scope="module")
def project() -> deploy_check.Project:
    return deploy_check.Project(ROOT)


def test_asl_validator_accepts_both_workflows_once_substituted(
    project: deploy_check.Project,
) -> None:
    labels = [label for label, _ in project.definitions()]
    assert labels == [
        "IngestFileStateMachine (defaults)",
        "IngestFileStateMachine (with a model)",
        "TrainModelStateMachine (with a model)",
    ]
    assert deploy_check.asl_validator(project) == []


def test_every_name_differs_between_the_stacks_of_one_account(
    project: deploy_check.Project,
) -> None:
    assert deploy_check.names_unique_per_stack(project) == []
    # The SAM-generated retraining schedule is among the names checked.
    schedules = [
        spec["Properties"]["Name"]
        for spec in project.transformed["Resources"].values()
        if spec["Type"] == "AWS::Scheduler::Schedule"
    ]
    assert schedules == [{"Fn::Sub": "${AWS::StackName}-retrain-monthly"}]


def test_the_layer_builds_with_python_3_12_whatever_python3_is(tmp_path: Path) -> None:
    """deploy/core-layer/Makefile as `sam build` runs it (in a copy of layers/core, with
    ARTIFACTS_DIR), from a shell whose python3 is another version than the pins require."""
    other_python = tmp_path / "bin" / "python3"
    other_python.parent.mkdir()
    other_python.write_text(
        "#!/bin/sh\necho 'Python 3.11 stands here: the pins need 3.12' >&2\nexit 1\n"
    )
    other_python.chmod(0o755)
    source = tmp_path / "source"
    shutil.copytree(ROOT / "layers" / "core", source, ignore=shutil.ignore_patterns("__pycache__"))
    artifacts = tmp_path / "artifacts"
    environment = {
        key: value for key, value in os.environ.items() if key not in {"PYTHON", "VIRTUAL_ENV"}
    }
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in environment.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    environment["PATH"] = os.pathsep.join([str(other_python.parent), *path])
    environment["ARTIFACTS_DIR"] = str(artifacts)
    result = subprocess.run(
        ["make", "-f", str(ROOT / "deploy" / "core-layer" / "Makefile"), "build-CoreLayer"],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = artifacts / "python"
    assert (layer / "booking_core" / "schema.py").is_file()
    assert (layer / "airportsdata").is_dir()
    assert not (layer / "boto3").exists()


def project_without(tmp_path: Path, *lines: str) -> deploy_check.Project:
    """A copy of the project whose template lacks these lines (the tools are the project's)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for line in lines:
        assert text.count(line) == 1, line
        text = text.replace(line, "")
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    for name in ("statemachines", "functions", "layers", "tools", "data"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".tools").symlink_to((ROOT / ".tools").resolve())
    return deploy_check.Project(tmp_path)


START_CHILDREN = (
    "            - Sid: StartChunkExecutions\n"
    "              Effect: Allow\n"
    "              Action: states:StartExecution\n"
    '              Resource: !Sub "arn:${AWS::Partition}:states:${AWS::Region}:'
    '${AWS::AccountId}:stateMachine:${AWS::StackName}-ingest-file"\n'
)


def test_the_distributed_map_needs_its_role_to_start_its_child_executions(
    project: deploy_check.Project, tmp_path: Path
) -> None:
    assert deploy_check.distributed_map_permissions(project) == []
    without = project_without(tmp_path, START_CHILDREN)
    problems = deploy_check.distributed_map_permissions(without)
    assert problems == [
        f"IngestFileStateMachine ({label}): its Distributed Map ProcessChunks needs "
        "states:StartExecution on arn:aws:states:us-east-1:123456789012:stateMachine:"
        "airline-bookings-dev-ingest-file, which its role does not allow"
        for label in ("defaults", "with a model")
    ]


def test_a_promotion_the_stack_does_not_follow_is_found(
    project: deploy_check.Project, tmp_path: Path
) -> None:
    assert deploy_check.stack_follows_promotions(project) == []
    line = (
        '          LIVE_MODEL_DATA_URL: !If [CreateModelEndpoint, !Ref SageMakerModelDataUrl, ""]\n'
    )
    (problem,) = deploy_check.stack_follows_promotions(project_without(tmp_path, line))
    assert problem.startswith("PromoteModelFunction may update airline-bookings-dev-ModelEndpoint")
    assert "LIVE_MODEL_DATA_URL is None" in problem


READ_CHUNK_LISTS = """            - Sid: ReadChunkLists
              Effect: Allow
              Action: s3:GetObject
              Resource: !Sub "${LakeBucket.Arn}/staging/*/chunks.json"
"""


def test_the_calls_of_sample_files_are_checked_against_the_roles(
    project: deploy_check.Project, tmp_path: Path
) -> None:
    assert deploy_check.calls_allowed_by_roles(project) == []
    problems = deploy_check.calls_allowed_by_roles(project_without(tmp_path, READ_CHUNK_LISTS))
    assert problems, "a state machine reading its chunk lists without the grant went unnoticed"
    assert all(
        p.startswith("IngestFileStateMachine: s3:GetObject on arn:aws:s3:::") for p in problems
    )
    assert all(
        p.endswith(
            "/chunks.json (s3.GetObject) is not allowed by its role IngestFileStateMachineRole"
        )
        for p in problems
    )
