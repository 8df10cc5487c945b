"""Say how a test worker died: pytest-xdist reports only "worker 'gw0' crashed while running T".

Each worker points Python's faulthandler at a file of its own, so a fatal signal (SIGSEGV,
SIGABRT, SIGBUS, SIGFPE, SIGILL) leaves every thread's stack there. When a worker dies, the
controller adds to the crashed test's report:

- how the process ended: its exit code, or the signal that killed it (SIGKILL with no stack is
  what the kernel's out-of-memory killer leaves);
- the largest resident size any finished worker reached, and the memory available now;
- the end of what faulthandler wrote.

Loaded by ``tests/conftest.py``; it does nothing without xdist (``-p no:xdist``).
"""

from __future__ import annotations

import faulthandler
import os
import resource
import shutil
import signal
import tempfile
from pathlib import Path
from typing import IO, Any

import pytest

DIRECTORY_KEY = "worker_crashes_dir"
# Enough for the stacks of a few dozen threads.
LOG_TAIL_CHARACTERS = 12_000
_log_file = pytest.StashKey[IO[str]]()
_directory = pytest.StashKey[str]()


def worker_log(directory: str | Path, worker_id: str, pid: int) -> Path:
    return Path(directory) / f"{worker_id}-{pid}.log"


@pytest.hookimpl(trylast=True)  # after pytest's own faulthandler plugin, which writes to stderr
def pytest_configure(config: pytest.Config) -> None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None:
        config.stash[_directory] = tempfile.mkdtemp(prefix="pytest-worker-crashes-")
        return
    directory = workerinput.get(DIRECTORY_KEY)
    if directory:
        handle = worker_log(directory, workerinput["workerid"], os.getpid()).open("w")
        config.stash[_log_file] = handle
        faulthandler.enable(file=handle, all_threads=True)


@pytest.hookimpl(tryfirst=True)  # before pytest's faulthandler plugin puts stderr back
def pytest_unconfigure(config: pytest.Config) -> None:
    handle = config.stash.get(_log_file, None)
    if handle is not None:
        faulthandler.disable()
        handle.close()
    directory = config.stash.get(_directory, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    directory = node.config.stash.get(_directory, None)
    if directory is not None:
        node.workerinput[DIRECTORY_KEY] = directory


def exit_description(returncode: int | None) -> str:
    if returncode is None:
        return "the worker process had not ended 10 s after its channel closed"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the worker process was killed by {name}"
    return f"the worker process exited with code {returncode}"


def memory_description() -> str:
    largest_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    available = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                available = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return f"largest finished worker: {largest_mib} MiB resident; memory available now: {available}"


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    node = getattr(report, "node", None)
    popen = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)
    if node is None or popen is None:
        return
    try:
        returncode: int | None = popen.wait(timeout=10)
    except Exception:  # a TimeoutExpired, or a process already reaped elsewhere
        returncode = popen.poll()
    lines = [str(report.longrepr), exit_description(returncode), memory_description()]
    directory = node.config.stash.get(_directory, None)
    log = worker_log(directory, node.gateway.id, popen.pid) if directory else None
    written = log.read_text(encoding="utf-8", errors="replace") if log and log.exists() else ""
    if written.strip():
        lines += ["what faulthandler wrote as it died:", written[-LOG_TAIL_CHARACTERS:]]
    else:
        lines.append("faulthandler wrote nothing (no fatal signal Python could catch)")
    report.longrepr = "\n".join(lines)
