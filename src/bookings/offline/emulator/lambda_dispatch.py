"""Lambda, emulated: the template's functions, run in this process with their environments.

moto's Lambda needs Docker, so the Step Functions interpreter's Lambda invocation
(``lambda_eval_utils._invoke_lambda_function``) is replaced, for the stack's function ARNs, by a
call of the handler in this process; a raised exception becomes the task's error with
``errorType`` = the exception's class name, as in Lambda. Invocations are serialised (each needs
its own environment variables), so a Map runs its iterations one at a time.

Each function's ``Timeout`` (from the template) is enforced as Lambda enforces it: past it, the
invocation fails with ``Sandbox.Timedout`` ("Task timed out after N seconds", Lambda's error for
a function that runs past its timeout) and whatever it returns is discarded. Lambda stops the
function there; in this process its thread cannot be stopped from outside, so from its deadline
on every AWS call it makes raises (a botocore hook on every client), which ends it at its next
call with nothing more written, as a stopped sandbox writes nothing more.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.handlers

from bookings.offline.emulator.environment import function_environ
from bookings.offline.emulator.errors import HarnessError, LambdaInvocationError
from bookings.offline.emulator.template_resolver import TemplateResolver, as_text

# The error Lambda reports for a function that ran past its timeout.
TIMEOUT_ERROR = "Sandbox.Timedout"


class InvocationTimedOut(BaseException):
    """Raised in a handler's AWS calls once its invocation is past its timeout. A
    BaseException, so that no handler's ``except Exception`` carries on after it."""


_deadlines = threading.local()


def _stop_after_deadline(**_: Any) -> None:
    """botocore ``before-call`` hook: an invocation past its deadline makes no more calls."""
    deadline = getattr(_deadlines, "deadline", None)
    if deadline is not None and time.monotonic() >= deadline:
        raise InvocationTimedOut


# Every client created from now on carries the hook (botocore copies its built-in handlers into
# each new client); it does nothing outside an emulated invocation.
if ("before-call", _stop_after_deadline) not in botocore.handlers.BUILTIN_HANDLERS:
    botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _stop_after_deadline))


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Serverless::Function`` of the template, resolved (Globals merged in)."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: float
    memory_mb: int


@dataclass(frozen=True)
class LocalLambdaContext:
    """The context object Lambda passes to a handler."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def read_functions(resolver: TemplateResolver, root: Path) -> dict[str, FunctionSpec]:
    """The template's functions by logical id; code directories are relative to ``root``."""
    globals_ = (resolver.template.get("Globals") or {}).get("Function") or {}
    functions: dict[str, FunctionSpec] = {}
    for logical_id in resolver.resources_of("AWS::Serverless::Function"):
        own = resolver.resources[logical_id].get("Properties") or {}
        props = {**globals_, **own}
        environment: dict[str, str] = {}
        for source in (globals_, own):
            variables = (source.get("Environment") or {}).get("Variables") or {}
            environment.update({k: as_text(v) for k, v in resolver.resolve(variables).items()})
        code_uri = resolver.resolve(props.get("CodeUri"))
        if not isinstance(code_uri, str):
            raise HarnessError(f"{logical_id}: CodeUri must be a local directory")
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=resolver.physical_name(logical_id),
            arn=resolver.arn(logical_id),
            code_dir=(root / code_uri).resolve(),
            handler=str(resolver.resolve(props.get("Handler", "app.lambda_handler"))),
            environment=environment,
            timeout=float(resolver.resolve(props.get("Timeout", 3))),
            memory_mb=int(resolver.resolve(props.get("MemorySize", 128))),
        )
    return functions


def runtime_environment(spec: FunctionSpec, region: str) -> dict[str, str]:
    """The variables the Lambda runtime sets for every function (dummy credentials here)."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


class LambdaDispatcher:
    """Runs the functions' handlers, one invocation at a time, each in its environment.

    ``environment_of`` gives a function's whole environment at the time of the call;
    ``before_invoke`` runs first, under the same lock (the crawler emulation uses it), and
    ``after_invoke`` once the handler has returned and its environment is gone (the delivery
    streams' processors run then, as Firehose runs them after the put, not inside it).
    """

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        environment_of: Callable[[FunctionSpec], Mapping[str, str]],
        before_invoke: Callable[[FunctionSpec], None] | None = None,
        after_invoke: Callable[[FunctionSpec], None] | None = None,
    ) -> None:
        self.functions = functions
        self._environment_of = environment_of
        self._before_invoke = before_invoke
        self._after_invoke = after_invoke
        self._by_arn = {spec.arn: spec for spec in functions.values()}
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        self._running = threading.local()
        # (logical id, seconds, failed) of every invocation, in order.
        self.invocations: list[tuple[str, float, bool]] = []
        # Told (the execution's role ARN, the function's ARN) of each invocation by a state
        # machine (the permission audit listens).
        self.invoke_observers: list[Callable[[str, str], None]] = []

    def current_function(self) -> str | None:
        """The logical id of the function whose handler runs in this thread, if any."""
        current: str | None = getattr(self._running, "function", None)
        return current

    def dispatch(self, spec: FunctionSpec, event: Any) -> dict[str, Any]:
        """Run a handler as Lambda would; returns the interpreter's invocation response."""
        with self._lock:
            if self._before_invoke is not None:
                self._before_invoke(spec)
            started = time.perf_counter()
            failed = False
            context = LocalLambdaContext(
                function_name=spec.name,
                invoked_function_arn=spec.arn,
                memory_limit_in_mb=spec.memory_mb,
                timeout_seconds=spec.timeout,
            )
            deadline = context.started + spec.timeout
            self._running.function = spec.logical_id
            with function_environ(self._environment_of(spec)):
                _deadlines.deadline = deadline
                try:
                    handler = getattr(self._module(spec), spec.handler.rpartition(".")[2])
                    result = handler(copy.deepcopy(event), context)
                    payload = json.loads(json.dumps(result))
                except InvocationTimedOut:
                    payload = {}
                except Exception as exc:  # a handler's error is the task's error, as in Lambda
                    failed = True
                    payload = {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        "stackTrace": traceback.format_exception(exc)[-5:],
                    }
                finally:
                    _deadlines.deadline = None
                    self._running.function = None
            if time.monotonic() >= deadline:
                failed = True
                payload = {
                    "errorType": TIMEOUT_ERROR,
                    "errorMessage": f"RequestId: {context.aws_request_id} Error: Task timed out "
                    f"after {spec.timeout:.2f} seconds",
                }
            self.invocations.append((spec.logical_id, time.perf_counter() - started, failed))
            if self._after_invoke is not None:
                self._after_invoke(spec)
        response: dict[str, Any] = {"StatusCode": 200, "Payload": payload}
        if failed:
            response["FunctionError"] = "Unhandled"
        return response

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke one function's handler directly; its error raises LambdaInvocationError."""
        response = self.dispatch(self.functions[logical_id], event)
        if "FunctionError" in response:
            payload = response["Payload"]
            raise LambdaInvocationError(logical_id, payload["errorType"], payload["errorMessage"])
        return response["Payload"]

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold invocations back (the interpreter waits for them) until the end."""
        with self._lock:
            yield

    @contextlib.contextmanager
    def serving_the_interpreter(self) -> Iterator[None]:
        """Route moto's Step Functions Lambda tasks for the stack's functions to ``dispatch``
        until the end; tasks naming any other function go to moto as before."""
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
            lambda_eval_utils,
        )

        original = lambda_eval_utils._invoke_lambda_function

        def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
            spec = self.function_for(str(parameters.get("FunctionName", "")))
            if spec is None:
                return original(parameters, region, state_credentials)
            role_arn = str(getattr(state_credentials, "role_arn", "") or "")
            for observer in list(self.invoke_observers):
                observer(role_arn, spec.arn)
            payload = parameters.get("Payload") or b"{}"
            event = json.loads(payload.decode() if isinstance(payload, bytes) else payload)
            return self.dispatch(spec, event)

        lambda_eval_utils._invoke_lambda_function = invoke
        try:
            yield
        finally:
            lambda_eval_utils._invoke_lambda_function = original

    def function_for(self, name_or_arn: str) -> FunctionSpec | None:
        """The function a task names by ARN, physical name or logical id, if it is the stack's."""
        if name_or_arn in self._by_arn:
            return self._by_arn[name_or_arn]
        base = name_or_arn.split(":function:")[-1].split(":")[0]
        for spec in self.functions.values():
            if base in {spec.name, spec.logical_id}:
                return spec
        return None

    def _module(self, spec: FunctionSpec) -> ModuleType:
        module_file, _, _ = spec.handler.rpartition(".")
        key = f"{spec.logical_id}:{module_file}"
        if key not in self._modules:
            path = spec.code_dir / f"{module_file.replace('.', '/')}.py"
            if not path.is_file():
                raise HarnessError(f"{spec.logical_id}: handler file {path} not found")
            module_name = f"_bookings_lambda_{spec.code_dir.name}_{module_file.replace('.', '_')}"
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            if module_spec is None or module_spec.loader is None:
                raise HarnessError(f"{spec.logical_id}: cannot load {path}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
            self._modules[key] = module
        return self._modules[key]
