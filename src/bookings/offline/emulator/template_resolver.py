"""The template's values as the emulated stack sees them.

``TemplateResolver`` resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` and the other intrinsic
functions, parameters and conditions of a template read by ``bookings.offline.template``, against
the physical names and ARNs the emulated account gives its resources.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from bookings.offline.emulator.errors import HarnessError

# What ``Ref: AWS::NoValue`` resolves to: the property or list item is left out.
_NO_VALUE = object()


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
            self.parameters[name] = as_text(value)
        self._conditions: dict[str, bool] = {}
        # Resources a stack update replaced, by logical id: their new physical names.
        self.replaced: dict[str, str] = {}

    # -- names ----------------------------------------------------------------------------------
    def physical_name(self, logical_id: str) -> str:
        if logical_id in self.replaced:
            return self.replaced[logical_id]
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
            "AWS::StepFunctions::StateMachine": "StateMachineName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::SageMaker::Model": "ModelName",
            "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
            "AWS::SageMaker::Endpoint": "EndpointName",
            "AWS::Athena::WorkGroup": "Name",
        }.get(kind)
        if explicit and explicit in props:
            return as_text(self.resolve(props[explicit]))
        if kind == "AWS::Glue::Database":
            return as_text(self.resolve(props["DatabaseInput"]["Name"]))
        if kind == "AWS::Glue::Table":
            return as_text(self.resolve(props["TableInput"]["Name"]))
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
            "AWS::StepFunctions::StateMachine": f"{prefix.format('states')}:stateMachine:{name}",
            "AWS::SageMaker::Endpoint": f"{prefix.format('sagemaker')}:endpoint/{name.lower()}",
            "AWS::SageMaker::EndpointConfig": (
                f"{prefix.format('sagemaker')}:endpoint-config/{name.lower()}"
            ),
            "AWS::SageMaker::Model": f"{prefix.format('sagemaker')}:model/{name.lower()}",
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
            "AWS::NoValue": _NO_VALUE,
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
            "AWS::StepFunctions::StateMachine",
            "AWS::Serverless::LayerVersion",
            "AWS::SageMaker::Endpoint",
            "AWS::SageMaker::EndpointConfig",
            "AWS::SageMaker::Model",
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
        if attribute in {
            "TopicName",
            "QueueName",
            "Name",
            "EndpointName",
            "EndpointConfigName",
            "ModelName",
        }:
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

    def resources_of(self, *kinds: str) -> list[str]:
        """The logical ids of the resources of these types that the stack creates."""
        return [
            logical_id
            for logical_id, resource in self.resources.items()
            if resource["Type"] in kinds and self.is_created(logical_id)
        ]

    # -- values ---------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
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
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    # One branch per CloudFormation intrinsic function: one function on purpose.
    def _function(self, name: str, arg: Any) -> Any:  # noqa: C901
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
            return as_text(left) == as_text(right)
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(item) for item in arg)
        if name == "Or":
            return any(self.resolve(item) for item in arg)
        if name == "Join":
            separator, items = arg
            return separator.join(as_text(item) for item in self.resolve(items))
        if name == "Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Split":
            separator, text = arg
            return as_text(self.resolve(text)).split(separator)
        if name == "Base64":
            return base64.b64encode(as_text(self.resolve(arg)).encode()).decode()
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
                return as_text(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                resource, attribute = expression.split(".", 1)
                return as_text(self.get_att(resource, attribute))
            return as_text(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def as_text(value: Any) -> str:
    """A resolved value as CloudFormation writes it into a string (booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
