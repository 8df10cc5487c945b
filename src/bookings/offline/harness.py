"""Run the SAM application on this machine: moto emulates AWS, the real handlers run in-process.

``EmulatedStack`` reads ``template.yaml`` (never a second, hand-kept list of functions), creates
the stack's resources in moto, creates the ingest state machine from its ASL file with the
template's ``DefinitionSubstitutions`` and executes it with moto's own Step Functions interpreter.
Lambda tasks are dispatched in-process to ``functions/<dir>/app.py`` with the environment the
template gives each function.

What is emulated, plainly:

- Lambda: moto's Lambda needs Docker, so the interpreter's Lambda invocation
  (``lambda_eval_utils._invoke_lambda_function``) is replaced, for the stack's function ARNs, by a
  call of the handler in this process; a raised exception becomes the task's error with
  ``errorType`` = the exception's class name, as in Lambda. Invocations are serialised (each
  needs its own environment variables), so a Map runs its iterations one at a time.
- EventBridge: moto does not start a state machine from a rule, so ``put_file`` builds the S3
  "Object Created" event itself, checks it against the template's rule pattern and starts a
  named execution.
- Glue crawler: moto's crawl never finishes. When the state machine polls the crawler (the
  CheckCrawler function), the running crawl is completed after ``crawler_polls_to_finish`` polls
  and the crawler's work is emulated: the missing ``ingest_date=...`` partitions of its target
  tables are added from the lake's prefixes.
- Firehose: moto writes each PutRecordBatch straight to S3 as JSON Lines (no buffering and no
  Parquet conversion), under the stream's prefix with its ``!{timestamp:...}`` expressions
  resolved at creation time (moto adds ``YYYY/MM/DD/HH/`` folders below it).
- Waits: ``FlushWaitSeconds`` and ``CrawlerPollSeconds`` are 0 and ``RetryIntervalSeconds`` is 1
  by default, through the same substitutions the template passes.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import fnmatch
import hashlib
import importlib.util
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bookings.offline.template import load_template

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_STACK_NAME = "bookings-offline"
STATE_MACHINE_LOGICAL_ID = "IngestFileStateMachine"
CRAWLER_POLL_FUNCTION = "CheckCrawlerFunction"
# Waits shrunk for a machine where nothing buffers (Firehose writes at once, crawls end at once).
DEFAULT_OVERRIDES: dict[str, Any] = {
    "FlushWaitSeconds": 0,
    "CrawlerPollSeconds": 0,
    "RetryIntervalSeconds": 1,
}
QUIET_ENVIRONMENT = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
_PSEUDO_NO_VALUE = object()


class HarnessError(RuntimeError):
    """The emulated stack cannot be built or driven; the message says why."""


class LambdaInvocationError(Exception):
    """A handler invoked through ``EmulatedStack.invoke`` raised (as Lambda would report it)."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.error_message = message


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int
    memory_mb: int


@dataclass(frozen=True)
class StateVisit:
    name: str
    state_type: str
    seconds: float
    failed: bool = False


@dataclass
class ExecutionOutcome:
    name: str
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    seconds: float
    states: list[StateVisit] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def visited(self) -> list[str]:
        return [visit.name for visit in self.states]

    def seconds_by_state(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for visit in self.states:
            totals[visit.name] = totals.get(visit.name, 0.0) + visit.seconds
        return totals


@dataclass(frozen=True)
class LocalLambdaContext:
    """The context object Lambda passes to a handler."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
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


# ------------------------------------------------------------------------------------------------
# Event patterns (the subset EventBridge rules in this project use)
# ------------------------------------------------------------------------------------------------


def _value_matches(condition: Any, value: Any) -> bool:
    if isinstance(condition, Mapping):
        if "prefix" in condition:
            return isinstance(value, str) and value.startswith(condition["prefix"])
        if "suffix" in condition:
            return isinstance(value, str) and value.endswith(condition["suffix"])
        if "wildcard" in condition:
            return isinstance(value, str) and fnmatch.fnmatchcase(value, condition["wildcard"])
        if "anything-but" in condition:
            excluded = condition["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return value not in excluded
        if "exists" in condition:
            return (value is not None) == bool(condition["exists"])
        raise HarnessError(f"event pattern operator not emulated: {dict(condition)}")
    return bool(condition == value)


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches an EventBridge event pattern (exact values, prefix, suffix,
    wildcard, anything-but, exists; nested objects)."""
    for key, condition in pattern.items():
        value = event.get(key) if isinstance(event, Mapping) else None
        if isinstance(condition, Mapping):
            if not isinstance(value, Mapping) or not pattern_matches(condition, value):
                return False
        elif isinstance(condition, list):
            if not any(_value_matches(option, value) for option in condition):
                return False
        elif not _value_matches(condition, value):
            return False
    return True


# ------------------------------------------------------------------------------------------------
# Template resolution
# ------------------------------------------------------------------------------------------------


class TemplateResolver:
    """Resolves Ref, GetAtt, Sub, If, Join, Select, Split and the condition functions against
    emulated physical names."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        parameters: Mapping[str, Any],
        region: str,
        account: str,
        stack_name: str,
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.region = region
        self.account = account
        self.stack_name = stack_name
        self.parameters: dict[str, str] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            value = parameters.get(name, spec.get("Default"))
            if value is None:
                raise HarnessError(f"template parameter {name} has no default: give a value")
            self.parameters[name] = _as_text(value)
        self._conditions: dict[str, bool] = {}

    # -- names ----------------------------------------------------------------------------------
    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind = resource["Type"]
        props = resource.get("Properties") or {}
        explicit = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
            "AWS::Glue::Crawler": "Name",
            "AWS::Glue::SecurityConfiguration": "Name",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Serverless::StateMachine": "Name",
            "AWS::Athena::WorkGroup": "Name",
        }.get(kind)
        if explicit and explicit in props:
            return _as_text(self.resolve(props[explicit]))
        if kind == "AWS::Glue::Database":
            return _as_text(self.resolve(props["DatabaseInput"]["Name"]))
        if kind == "AWS::Glue::Table":
            return _as_text(self.resolve(props["TableInput"]["Name"]))
        if kind == "AWS::S3::Bucket":
            digest = hashlib.sha1(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:8]  # noqa: S324
            name = re.sub(r"[^a-z0-9-]", "-", f"{self.stack_name}-{logical_id}".lower())
            return f"{name[:50]}-{digest}"
        return f"{self.stack_name}-{logical_id}"

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        prefix = f"arn:aws:{{}}:{self.region}:{self.account}"
        arns = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": f"{prefix.format('dynamodb')}:table/{name}",
            "AWS::SNS::Topic": f"{prefix.format('sns')}:{name}",
            "AWS::SQS::Queue": f"{prefix.format('sqs')}:{name}",
            "AWS::KinesisFirehose::DeliveryStream": (
                f"{prefix.format('firehose')}:deliverystream/{name}"
            ),
            "AWS::Serverless::Function": f"{prefix.format('lambda')}:function:{name}",
            "AWS::Lambda::Function": f"{prefix.format('lambda')}:function:{name}",
            "AWS::Serverless::StateMachine": f"{prefix.format('states')}:stateMachine:{name}",
            "AWS::Serverless::LayerVersion": f"{prefix.format('lambda')}:layer:{name}:1",
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
            "AWS::Logs::LogGroup": f"{prefix.format('logs')}:log-group:{name}:*",
            "AWS::KMS::Key": f"{prefix.format('kms')}:key/{name}",
            "AWS::Events::Rule": f"{prefix.format('events')}:rule/{name}",
            "AWS::Glue::Crawler": f"{prefix.format('glue')}:crawler/{name}",
        }
        return arns.get(kind, f"{prefix.format('cloudformation')}:{kind}/{name}")

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/0"
            ),
            "AWS::NoValue": _PSEUDO_NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.resources:
            raise HarnessError(f"template: Ref to unknown name {name!r}")
        kind = self.resources[name]["Type"]
        if kind in {
            "AWS::SNS::Topic",
            "AWS::Serverless::StateMachine",
            "AWS::Serverless::LayerVersion",
        }:
            return self.arn(name)
        if kind == "AWS::SQS::Queue":
            return (
                f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.physical_name(name)}"
            )
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise HarnessError(f"template: GetAtt of unknown resource {logical_id!r}")
        if attribute == "Arn":
            return self.arn(logical_id)
        name = self.physical_name(logical_id)
        if attribute in {"TopicName", "QueueName", "Name", "EndpointName"}:
            return name
        if attribute == "TopicArn":
            return self.arn(logical_id)
        return f"{name}-{attribute}"

    # -- conditions -----------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise HarnessError(f"template: unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def is_created(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    # -- values ---------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _PSEUDO_NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _PSEUDO_NO_VALUE}

    def _function(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            parts = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(parts[0], parts[1])
        if name == "Sub":
            return self._sub(arg)
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Equals":
            left, right = (self.resolve(item) for item in arg)
            return _as_text(left) == _as_text(right)
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(item) for item in arg)
        if name == "Or":
            return any(self.resolve(item) for item in arg)
        if name == "Join":
            separator, items = arg
            return separator.join(_as_text(item) for item in self.resolve(items))
        if name == "Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Split":
            separator, text = arg
            return _as_text(self.resolve(text)).split(separator)
        if name == "Base64":
            return base64.b64encode(_as_text(self.resolve(arg)).encode()).decode()
        if name == "FindInMap":
            mapping, top, second = (self.resolve(item) for item in arg)
            return self.template["Mappings"][mapping][top][second]
        if name == "Length":
            return len(self.resolve(arg))
        if name == "ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise HarnessError(f"template: Fn::{name} is not emulated")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            expression = match[1]
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return _as_text(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                resource, attribute = expression.split(".", 1)
                return _as_text(self.get_att(resource, attribute))
            return _as_text(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------------------------------------
# The emulated stack
# ------------------------------------------------------------------------------------------------


class _PythonOnlyEnviron(os._Environ[str]):
    """``os.environ`` whose changes stay in Python while the emulated stack runs.

    The handlers read their variables from ``os.environ``, and each invocation sets its
    function's. Written through to the process (glibc's setenv), a change may move the
    environment array while C code in another thread reads it with getenv (DuckDB in the
    runner's thread, the time functions behind the local model server's log lines): a crash.
    Here C code keeps seeing the environment the process started with.
    """

    @classmethod
    def copy_of(cls, environ: os._Environ[str]) -> _PythonOnlyEnviron:
        return cls(
            dict(environ._data),  # type: ignore[attr-defined]
            environ.encodekey,  # type: ignore[attr-defined]
            environ.decodekey,  # type: ignore[attr-defined]
            environ.encodevalue,  # type: ignore[attr-defined]
            environ.decodevalue,  # type: ignore[attr-defined]
        )

    def __setitem__(self, key: str, value: str) -> None:
        self._data[self.encodekey(key)] = self.encodevalue(value)  # type: ignore[attr-defined]

    def __delitem__(self, key: str) -> None:
        try:
            del self._data[self.encodekey(key)]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(key) from None


def _restore_environ(saved: Mapping[str, str]) -> None:
    """Put ``os.environ`` back as ``saved``, key by key: never empty for a moment, since other
    threads (moto's, the runner's boto3 clients) read it meanwhile."""
    environ = os.environ
    for key in [key for key in environ if key not in saved]:
        environ.pop(key, None)
    for key, value in saved.items():
        if environ.get(key) != value:
            environ[key] = value


class EmulatedStack:
    """The SAM application on moto, driven like the deployed stack (use it as a context manager).

    ``overrides`` maps template parameter names or DefinitionSubstitutions keys to values
    (e.g. ``{"ChunkSize": 1000, "FlushWaitSeconds": 0}``); ``environment`` adds or replaces
    environment variables of every function (e.g. ``MODEL_ENDPOINT_NAME``).
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
    ) -> None:
        self.template_path = Path(template_path).resolve()
        self.root = self.template_path.parent
        self.template = load_template(self.template_path)
        self.overrides = {**DEFAULT_OVERRIDES, **(overrides or {})}
        self.region = region
        self.account = account
        self.stack_name = stack_name
        self.crawler_polls_to_finish = max(1, crawler_polls_to_finish)
        self.extra_environment = {**(QUIET_ENVIRONMENT if quiet else {}), **(environment or {})}
        self.resolver = TemplateResolver(
            self.template,
            parameters=self.overrides,
            region=region,
            account=account,
            stack_name=stack_name,
        )
        self.functions: dict[str, FunctionSpec] = self._read_functions()
        self._by_arn = {spec.arn: spec for spec in self.functions.values()}
        self._modules: dict[str, ModuleType] = {}
        self._invoke_lock = threading.RLock()
        self._crawler_polls: dict[str, int] = {}
        self._mock: Any = None
        self._saved_environ: dict[str, str] | None = None
        self._real_environ: os._Environ[str] | None = None
        self._original_invoke: Any = None
        self._execution_counter = 0
        self.invocations: list[tuple[str, float, bool]] = []

    # -- template reading -----------------------------------------------------------------------
    def _resources_of(self, *kinds: str) -> list[str]:
        return [
            logical_id
            for logical_id, resource in self.resolver.resources.items()
            if resource["Type"] in kinds and self.resolver.is_created(logical_id)
        ]

    def _read_functions(self) -> dict[str, FunctionSpec]:
        globals_ = (self.template.get("Globals") or {}).get("Function") or {}
        functions: dict[str, FunctionSpec] = {}
        for logical_id in self._resources_of("AWS::Serverless::Function"):
            props = {**globals_, **(self.resolver.resources[logical_id].get("Properties") or {})}
            environment: dict[str, str] = {}
            for source in (globals_, self.resolver.resources[logical_id].get("Properties") or {}):
                variables = (source.get("Environment") or {}).get("Variables") or {}
                environment.update(
                    {k: _as_text(v) for k, v in self.resolver.resolve(variables).items()}
                )
            code_uri = self.resolver.resolve(props.get("CodeUri"))
            if not isinstance(code_uri, str):
                raise HarnessError(f"{logical_id}: CodeUri must be a local directory")
            functions[logical_id] = FunctionSpec(
                logical_id=logical_id,
                name=self.resolver.physical_name(logical_id),
                arn=self.resolver.arn(logical_id),
                code_dir=(self.root / code_uri).resolve(),
                handler=str(self.resolver.resolve(props.get("Handler", "app.lambda_handler"))),
                environment=environment,
                timeout=int(self.resolver.resolve(props.get("Timeout", 3))),
                memory_mb=int(self.resolver.resolve(props.get("MemorySize", 128))),
            )
        return functions

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

    def function_environment(self, logical_id: str) -> dict[str, str]:
        spec = self.functions[logical_id]
        return {**self._base_environment(spec), **spec.environment, **self.extra_environment}

    def _base_environment(self, spec: FunctionSpec) -> dict[str, str]:
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> EmulatedStack:
        from moto import mock_aws

        self._real_environ = os.environ
        # Not the process environment: see _PythonOnlyEnviron.
        os.environ = _PythonOnlyEnviron.copy_of(os.environ)  # noqa: B003
        self._saved_environ = dict(os.environ)
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "MOTO_ACCOUNT_ID": self.account,
            }
        )
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        try:
            self._install_lambda_dispatch()
            self._create_resources()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._remove_lambda_dispatch()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._saved_environ is not None:
            _restore_environ(self._saved_environ)
            self._saved_environ = None
        if self._real_environ is not None:
            os.environ = self._real_environ  # noqa: B003
            self._real_environ = None

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.region)

    # -- resources ------------------------------------------------------------------------------
    def _create_resources(self) -> None:
        resolve = self.resolver.resolve
        s3 = self.client("s3")
        for logical_id in self._resources_of("AWS::S3::Bucket"):
            bucket = self.resolver.physical_name(logical_id)
            s3.create_bucket(Bucket=bucket)
            props = self.resolver.resources[logical_id].get("Properties") or {}
            if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
                s3.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                )
        dynamodb = self.client("dynamodb")
        for logical_id in self._resources_of("AWS::DynamoDB::Table"):
            props = resolve(self.resolver.resources[logical_id]["Properties"])
            dynamodb.create_table(
                TableName=self.resolver.physical_name(logical_id),
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode="PAY_PER_REQUEST",
            )
        sns = self.client("sns")
        for logical_id in self._resources_of("AWS::SNS::Topic"):
            sns.create_topic(Name=self.resolver.physical_name(logical_id))
        sqs = self.client("sqs")
        for logical_id in self._resources_of("AWS::SQS::Queue"):
            sqs.create_queue(QueueName=self.resolver.physical_name(logical_id))
        glue = self.client("glue")
        for logical_id in self._resources_of("AWS::Glue::Database"):
            props = resolve(self.resolver.resources[logical_id]["Properties"])
            glue.create_database(DatabaseInput=props["DatabaseInput"])
        for logical_id in self._resources_of("AWS::Glue::Table"):
            props = resolve(self.resolver.resources[logical_id]["Properties"])
            glue.create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
        for logical_id in self._resources_of("AWS::Glue::Crawler"):
            props = resolve(self.resolver.resources[logical_id]["Properties"])
            targets = props.get("Targets") or {}
            database = props.get("DatabaseName") or next(
                (t["DatabaseName"] for t in targets.get("CatalogTargets", [])), None
            )
            kwargs = {
                "Name": self.resolver.physical_name(logical_id),
                "Role": props["Role"],
                "Targets": targets,
                "SchemaChangePolicy": props.get("SchemaChangePolicy", {}),
                "RecrawlPolicy": props.get("RecrawlPolicy", {}),
                "Configuration": props.get("Configuration", ""),
            }
            if database:
                kwargs["DatabaseName"] = database
            glue.create_crawler(**kwargs)
        firehose = self.client("firehose")
        for logical_id in self._resources_of("AWS::KinesisFirehose::DeliveryStream"):
            props = resolve(self.resolver.resources[logical_id]["Properties"])
            destination = props.get("ExtendedS3DestinationConfiguration") or props.get(
                "S3DestinationConfiguration"
            )
            if destination is None:
                raise HarnessError(f"{logical_id}: only S3 destinations are emulated")
            firehose.create_delivery_stream(
                DeliveryStreamName=self.resolver.physical_name(logical_id),
                DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "BucketARN": destination["BucketARN"],
                    "RoleARN": destination["RoleARN"],
                    "Prefix": _firehose_prefix(destination.get("Prefix", "")),
                    "ErrorOutputPrefix": _firehose_prefix(destination.get("ErrorOutputPrefix", "")),
                    "CompressionFormat": "UNCOMPRESSED",
                },
            )
        athena = self.client("athena")
        for logical_id in self._resources_of("AWS::Athena::WorkGroup"):
            props = resolve(self.resolver.resources[logical_id]["Properties"])
            athena.create_work_group(
                Name=self.resolver.physical_name(logical_id),
                Description=props.get("Description", ""),
                Configuration=_work_group_configuration(props.get("WorkGroupConfiguration") or {}),
            )
        self._create_state_machines()

    def _create_state_machines(self) -> None:
        sfn = self.client("stepfunctions")
        for logical_id in self._resources_of("AWS::Serverless::StateMachine"):
            props = self.resolver.resources[logical_id]["Properties"]
            definition = self.state_machine_definition(logical_id)
            sfn.create_state_machine(
                name=self.resolver.physical_name(logical_id),
                definition=definition,
                roleArn=f"arn:aws:iam::{self.account}:role/{self.stack_name}-{logical_id}",
                type=str(self.resolver.resolve(props.get("Type", "STANDARD"))),
            )

    def state_machine_definition(self, logical_id: str = STATE_MACHINE_LOGICAL_ID) -> str:
        """The state machine's ASL after the template's DefinitionSubstitutions (and the
        harness's overrides of them); raises HarnessError if it is not valid JSON."""
        props = self.resolver.resources[logical_id]["Properties"]
        path = self.root / str(self.resolver.resolve(props["DefinitionUri"]))
        substitutions = {
            key: _as_text(self.overrides.get(key, value))
            for key, value in self.resolver.resolve(
                props.get("DefinitionSubstitutions") or {}
            ).items()
        }
        text = path.read_text(encoding="utf-8")
        missing = sorted(set(re.findall(r"\$\{(\w+)\}", text)) - set(substitutions))
        if missing:
            raise HarnessError(f"{path}: no substitution for {', '.join(missing)}")
        text = re.sub(r"\$\{(\w+)\}", lambda m: substitutions[m[1]], text)
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{path}: not valid JSON after substitution: {exc}") from exc
        return text

    # -- Lambda dispatch ------------------------------------------------------------------------
    def _install_lambda_dispatch(self) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
            lambda_eval_utils,
        )

        original = lambda_eval_utils._invoke_lambda_function
        self._original_invoke = original

        def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
            spec = self._function_for(str(parameters.get("FunctionName", "")))
            if spec is None:
                return original(parameters, region, state_credentials)
            payload = parameters.get("Payload") or b"{}"
            event = json.loads(payload.decode() if isinstance(payload, bytes) else payload)
            return self._dispatch(spec, event)

        lambda_eval_utils._invoke_lambda_function = invoke

    def _remove_lambda_dispatch(self) -> None:
        if self._original_invoke is None:
            return
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
            lambda_eval_utils,
        )

        lambda_eval_utils._invoke_lambda_function = self._original_invoke
        self._original_invoke = None

    def _function_for(self, name_or_arn: str) -> FunctionSpec | None:
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

    @contextlib.contextmanager
    def _function_environ(self, spec: FunctionSpec) -> Iterator[None]:
        saved = dict(os.environ)
        environment = self.function_environment(spec.logical_id)
        os.environ.update(environment)
        # Lambda starts every function in its own process; here the functions share one, and
        # Powertools sets its logger's level only once per service: apply this function's level.
        service = environment.get("POWERTOOLS_SERVICE_NAME")
        level = environment.get("POWERTOOLS_LOG_LEVEL")
        service_logger = logging.getLogger(service) if service else None
        saved_level = service_logger.level if service_logger else logging.NOTSET
        if service_logger is not None and level:
            service_logger.setLevel(level.upper())
        try:
            yield
        finally:
            if service_logger is not None:
                service_logger.setLevel(saved_level)
            _restore_environ(saved)

    def _dispatch(self, spec: FunctionSpec, event: Any) -> dict[str, Any]:
        """Run a handler as Lambda would; returns the interpreter's invocation response."""
        with self._invoke_lock:
            if spec.logical_id == CRAWLER_POLL_FUNCTION:
                self._advance_crawls()
            started = time.perf_counter()
            failed = False
            with self._function_environ(spec):
                try:
                    handler = getattr(self._module(spec), spec.handler.rpartition(".")[2])
                    context = LocalLambdaContext(
                        function_name=spec.name,
                        invoked_function_arn=spec.arn,
                        memory_limit_in_mb=spec.memory_mb,
                        timeout_seconds=spec.timeout,
                    )
                    result = handler(copy.deepcopy(event), context)
                    payload = json.loads(json.dumps(result))
                except Exception as exc:  # a handler's error is the task's error, as in Lambda
                    failed = True
                    payload = {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        "stackTrace": traceback.format_exception(exc)[-5:],
                    }
            self.invocations.append((spec.logical_id, time.perf_counter() - started, failed))
        response: dict[str, Any] = {"StatusCode": 200, "Payload": payload}
        if failed:
            response["FunctionError"] = "Unhandled"
        return response

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold Lambda invocations back (the interpreter waits for them) while the caller
        works on the emulated account, e.g. exports objects no running handler is writing."""
        with self._invoke_lock:
            yield

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke one function's handler directly (as ``sam local invoke`` would)."""
        spec = self.functions[logical_id]
        response = self._dispatch(spec, event)
        if "FunctionError" in response:
            payload = response["Payload"]
            raise LambdaInvocationError(logical_id, payload["errorType"], payload["errorMessage"])
        return response["Payload"]

    # -- crawler emulation ----------------------------------------------------------------------
    def _advance_crawls(self) -> None:
        from moto.glue.models import glue_backends

        backend = glue_backends[self.account][self.region]
        for name, crawler in backend.crawlers.items():
            if not crawler.crawls or crawler.crawls[-1].status != "RUNNING":
                continue
            polls = self._crawler_polls.get(name, 0) + 1
            self._crawler_polls[name] = polls
            if polls >= self.crawler_polls_to_finish:
                self._add_partitions(crawler.targets)
                crawler.crawls[-1].advance()
                self._crawler_polls[name] = 0

    def _add_partitions(self, targets: Mapping[str, Any]) -> None:
        glue = self.client("glue")
        s3 = self.client("s3")
        for target in targets.get("CatalogTargets", []):
            database = target["DatabaseName"]
            for table_name in target.get("Tables", []):
                table = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
                keys = [k["Name"] for k in table.get("PartitionKeys", [])]
                location = table["StorageDescriptor"]["Location"]
                if len(keys) != 1 or not location.startswith("s3://"):
                    continue
                bucket, _, prefix = location[5:].partition("/")
                existing = {
                    tuple(p["Values"])
                    for page in glue.get_paginator("get_partitions").paginate(
                        DatabaseName=database, TableName=table_name
                    )
                    for p in page["Partitions"]
                }
                listing = s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=prefix, Delimiter="/"
                )
                for page in listing:
                    for common in page.get("CommonPrefixes", []):
                        folder = common["Prefix"][len(prefix) :].rstrip("/")
                        key, _, value = folder.partition("=")
                        if key != keys[0] or (value,) in existing:
                            continue
                        descriptor = dict(table["StorageDescriptor"])
                        descriptor["Location"] = f"s3://{bucket}/{common['Prefix']}"
                        glue.create_partition(
                            DatabaseName=database,
                            TableName=table_name,
                            PartitionInput={"Values": [value], "StorageDescriptor": descriptor},
                        )

    # -- events and executions ------------------------------------------------------------------
    def rule_patterns(self) -> list[dict[str, Any]]:
        """The event patterns of the rules that target the ingest state machine."""
        patterns = []
        for logical_id in self._resources_of("AWS::Events::Rule"):
            props = self.resolver.resolve(self.resolver.resources[logical_id]["Properties"])
            if any(t.get("Arn") == self.state_machine_arn for t in props.get("Targets", [])):
                patterns.append(props["EventPattern"])
        return patterns

    def object_created_event(self, key: str, *, bucket: str | None = None) -> dict[str, Any]:
        """The EventBridge "Object Created" event S3 sends for an existing object."""
        bucket = bucket or self.raw_bucket
        head = self.client("s3").head_object(Bucket=bucket, Key=key)
        detail_object: dict[str, Any] = {
            "key": key,
            "size": head["ContentLength"],
            "etag": head["ETag"].strip('"'),
            "sequencer": f"{time.time_ns():X}",
        }
        if head.get("VersionId") and head["VersionId"] != "null":
            detail_object["version-id"] = head["VersionId"]
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": self.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": detail_object,
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": self.account,
                "reason": "PutObject",
            },
        }

    def upload(self, local_path: str | Path, key: str | None = None) -> str:
        path = Path(local_path)
        key = key or f"incoming/{path.name}"
        self.client("s3").upload_file(str(path), self.raw_bucket, key)
        return key

    def execution_name(self, key: str) -> str:
        self._execution_counter += 1
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", key.rsplit("/", 1)[-1]).strip("-")[:50]
        return f"{stem}-{self._execution_counter:03d}-{uuid.uuid4().hex[:8]}"

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

    def start_execution(self, event: Mapping[str, Any], *, name: str) -> str:
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(event)
        )
        return str(response["executionArn"])

    def wait(self, execution_arn: str, *, timeout: float = 600.0) -> ExecutionOutcome:
        sfn = self.client("stepfunctions")
        started = time.perf_counter()
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.perf_counter() - started > timeout:
                raise HarnessError(f"execution {execution_arn} still running after {timeout} s")
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        output = described.get("output")
        return ExecutionOutcome(
            name=described["name"],
            arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            seconds=seconds,
            states=self.state_visits(execution_arn),
        )

    def state_visits(self, execution_arn: str) -> list[StateVisit]:
        """The states an execution went through, in order, with their durations."""
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                break
        open_states: dict[str, list[tuple[str, datetime]]] = {}
        visits: list[StateVisit] = []
        failed_names: set[str] = set()
        for event in events:
            kind = event["type"]
            if kind.endswith("StateEntered"):
                name = event["stateEnteredEventDetails"]["name"]
                open_states.setdefault(name, []).append(
                    (kind[: -len("StateEntered")], event["timestamp"])
                )
            elif kind.endswith("StateExited"):
                name = event["stateExitedEventDetails"]["name"]
                if open_states.get(name):
                    state_type, entered = open_states[name].pop(0)
                    seconds = (event["timestamp"] - entered).total_seconds()
                    visits.append(StateVisit(name, state_type, seconds, name in failed_names))
            elif kind in {"LambdaFunctionFailed", "TaskFailed", "ExecutionFailed"}:
                failed_names.update(open_states)
        for name, pending in open_states.items():
            visits.extend(StateVisit(name, state_type, 0.0, True) for state_type, _ in pending)
        return visits

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
        records = []
        for key in self.list_keys(prefix, bucket=bucket):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            records.extend(json.loads(line) for line in body.splitlines() if line.strip())
        return records


def _work_group_configuration(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The API's form of a template's WorkGroupConfiguration (parameters resolve to text)."""
    api = dict(configuration)
    if "BytesScannedCutoffPerQuery" in api:
        api["BytesScannedCutoffPerQuery"] = int(api["BytesScannedCutoffPerQuery"])
    for flag in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled"):
        if isinstance(api.get(flag), str):
            api[flag] = api[flag].lower() == "true"
    return api


def _firehose_prefix(prefix: str) -> str:
    """Resolve Firehose's ``!{timestamp:...}`` (at creation time) and error-type expressions."""
    now = datetime.now(UTC)

    def replace(match: re.Match[str]) -> str:
        namespace, _, argument = match[1].partition(":")
        if namespace == "timestamp":
            java_to_python = (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"))
            fmt = argument
            for java, python in java_to_python:
                fmt = fmt.replace(java, python)
            return now.strftime(fmt)
        if namespace == "firehose" and argument == "error-output-type":
            return "processing-failed"
        return match[0]

    return re.sub(r"!\{([^}]+)\}", replace, prefix)
