"""The README's two commands are the ones the Makefile and CI run."""

from __future__ import annotations

import re
import tomllib

from support.paths import ROOT


def _make_targets() -> dict[str, str]:
    targets: dict[str, str] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        header = re.match(r"^([a-z][a-z-]*):", line)
        if header:
            current = header.group(1)
            targets[current] = ""
        elif current and line.startswith("\t"):
            targets[current] += line.strip() + "\n"
    return targets


def test_readme_names_make_demo_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme
    assert "make test" in readme


def test_make_demo_runs_bookings_demo_and_make_test_runs_pytest() -> None:
    targets = _make_targets()
    assert "bookings demo" in targets["demo"]
    assert "pytest" in targets["test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_make_setup_installs_the_bookings_entry_point_into_the_root_virtualenv() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'bookings = "bookings.cli:main"' in pyproject
    assert "VENV := .venv" in (ROOT / "Makefile").read_text()


def test_make_test_runs_the_lint_and_type_checks_before_the_tests() -> None:
    recipe = _make_targets()["test"].splitlines()
    checks = ["ruff check .", "ruff format --check .", "mypy"]
    positions = [
        next(i for i, line in enumerate(recipe) if line.endswith(check)) for check in checks
    ]
    tests = next(i for i, line in enumerate(recipe) if "pytest" in line)
    assert positions == sorted(positions)
    assert positions[-1] < tests


def test_mypy_covers_the_core_the_cli_and_every_handler() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert set(config["files"]) == {"layers/core/booking_core", "src/bookings", "functions"}


def test_ruff_checks_complexity() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "C90" in lint["select"]
    assert lint["mccabe"]["max-complexity"] <= 10


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        requirement = line.split("#", 1)[0].strip()
        if not requirement:
            continue
        name, _, version = requirement.partition("==")
        assert version, f"{requirement!r} is not pinned with =="
        pins[re.sub(r"\[.*\]", "", name).strip().lower()] = version.strip()
    return pins


def test_the_core_layer_pins_the_versions_the_project_pins() -> None:
    layer = _pins((ROOT / "layers" / "core" / "requirements.txt").read_text().splitlines())
    project = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert layer, "the layer has no requirement"
    assert {name: project.get(name) for name in layer} == layer
