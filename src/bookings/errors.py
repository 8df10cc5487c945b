"""The command line's errors: one line on stderr in one style, ``bookings: error: <what>``.

A command raises ``CommandError`` (or returns ``fail(...)``) for anything a user can put right;
``bookings.cli.main`` prints it and exits with its code (2 unless it says otherwise). Argument
errors (argparse's) and unexpected failures come out in the same style, never as a traceback.
"""

from __future__ import annotations

import sys
from typing import TextIO

PROG = "bookings"
EXIT_USAGE = 2


class CommandError(Exception):
    """What went wrong, in one line a user can act on, and the exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def error_line(message: object) -> str:
    return f"{PROG}: error: {' '.join(str(message).split())}"


def fail(message: object, code: int = EXIT_USAGE, stream: TextIO | None = None) -> int:
    """Prints the error line and returns ``code`` (for ``return fail(...)`` in a command)."""
    print(error_line(message), file=stream or sys.stderr, flush=True)
    return code
