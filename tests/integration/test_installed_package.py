"""The package as a user installs it: the wheel built from this checkout, installed away from it,
runs the offline stack and the SQL with the project files it carries (no checkout around it)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import DATA, ROOT

from bookings.analytics.engine import connect, run_sql
from bookings.project_files import SHIPPED

pytestmark = pytest.mark.slow

# What the build reads, besides the project files the package carries.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "layers/core")
SAMPLE = DATA / "sample_bookings.csv"
LIBRARY = Path("assets") / "vendor" / "chart.umd.min.js"


def _files_under(directory: Path) -> set[str]:
    return {
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``--target`` install of the wheel; returns its directory (what PYTHONPATH names)."""
    source = tmp_path_factory.mktemp("source")
    # The build writes build/ and *.egg-info beside its input: build from a copy of the checkout.
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in (*BUILD_INPUTS, *SHIPPED):
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignored)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    dist = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    offline = ["--quiet", "--no-deps", "--no-index"]
    build = ["wheel", *offline, "--no-build-isolation", "--wheel-dir", str(dist), str(source)]
    subprocess.run([*pip, *build], check=True)
    (wheel,) = dist.glob("*.whl")
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [*pip, "install", *offline, "--target", str(site), str(wheel)],
        check=True,
    )
    return site


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def run_installed(installed: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "BOOKINGS_SQL_DIR"}
    }
    # First on sys.path: ahead of the checkout's editable install, whose finder comes last.
    environment["PYTHONPATH"] = str(installed)
    return subprocess.run(
        list(args), cwd=workdir, env=environment, capture_output=True, text=True, timeout=600
    )


def test_the_installed_copy_is_imported_and_carries_the_project_files(
    installed: Path, workdir: Path
) -> None:
    probe = (
        "import json, bookings, booking_core\n"
        "from bookings import project_files as p\n"
        "print(json.dumps({'bookings': bookings.__file__, 'core': booking_core.__file__,\n"
        "  'checkout': str(p.checkout_root()), 'template': str(p.template_path()),\n"
        "  'sql': str(p.sql_dir())}))"
    )
    result = run_installed(installed, workdir, sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert Path(seen["bookings"]).is_relative_to(installed)
    assert Path(seen["core"]).is_relative_to(installed)
    assert seen["checkout"] == "None"
    shipped = installed / "bookings" / "project"
    assert Path(seen["template"]) == shipped / "template.yaml"
    assert Path(seen["sql"]) == shipped / "sql"
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            assert _files_under(shipped / name) == _files_under(ROOT / name), name
        else:
            assert (shipped / name).read_bytes() == (ROOT / name).read_bytes()


def test_the_installed_command_runs_a_file_and_queries_its_lake(
    installed: Path, workdir: Path
) -> None:
    shutil.copy2(SAMPLE, workdir / SAMPLE.name)
    bookings = str(installed / "bin" / "bookings")
    run = run_installed(
        installed, workdir, bookings, "run", SAMPLE.name, "--out", "out", "--json", "--quiet"
    )
    assert run.returncode == 0, run.stderr
    (outcome,) = json.loads(run.stdout)["files"]
    assert outcome["status"] == "succeeded"
    data_lines = len(SAMPLE.read_bytes().splitlines()) - 1  # the sample has no quoted newline
    assert outcome["rows"] == outcome["delivered"] == data_lines

    query = "SELECT bookings, completed FROM completion_overall"
    sql = run_installed(
        installed, workdir, bookings, "sql", query, "--lake", "out", "--format", "csv"
    )
    assert sql.returncode == 0, sql.stderr
    (row,) = list(csv.DictReader(io.StringIO(sql.stdout)))
    # Exact duplicates are stored but left out of every booking KPI.
    assert int(row["bookings"]) == outcome["delivered"] - outcome["duplicates"]
    # The same lake through this checkout's engine gives the same figures.
    con = connect(workdir / "out")
    try:
        expected = run_sql(con, query).to_pylist()
    finally:
        con.close()
    assert [{k: int(v) for k, v in row.items()}] == expected

    # The dashboards embed the chart library the package carries: no Node, no network.
    report = run_installed(installed, workdir, bookings, "report", "--lake", "out")
    assert report.returncode == 0, report.stderr
    library = installed / "bookings" / "analytics" / "assets" / "vendor" / "chart.umd.min.js"
    assert library.read_bytes() == (ROOT / "src" / "bookings" / "analytics" / LIBRARY).read_bytes()
    assert (library.parent / "chart.js-LICENSE.md").is_file()
    page = (workdir / "out" / "report" / "marketing.html").read_text(encoding="utf-8")
    assert library.read_text(encoding="utf-8") in page
