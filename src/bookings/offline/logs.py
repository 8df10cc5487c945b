"""Where the functions' logs go offline (CloudWatch Logs has no emulation here).

The handlers log JSON lines to standard output through Powertools, as in Lambda, and moto's Step
Functions interpreter logs a failed state through ``logging``. While an offline session runs,
both go to a sink of the caller's choice (a log file under the output directory, or a buffer
that ``bookings invoke`` prints), never between the command's own output lines.

Powertools binds its handler to the ``sys.stdout`` of the moment a handler module is first loaded
and keeps it for the process, so the redirection is one long-lived stream whose target changes;
handlers bound earlier (a module loaded before any session) are re-pointed at it. Between
sessions the stream writes to whatever ``sys.stdout`` is at the time.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

INTERPRETER_LOGGER = "moto.stepfunctions.parser"


class _SwitchableStream(io.TextIOBase):
    """A text stream writing to whichever target is current (to nothing between sessions)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.target: TextIO | None = None

    def writable(self) -> bool:
        return True

    def _current(self) -> TextIO | None:
        if self.target is not None:
            return self.target
        return None if sys.stdout is self else sys.stdout

    def write(self, text: str) -> int:
        with self._lock:
            current = self._current()
            if current is not None:
                current.write(text)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            current = self._current()
            if current is not None:
                current.flush()


_FUNCTION_OUTPUT = _SwitchableStream()


def _bind_powertools_handlers() -> None:
    """Point the Powertools loggers' stream handlers, wherever they were bound, at the switch."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        for handler in logger.handlers:
            formatter = type(handler.formatter).__module__ if handler.formatter else ""
            if (
                isinstance(handler, logging.StreamHandler)
                and formatter.startswith("aws_lambda_powertools")
                and handler.stream is not _FUNCTION_OUTPUT
            ):
                handler.setStream(_FUNCTION_OUTPUT)


@contextlib.contextmanager
def captured_function_logs(sink: TextIO) -> Iterator[TextIO]:
    """Send the handlers' standard output and the interpreter's error logs to ``sink``."""
    previous_stdout = sys.stdout
    previous_target = _FUNCTION_OUTPUT.target
    interpreter = logging.getLogger(INTERPRETER_LOGGER)
    handler = logging.StreamHandler(_FUNCTION_OUTPUT)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    previous_propagate = interpreter.propagate
    _FUNCTION_OUTPUT.target = sink
    sys.stdout = _FUNCTION_OUTPUT
    _bind_powertools_handlers()
    interpreter.addHandler(handler)
    interpreter.propagate = False
    try:
        yield sink
    finally:
        interpreter.removeHandler(handler)
        interpreter.propagate = previous_propagate
        sys.stdout = previous_stdout
        _FUNCTION_OUTPUT.flush()
        _FUNCTION_OUTPUT.target = previous_target
