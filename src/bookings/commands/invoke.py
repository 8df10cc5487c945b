"""``bookings invoke FUNCTION --event FILE``: one handler run against the emulated account.

What ``sam local invoke`` does, for people without Docker: the function's handler runs in this
process with the environment the template gives it, against AWS emulated by moto with the stack's
resources created from the template. The response (JSON) goes to standard output, the function's
logs to standard error.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

from bookings.errors import CommandError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="run one Lambda function in-process against the emulated account (sam local invoke)",
        description="Runs FUNCTION (the template's logical id, e.g. ValidateFunction, or its "
        "functions/ directory name, e.g. validate) with EVENT as input, in this process, with "
        "the template's environment, against an emulated account holding the stack's "
        "resources. Prints the response on stdout and the function's logs on stderr.",
    )
    parser.add_argument("function", metavar="FUNCTION", help="logical id or functions/ directory")
    parser.add_argument("--event", required=True, metavar="FILE", help="the event (JSON file)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set or replace an environment variable of the function (repeatable)",
    )
    parser.add_argument(
        "--object",
        metavar="FILE",
        help="for an S3 Object Created event: first upload FILE to the raw bucket under the "
        "event's key and point the event at that object",
    )
    parser.set_defaults(func=run)


def _environment(pairs: list[str]) -> dict[str, str]:
    environment = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--env {pair!r}: expected KEY=VALUE")
        environment[name.strip()] = value
    return environment


def _read_event(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the event ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None


def resolve_function(functions: dict[str, Any], name: str) -> str:
    """The logical id of FUNCTION given as a logical id or a functions/ directory name."""
    wanted = name.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    for logical_id, spec in functions.items():
        if wanted in {logical_id.lower(), spec.code_dir.name.lower(), spec.name.lower()}:
            return logical_id
    valid = ", ".join(f"{lid} ({spec.code_dir.name})" for lid, spec in sorted(functions.items()))
    raise ValueError(f"unknown function {name!r}; valid: {valid}")


def _point_event_at_object(stack: Any, event: Any, local_file: Path) -> Any:
    detail: dict[str, Any] = (event.get("detail") if isinstance(event, dict) else None) or {}
    key = (detail.get("object") or {}).get("key")
    if not key:
        raise ValueError("--object needs an S3 Object Created event (detail.object.key)")
    if not local_file.is_file():
        raise ValueError(f"{local_file}: no such file")
    stack.upload(local_file, key)
    fresh = stack.object_created_event(key)
    return {**event, "resources": fresh["resources"], "detail": {**detail, **fresh["detail"]}}


def run(args: argparse.Namespace) -> int:
    from bookings.offline.emulator import EmulatedStack, HarnessError, LambdaInvocationError
    from bookings.offline.logs import captured_function_logs
    from bookings.offline.template import TemplateError
    from bookings.project_files import template_path

    try:
        environment = _environment(args.env)
        event = _read_event(Path(args.event))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    logs = io.StringIO()
    stdout = sys.stdout
    response: Any = None
    failure: dict[str, str] | None = None
    try:
        with captured_function_logs(logs):
            stack = EmulatedStack(
                template_path(),
                environment={"POWERTOOLS_LOG_LEVEL": "INFO", **environment},
            )
            with stack:
                logical_id = resolve_function(stack.functions, args.function)
                if args.object:
                    event = _point_event_at_object(stack, event, Path(args.object))
                try:
                    response = stack.invoke(logical_id, event)
                except LambdaInvocationError as exc:
                    failure = {"errorType": exc.error_type, "errorMessage": exc.error_message}
    except (ValueError, HarnessError, TemplateError) as exc:
        sys.stderr.write(logs.getvalue())
        raise CommandError(str(exc)) from None
    sys.stderr.write(logs.getvalue())
    print(json.dumps(failure if failure is not None else response, indent=1), file=stdout)
    return 1 if failure is not None else 0
