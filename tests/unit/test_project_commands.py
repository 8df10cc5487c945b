"""The README's two commands are the ones the Makefile and CI run."""

from __future__ import annotations

import re

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
