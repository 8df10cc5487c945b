"""``EmulatedStack``: the SAM application in moto, driven like the deployed stack.

It reads ``template.yaml`` (never a second, hand-kept list of functions), resolves it
(``template_resolver``), creates the stack's resources in moto (``resources``), dispatches the
state machines' Lambda tasks to the real handlers with their environments (``lambda_dispatch``,
``environment``), emulates the crawler (``crawler``) and the EventBridge rule (``event_rules``),
and runs executions in moto's own Step Functions interpreter (``executions``), with the rules
of Step Functions moto leaves out (``step_functions``: payload and history quotas, terminal
errors, a Distributed Map's tolerated failures).

Waits: ``FlushWaitSeconds`` and ``CrawlerPollSeconds`` are 0 and ``RetryIntervalSeconds`` is 1 by
default, through the same substitutions the template passes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bookings.offline.emulator.crawler import CRAWLER_POLL_FUNCTION, CrawlerEmulation
from bookings.offline.emulator.environment import python_only_environ
from bookings.offline.emulator.errors import HarnessError
from bookings.offline.emulator.event_rules import (
    object_created_event,
    pattern_matches,
    rule_patterns,
)
from bookings.offline.emulator.executions import ExecutionOutcome, Executions, StateVisit
from bookings.offline.emulator.firehose import StreamProcessors, stream_processing
from bookings.offline.emulator.lambda_dispatch import (
    FunctionSpec,
    LambdaDispatcher,
    read_functions,
    runtime_environment,
)
from bookings.offline.emulator.permissions import active_audits
from bookings.offline.emulator.resources import (
    create_resources,
    state_machine_definition,
    state_machine_role_arn,
    update_model_endpoints,
)
from bookings.offline.emulator.sagemaker import EndpointUpdates
from bookings.offline.emulator.step_functions import StepFunctionsRules
from bookings.offline.emulator.template_resolver import TemplateResolver
from bookings.offline.template import load_template

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_STACK_NAME = "bookings-offline"
STATE_MACHINE_LOGICAL_ID = "IngestFileStateMachine"
# Waits shrunk for a machine where nothing buffers (Firehose writes at once, crawls end at once).
DEFAULT_OVERRIDES: dict[str, Any] = {
    "FlushWaitSeconds": 0,
    "CrawlerPollSeconds": 0,
    "RetryIntervalSeconds": 1,
}
QUIET_ENVIRONMENT = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}


class EmulatedStack:
    """The SAM application on moto, driven like the deployed stack (use it as a context manager).

    ``overrides`` maps template parameter names or DefinitionSubstitutions keys to values
    (e.g. ``{"ChunkSize": 1000, "FlushWaitSeconds": 0}``); ``environment`` adds or replaces
    environment variables of every function (e.g. ``MODEL_ENDPOINT_NAME``);
    ``function_timeouts`` replaces the template's ``Timeout`` of some functions (logical id to
    seconds), so that a test can run a function past its timeout in seconds, not minutes.
    """

    def __init__(
        self,
        template_path: str | Path = "template.yaml",
        *,
        overrides: Mapping[str, Any] | None = None,
        environment: Mapping[str, str] | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        stack_name: str = DEFAULT_STACK_NAME,
        crawler_polls_to_finish: int = 1,
        quiet: bool = True,
        function_timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.template_path = Path(template_path).resolve()
        self.root = self.template_path.parent
        self.template = load_template(self.template_path)
        self.overrides = {**DEFAULT_OVERRIDES, **(overrides or {})}
        self.region = region
        self.account = account
        self.stack_name = stack_name
        self.extra_environment = {**(QUIET_ENVIRONMENT if quiet else {}), **(environment or {})}
        self.resolver = TemplateResolver(
            self.template,
            parameters=self.overrides,
            region=region,
            account=account,
            stack_name=stack_name,
        )
        self.functions: dict[str, FunctionSpec] = read_functions(self.resolver, self.root)
        for logical_id, seconds in (function_timeouts or {}).items():
            if logical_id not in self.functions:
                raise HarnessError(f"function_timeouts: no function {logical_id} in the template")
            self.functions[logical_id] = dataclasses.replace(
                self.functions[logical_id], timeout=float(seconds)
            )
        self.crawler = CrawlerEmulation(
            self.client, account=account, region=region, polls_to_finish=crawler_polls_to_finish
        )
        self.lambdas = LambdaDispatcher(
            self.functions,
            environment_of=lambda spec: self.function_environment(spec.logical_id),
            before_invoke=self._before_invoke,
            after_invoke=self._after_invoke,
        )
        self.streams = StreamProcessors(
            stream_processing(self.resolver, self.functions),
            self.lambdas.dispatch,
            account=account,
            region=region,
        )
        self._running: contextlib.ExitStack | None = None

    @functools.cached_property
    def executions(self) -> Executions:
        """The ingest state machine's executions."""
        return Executions(self.client, self.state_machine_arn)

    # -- names ----------------------------------------------------------------------------------
    def resource_name(self, logical_id: str) -> Any:
        """The emulated physical name (what ``!Ref`` gives) of a template resource."""
        return self.resolver.ref(logical_id)

    @property
    def raw_bucket(self) -> str:
        return str(self.resource_name("RawBucket"))

    @property
    def lake_bucket(self) -> str:
        return str(self.resource_name("LakeBucket"))

    @property
    def state_machine_arn(self) -> str:
        return str(self.resource_name(STATE_MACHINE_LOGICAL_ID))

    def state_machine_role_arn(self, logical_id: str) -> str:
        """The role ARN the emulated account gives a state machine's executions."""
        return state_machine_role_arn(self.resolver, logical_id)

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """A function's environment: the runtime's, the template's, then ``environment``'s."""
        spec = self.functions[logical_id]
        return {
            **runtime_environment(spec, self.region),
            **spec.environment,
            **self.extra_environment,
        }

    def state_machine_definition(self, logical_id: str = STATE_MACHINE_LOGICAL_ID) -> str:
        """The state machine's ASL after the template's DefinitionSubstitutions (and the
        stack's overrides of them); raises HarnessError if it is not valid JSON."""
        return state_machine_definition(self.resolver, self.root, self.overrides, logical_id)

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> EmulatedStack:
        from booking_core.aws.clients import aws_client
        from moto import mock_aws

        # The handlers' cached clients: those made before the invocation-deadline hook was
        # installed lack it (botocore copies its built-in handlers when it makes a client).
        aws_client.cache_clear()
        with contextlib.ExitStack() as running:
            running.enter_context(
                python_only_environ(
                    {
                        "AWS_DEFAULT_REGION": self.region,
                        "AWS_REGION": self.region,
                        "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing",
                        "MOTO_ACCOUNT_ID": self.account,
                    }
                )
            )
            running.enter_context(
                mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            )
            running.enter_context(StepFunctionsRules.installed())
            running.enter_context(EndpointUpdates.installed())
            running.enter_context(self.lambdas.serving_the_interpreter())
            running.enter_context(self.streams.intercepting())
            create_resources(
                self.resolver, self.client, root=self.root, substitution_overrides=self.overrides
            )
            for audit in active_audits():
                running.enter_context(audit.watch(self))
            self._running = running.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.region)

    def update_stack(self, parameters: Mapping[str, Any]) -> list[str]:
        """A stack update that changes these template parameters: the functions get their new
        environments, and the SageMaker model, endpoint configuration and endpoint change as
        CloudFormation changes them (``resources.update_model_endpoints``). Returns what changed
        in the hosting resources."""
        overrides = {**self.overrides, **parameters}
        after = TemplateResolver(
            self.template,
            parameters=overrides,
            region=self.region,
            account=self.account,
            stack_name=self.stack_name,
        )
        changed = update_model_endpoints(self.resolver, after, self.client)
        self.overrides, self.resolver = overrides, after
        self.functions.update(read_functions(after, self.root))
        return changed

    # -- Lambda ---------------------------------------------------------------------------------
    def _before_invoke(self, spec: FunctionSpec) -> None:
        if spec.logical_id == CRAWLER_POLL_FUNCTION:
            self.crawler.poll()

    def _after_invoke(self, spec: FunctionSpec) -> None:
        if (
            self.streams.flush_after_each_invocation
            and spec.logical_id not in self.streams.processor_ids
        ):
            self.streams.flush()

    def flush_delivery_streams(self) -> int:
        """Run the delivery streams' processors on what was put outside any invocation
        (an invocation's records are processed when it ends); returns how many records."""
        with self.lambdas.paused():
            return self.streams.flush()

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke one function's handler directly (as ``sam local invoke`` would)."""
        return self.lambdas.invoke(logical_id, event)

    @property
    def invocations(self) -> list[tuple[str, float, bool]]:
        """(logical id, seconds, failed) of every invocation so far, in order."""
        return self.lambdas.invocations

    def paused(self) -> contextlib.AbstractContextManager[None]:
        """Hold Lambda invocations back (the interpreter waits for them) while the caller
        works on the emulated account, e.g. exports objects no running handler is writing."""
        return self.lambdas.paused()

    # -- events and executions ------------------------------------------------------------------
    def rule_patterns(self) -> list[dict[str, Any]]:
        """The event patterns of the rules that target the ingest state machine."""
        return rule_patterns(self.resolver, self.state_machine_arn)

    def object_created_event(self, key: str, *, bucket: str | None = None) -> dict[str, Any]:
        """The EventBridge "Object Created" event S3 sends for an existing object."""
        return object_created_event(
            self.client("s3"),
            bucket=bucket or self.raw_bucket,
            key=key,
            account=self.account,
            region=self.region,
        )

    def upload(self, local_path: str | Path, key: str | None = None) -> str:
        path = Path(local_path)
        key = key or f"incoming/{path.name}"
        self.client("s3").upload_file(str(path), self.raw_bucket, key)
        return key

    def put_file(
        self, local_path: str | Path, key: str | None = None, *, timeout: float = 600.0
    ) -> ExecutionOutcome | None:
        """Upload a file to the raw bucket and, if the rule matches its event, run the ingest
        execution it starts to the end; None when no rule matches (as in AWS)."""
        key = self.upload(local_path, key)
        return self.route_object_created(key, timeout=timeout)

    def route_object_created(self, key: str, *, timeout: float = 600.0) -> ExecutionOutcome | None:
        event = self.object_created_event(key)
        if not any(pattern_matches(pattern, event) for pattern in self.rule_patterns()):
            return None
        arn = self.start_execution(event, name=self.execution_name(key))
        return self.wait(arn, timeout=timeout)

    def execution_name(self, key: str) -> str:
        return self.executions.name_for(key)

    def start_execution(self, event: Mapping[str, Any], *, name: str) -> str:
        return self.executions.start(event, name=name)

    def wait(self, execution_arn: str, *, timeout: float = 600.0) -> ExecutionOutcome:
        return self.executions.wait(execution_arn, timeout=timeout)

    def state_visits(self, execution_arn: str) -> list[StateVisit]:
        return self.executions.state_visits(execution_arn)

    # -- lake inspection ------------------------------------------------------------------------
    def list_keys(self, prefix: str, *, bucket: str | None = None) -> list[str]:
        paginator = self.client("s3").get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=bucket or self.lake_bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def read_json_lines(self, prefix: str, *, bucket: str | None = None) -> list[dict[str, Any]]:
        """Every JSON Lines record under ``prefix`` of the lake (or another bucket)."""
        s3 = self.client("s3")
        bucket = bucket or self.lake_bucket
        records: list[dict[str, Any]] = []
        for key in self.list_keys(prefix, bucket=bucket):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            records.extend(json.loads(line) for line in body.splitlines() if line.strip())
        return records
