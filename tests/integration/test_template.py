"""The template through the AWS tooling: `sam validate --lint`, cfn-lint, checkov and `sam build`.

The tools live in .tools/bin (`make tools`); a missing tool fails the test with that command.
`sam build` downloads the core layer's wheels from PyPI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

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
    assert len(functions) == 12  # ten ingest functions and two retraining steps
    for function in functions:
        assert (function / "app.py").is_file(), function.name
        total = directory_size(function) + layer_bytes
        assert total < MAX_UNZIPPED_BYTES, (
            f"{function.name} with the layer is {total / 2**20:.1f} MiB unzipped"
        )
