"""What the fuzz tests hold every input to, and the watchdog that turns a hang into a failure.

The number of examples comes from the hypothesis profile: the default one in ``make test`` (a
few seconds per test), ``fuzz`` in ``make fuzz`` (``tests/conftest.py``).
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Seconds one input may take before it counts as a hang (inputs are a few kilobytes at most;
# a shared machine under load stretches milliseconds, never to this).
HANG_SECONDS = 20.0


class Hang(BaseException):
    """An input the code under test did not finish within its time (a BaseException, so that
    no ``except Exception`` in the code under test swallows it)."""


@contextmanager
def within(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise ``Hang`` if the block takes longer than ``seconds`` (SIGALRM, main thread; an
    outer alarm, such as pytest-timeout's, is put back with the time it had left)."""

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = max(previous_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, previous_interval)


def characters(text: str, delimiter: str) -> str:
    """The characters of CSV text that must each land in exactly one record: all but quotes,
    delimiters and white space (which quoting, splitting and blank lines move or drop)."""
    return re.sub(rf'["{re.escape(delimiter)}\s]', "", text)
