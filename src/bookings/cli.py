"""The ``bookings`` command line: one sub-command per module in ``bookings.commands``.

Every command module imports only the standard library at start (its ``run`` imports the rest),
so that ``bookings --help`` and a quick ``bookings sql`` do not load pandas, pyarrow or pydantic.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn

from bookings.errors import EXIT_USAGE, CommandError, error_line, fail

# Each module defines ``register(subparsers) -> None``; the parser it adds sets ``func``,
# a callable taking the parsed arguments and returning the exit code.
COMMAND_MODULES = (
    "generate",
    "validate",
    "run",
    "sql",
    "audit",
    "watch",
    "invoke",
    "report",
    "train",
    "evaluate",
    "score",
    "serve",
    "serve_model",
    "package_training_code",
    "demo",
)
# Set to show the traceback of an unexpected failure (for bug reports).
DEBUG_VARIABLE = "BOOKINGS_DEBUG"
EXIT_INTERNAL_ERROR = 1


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with the project's error line instead of argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, error_line(f"{message} (see: {self.prog} --help)") + "\n")


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"bookings.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"bookings.commands.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="bookings",
        description="Airline booking analytics: ingest, clean, catalogue, analyse and score "
        "booking files, on AWS or entirely on this machine.",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=ArgumentParser
    )
    for name in COMMAND_MODULES:
        module = _load(name)
        if module is not None:
            module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return func(args)
    except CommandError as exc:
        return fail(exc, exc.code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the promise of every command: one line, never a traceback
        if os.environ.get(DEBUG_VARIABLE):
            traceback.print_exc()
        first = str(exc).splitlines()[0] if str(exc) else ""
        return fail(
            f"internal error: {type(exc).__name__}: {first} (set {DEBUG_VARIABLE}=1 to see where)",
            EXIT_INTERNAL_ERROR,
        )


if __name__ == "__main__":
    sys.exit(main())
