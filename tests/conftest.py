"""Shared fixtures: the repository root and an AWS account emulated by moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support.paths import ROOT

# A test worker that dies says how (its signal, memory, faulthandler's stacks) in the report.
pytest_plugins = ["support.worker_crashes"]

# ``make fuzz`` loads this profile: the fuzz tests (tests/unit/test_fuzz.py), which leave the
# number of examples to the profile, then try many more inputs each than ``make test`` does.
settings.register_profile(
    "fuzz",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a region, so that no test can reach a real AWS account."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_aws(aws_env: None) -> Iterator[None]:
    """An empty AWS account in moto for the duration of one test."""
    from moto import mock_aws

    with mock_aws():
        yield
