"""The test suite's own crash report: a worker that dies says how, in the crashed test's report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

DYING_TESTS = """
import os
import signal


def test_a_segfault_in_native_code():
    os.kill(os.getpid(), signal.SIGSEGV)


def test_killed_outright():
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_a_crashed_worker_reports_its_signal_memory_and_stacks(tmp_path: Path) -> None:
    (tmp_path / "test_dying.py").write_text(DYING_TESTS, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    plugins = ["-p", "support.worker_crashes", "-p", "no:cacheprovider"]
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "1",
            *plugins,
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = finished.stdout
    assert finished.returncode == 1, out + finished.stderr
    assert "2 failed" in out
    segfault = out.split("test_a_segfault_in_native_code", 1)[1]
    assert "the worker process was killed by SIGSEGV" in segfault
    assert "Fatal Python error: Segmentation fault" in segfault
    assert "line 7 in test_a_segfault_in_native_code" in segfault
    assert "largest finished worker: " in segfault
    killed = out.split("crashed while running 'test_dying.py::test_killed_outright'", 1)[1]
    assert "the worker process was killed by SIGKILL" in killed
    assert "faulthandler wrote nothing" in killed
