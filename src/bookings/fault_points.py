"""Test-only fault injection: stop the offline session at a named point of its writes.

The crash tests run a real ``bookings run`` in a subprocess and need it to die (or wait) at a
chosen moment, which no signal sent from outside can aim at. With the environment variable
``BOOKINGS_FAULT_POINT`` set to one of ``POINTS``, the process acts when it first reaches that
point, as ``BOOKINGS_FAULT_ACTION`` says:

- ``kill`` (the default): SIGKILL itself, as a crash or ``kill -9`` would;
- ``pause``: create the file ``BOOKINGS_FAULT_READY`` names (so the test knows it is there), then
  wait until the file ``BOOKINGS_FAULT_RESUME`` names exists (or forever, to be killed).

Unset, ``reached`` costs one dictionary look-up. Nothing else in the project sets these.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Final

POINT_VARIABLE: Final = "BOOKINGS_FAULT_POINT"
ACTION_VARIABLE: Final = "BOOKINGS_FAULT_ACTION"
READY_VARIABLE: Final = "BOOKINGS_FAULT_READY"
RESUME_VARIABLE: Final = "BOOKINGS_FAULT_RESUME"
POINTS: Final = {
    # A lake file is open: row groups written, no footer yet (the export of a file).
    "lake-file-open": "a Parquet file of the export is half written",
    # Between two moves of a file's commit into the lake (its journal is written).
    "commit-moving": "a file's commit is under way: some of its files are in the lake",
    # The catalog is being rebuilt.
    "catalog": "the catalog is being rebuilt",
}
_fired: set[str] = set()


def reached(point: str) -> None:
    """Act if the test asked to stop at ``point`` (once per process)."""
    if os.environ.get(POINT_VARIABLE) != point or point in _fired:
        return
    _fired.add(point)
    if os.environ.get(ACTION_VARIABLE, "kill") == "pause":
        ready = os.environ.get(READY_VARIABLE)
        if ready:
            Path(ready).write_text(str(os.getpid()), encoding="utf-8")
        resume = os.environ.get(RESUME_VARIABLE)
        while not (resume and Path(resume).exists()):
            time.sleep(0.05)
        return
    os.kill(os.getpid(), signal.SIGKILL)
