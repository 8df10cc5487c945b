"""``bookings invoke FUNCTION --event FILE``: one handler run against the emulated account.

What ``sam local invoke`` does, for people without Docker: the function's handler runs in this
process with the environment the template gives it, against AWS emulated by moto with the stack's
resources created from the template. The response (JSON) goes to standard output, the function's
logs to standard error. ``--seed`` first creates what the event refers to
(``bookings.offline.seeding``); ``--parameter`` sets template parameters, which switch on the
optional parts (the model functions exist when an endpoint is configured).
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
    from bookings.offline.seeding import seed_help

    seeds = "\n".join(f"  {line}" for line in seed_help())
    parser = subparsers.add_parser(
        "invoke",
        help="run one Lambda function in-process against the emulated account (sam local invoke)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Runs FUNCTION (the template's logical id, e.g. ValidateFunction, or its "
        "functions/ directory name, e.g. validate) with EVENT as input, in this process, with "
        "the template's environment, against an emulated account holding the stack's "
        "resources. Prints the response on stdout and the function's logs on stderr.\n\n"
        "The account is fresh: the objects a sample event names do not exist in it. --seed "
        "creates them first, from the sample data (or --object FILE), running the steps before "
        "the function for real; a bucket of a deployed stack the event names becomes the "
        "emulated stack's. What --seed does for each function (functions/ directory):\n"
        f"{seeds}\n\n"
        "evaluate_model and promote_model exist only when an endpoint is configured (the "
        "template's HasEndpoint condition): add --parameter "
        "SageMakerModelDataUrl=s3://BUCKET/KEY.tar.gz (or SageMakerEndpointName=NAME).\n\n"
        "Every event of events/, on a fresh account:\n"
        "  bookings invoke validate --event events/validate.json --seed\n"
        "  bookings invoke evaluate_model --event events/evaluate_model.json --seed \\\n"
        "    --parameter SageMakerModelDataUrl=s3://models/bookings/model.tar.gz",
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
        "event's key and point the event at that object; with --seed, the data to seed from",
    )
    parser.add_argument(
        "--seed",
        action="store_true",
        help="first create what the event refers to (see above)",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter of the emulated stack (repeatable), e.g. "
        "SageMakerModelDataUrl=s3://models/bookings/model.tar.gz",
    )
    parser.set_defaults(func=run)


def _pairs(option: str, pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{option} {pair!r}: expected KEY=VALUE")
        values[name.strip()] = value
    return values


def _read_event(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the event ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None


def resolve_function(
    functions: dict[str, Any], name: str, template: dict[str, Any] | None = None
) -> str:
    """The logical id of FUNCTION given as a logical id or a functions/ directory name; a
    function of the template its conditions leave out is named with its condition."""
    wanted = name.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    for logical_id, spec in functions.items():
        if wanted in {logical_id.lower(), spec.code_dir.name.lower(), spec.name.lower()}:
            return logical_id
    for logical_id, resource in ((template or {}).get("Resources") or {}).items():
        code = str((resource.get("Properties") or {}).get("CodeUri", "")).rstrip("/")
        if resource.get("Type") == "AWS::Serverless::Function" and wanted in {
            logical_id.lower(),
            code.rsplit("/", 1)[-1].lower(),
        }:
            raise ValueError(
                f"{logical_id} exists only when the template's condition "
                f"{resource.get('Condition')} holds: set the parameters it depends on with "
                "--parameter (see bookings invoke --help)"
            )
    valid = ", ".join(f"{lid} ({spec.code_dir.name})" for lid, spec in sorted(functions.items()))
    raise ValueError(f"unknown function {name!r}; valid: {valid}")


def _point_event_at_object(stack: Any, event: Any, local_file: Path) -> Any:
    detail = event.get("detail") if isinstance(event, dict) else None
    found = detail.get("object") if isinstance(detail, dict) else None
    key = found.get("key") if isinstance(found, dict) else None
    if not isinstance(key, str) or not key:
        raise ValueError("--object needs an S3 Object Created event (detail.object.key)")
    assert isinstance(detail, dict)
    if not local_file.is_file():
        raise ValueError(f"{local_file}: no such file")
    stack.upload(local_file, key)
    fresh = stack.object_created_event(key)
    return {**event, "resources": fresh["resources"], "detail": {**detail, **fresh["detail"]}}


def run(args: argparse.Namespace) -> int:
    from bookings.offline.emulator import EmulatedStack, HarnessError, LambdaInvocationError
    from bookings.offline.logs import captured_function_logs
    from bookings.offline.seeding import SeedError, seed_event
    from bookings.offline.template import TemplateError
    from bookings.project_files import template_path

    try:
        environment = _pairs("--env", args.env)
        parameters = _pairs("--parameter", args.parameter)
        event = _read_event(Path(args.event))
        source = Path(args.object) if args.object else None
        if source is not None and not source.is_file():
            raise ValueError(f"{source}: no such file")
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
                overrides=parameters,
                environment={"POWERTOOLS_LOG_LEVEL": "INFO", **environment},
            )
            with stack:
                logical_id = resolve_function(stack.functions, args.function, stack.template)
                if args.seed:
                    seeded = seed_event(
                        stack, stack.functions[logical_id].code_dir.name, event, source=source
                    )
                    event = seeded.event
                    for note in seeded.notes:
                        logs.write(f"seed: {note}\n")
                elif source is not None:
                    event = _point_event_at_object(stack, event, source)
                try:
                    response = stack.invoke(logical_id, event)
                except LambdaInvocationError as exc:
                    failure = {"errorType": exc.error_type, "errorMessage": exc.error_message}
    except (ValueError, HarnessError, TemplateError, SeedError, LambdaInvocationError) as exc:
        sys.stderr.write(logs.getvalue())
        raise CommandError(str(exc)) from None
    sys.stderr.write(logs.getvalue())
    print(json.dumps(failure if failure is not None else response, indent=1), file=stdout)
    return 1 if failure is not None else 0
