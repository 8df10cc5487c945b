"""The ``bookings`` command line: one sub-command per module in ``bookings.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

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
    "serve_model",
    "package_training_code",
    "demo",
)


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"bookings.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"bookings.commands.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bookings",
        description="Airline booking analytics: ingest, clean, catalogue, analyse and score "
        "booking files, on AWS or entirely on this machine.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
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
        return 2
    try:
        return func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
