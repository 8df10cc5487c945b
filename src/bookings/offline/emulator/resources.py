"""The stack's resources created in the emulated account, as the template describes them.

Buckets (with their versioning), DynamoDB tables, SNS topics, SQS queues, the Glue database,
tables and crawlers, the Firehose delivery streams, the Athena work groups, the SageMaker model,
endpoint configuration and endpoint, and the state machines (their ASL after the template's
``DefinitionSubstitutions``). Other resource types (IAM roles, log
groups, keys, alarms...) have no behaviour offline and are not created.

Firehose: moto writes each PutRecordBatch straight to S3 as JSON Lines (no buffering and no
Parquet conversion), under the stream's prefix with its ``!{timestamp:...}`` expressions resolved
at creation time (moto adds ``YYYY/MM/DD/HH/`` folders below it). A stream's processor
(``ProcessingConfiguration``) is not given to moto, which would not run it: ``firehose`` does.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bookings.offline.emulator.errors import HarnessError
from bookings.offline.emulator.template_resolver import TemplateResolver, as_text

Client = Callable[[str], Any]


def create_resources(
    resolver: TemplateResolver,
    client: Client,
    *,
    root: Path,
    substitution_overrides: Mapping[str, Any],
) -> None:
    """Create every emulated resource of the template in the (mocked) account."""
    _create_storage(resolver, client)
    _create_glue(resolver, client)
    _create_delivery_streams(resolver, client)
    _create_work_groups(resolver, client)
    _create_model_endpoints(resolver, client)
    _create_state_machines(resolver, client, root, substitution_overrides)


def _create_storage(resolver: TemplateResolver, client: Client) -> None:
    s3 = client("s3")
    for logical_id in resolver.resources_of("AWS::S3::Bucket"):
        bucket = resolver.physical_name(logical_id)
        s3.create_bucket(Bucket=bucket)
        props = resolver.resources[logical_id].get("Properties") or {}
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = client("dynamodb")
    for logical_id in resolver.resources_of("AWS::DynamoDB::Table"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        dynamodb.create_table(
            TableName=resolver.physical_name(logical_id),
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
        )
    sns = client("sns")
    for logical_id in resolver.resources_of("AWS::SNS::Topic"):
        sns.create_topic(Name=resolver.physical_name(logical_id))
    sqs = client("sqs")
    for logical_id in resolver.resources_of("AWS::SQS::Queue"):
        sqs.create_queue(QueueName=resolver.physical_name(logical_id))


def _create_glue(resolver: TemplateResolver, client: Client) -> None:
    glue = client("glue")
    for logical_id in resolver.resources_of("AWS::Glue::Database"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        glue.create_database(DatabaseInput=props["DatabaseInput"])
    for logical_id in resolver.resources_of("AWS::Glue::Table"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        glue.create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
    for logical_id in resolver.resources_of("AWS::Glue::Crawler"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        targets = props.get("Targets") or {}
        database = props.get("DatabaseName") or next(
            (t["DatabaseName"] for t in targets.get("CatalogTargets", [])), None
        )
        kwargs = {
            "Name": resolver.physical_name(logical_id),
            "Role": props["Role"],
            "Targets": targets,
            "SchemaChangePolicy": props.get("SchemaChangePolicy", {}),
            "RecrawlPolicy": props.get("RecrawlPolicy", {}),
            "Configuration": props.get("Configuration", ""),
        }
        if database:
            kwargs["DatabaseName"] = database
        glue.create_crawler(**kwargs)


def _create_delivery_streams(resolver: TemplateResolver, client: Client) -> None:
    firehose = client("firehose")
    for logical_id in resolver.resources_of("AWS::KinesisFirehose::DeliveryStream"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        destination = props.get("ExtendedS3DestinationConfiguration") or props.get(
            "S3DestinationConfiguration"
        )
        if destination is None:
            raise HarnessError(f"{logical_id}: only S3 destinations are emulated")
        firehose.create_delivery_stream(
            DeliveryStreamName=resolver.physical_name(logical_id),
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "BucketARN": destination["BucketARN"],
                "RoleARN": destination["RoleARN"],
                "Prefix": _firehose_prefix(destination.get("Prefix", "")),
                "ErrorOutputPrefix": _firehose_prefix(destination.get("ErrorOutputPrefix", "")),
                "CompressionFormat": "UNCOMPRESSED",
            },
        )


def _create_work_groups(resolver: TemplateResolver, client: Client) -> None:
    athena = client("athena")
    for logical_id in resolver.resources_of("AWS::Athena::WorkGroup"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        athena.create_work_group(
            Name=resolver.physical_name(logical_id),
            Description=props.get("Description", ""),
            Configuration=_work_group_configuration(props.get("WorkGroupConfiguration") or {}),
        )


def _create_model_endpoints(resolver: TemplateResolver, client: Client) -> None:
    """The SageMaker model, endpoint configuration and endpoint the template creates (moto keeps
    their descriptions; nothing serves them: offline scoring goes to the local model server)."""
    sagemaker = client("sagemaker")
    for kind in (*HOSTING_REPLACED_BY, "AWS::SageMaker::Endpoint"):
        for logical_id in resolver.resources_of(kind):
            props = resolver.resolve(resolver.resources[logical_id]["Properties"])
            _create_hosting(sagemaker, kind, resolver.physical_name(logical_id), props)


# The hosting resources in the order a stack update deals with them, and the properties whose
# change replaces each (their createOnlyProperties in CloudFormation's resource schemas); an
# endpoint whose EndpointConfigName changes is updated in place (UpdateEndpoint).
HOSTING_REPLACED_BY = {
    "AWS::SageMaker::Model": ("ExecutionRoleArn", "PrimaryContainer", "ModelName"),
    "AWS::SageMaker::EndpointConfig": ("ProductionVariants", "EndpointConfigName"),
}


def update_model_endpoints(
    before: TemplateResolver, after: TemplateResolver, client: Client
) -> list[str]:
    """What a stack update from the parameters of ``before`` to those of ``after`` does to the
    SageMaker model, endpoint configuration and endpoint: each model or configuration whose
    replacing properties changed is created anew under a new name (``after.replaced``), and an
    endpoint whose configuration name changed is updated to the new one. Returns what it did."""
    sagemaker = client("sagemaker")
    after.replaced.update(before.replaced)
    done: list[str] = []
    for kind, replacing in HOSTING_REPLACED_BY.items():
        for logical_id in after.resources_of(kind):
            old = before.resolve(before.resources[logical_id]["Properties"])
            new = after.resolve(after.resources[logical_id]["Properties"])
            if all(old.get(key) == new.get(key) for key in replacing):
                continue
            # CloudFormation names a replacement anew (its physical ids end in a random suffix).
            base = (
                before.resolve(before.resources[logical_id].get("Properties", {})).get(
                    replacing[-1]
                )
                or f"{after.stack_name}-{logical_id}"
            )
            after.replaced[logical_id] = f"{base}-{uuid.uuid4().hex[:8]}"
            _create_hosting(sagemaker, kind, after.physical_name(logical_id), new)
            done.append(f"{logical_id} replaced by {after.physical_name(logical_id)}")
    for logical_id in after.resources_of("AWS::SageMaker::Endpoint"):
        old = before.resolve(before.resources[logical_id]["Properties"])
        new = after.resolve(after.resources[logical_id]["Properties"])
        if old["EndpointConfigName"] != new["EndpointConfigName"]:
            sagemaker.update_endpoint(
                EndpointName=after.physical_name(logical_id),
                EndpointConfigName=new["EndpointConfigName"],
            )
            done.append(f"{logical_id} updated to {new['EndpointConfigName']}")
    return done


def _create_hosting(sagemaker: Any, kind: str, name: str, props: Mapping[str, Any]) -> None:
    if kind == "AWS::SageMaker::Model":
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=props["ExecutionRoleArn"],
            PrimaryContainer=props["PrimaryContainer"],
        )
    elif kind == "AWS::SageMaker::EndpointConfig":
        # Parameters resolve to text; the API takes the serverless sizes as numbers.
        variants = [
            {**v, "ServerlessConfig": {k: int(n) for k, n in v["ServerlessConfig"].items()}}
            if "ServerlessConfig" in v
            else v
            for v in props["ProductionVariants"]
        ]
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
    else:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=props["EndpointConfigName"])


def _create_state_machines(
    resolver: TemplateResolver,
    client: Client,
    root: Path,
    substitution_overrides: Mapping[str, Any],
) -> None:
    sfn = client("stepfunctions")
    for logical_id in resolver.resources_of("AWS::Serverless::StateMachine"):
        props = resolver.resources[logical_id]["Properties"]
        definition = state_machine_definition(resolver, root, substitution_overrides, logical_id)
        sfn.create_state_machine(
            name=resolver.physical_name(logical_id),
            definition=definition,
            roleArn=state_machine_role_arn(resolver, logical_id),
            type=str(resolver.resolve(props.get("Type", "STANDARD"))),
        )


def state_machine_role_arn(resolver: TemplateResolver, logical_id: str) -> str:
    """The role the emulated account gives a state machine's executions (the permission audit
    knows the state machine by it)."""
    return f"arn:aws:iam::{resolver.account}:role/{resolver.stack_name}-{logical_id}"


def state_machine_definition(
    resolver: TemplateResolver,
    root: Path,
    substitution_overrides: Mapping[str, Any],
    logical_id: str,
) -> str:
    """A state machine's ASL (its ``DefinitionUri`` under ``root``) after the template's
    DefinitionSubstitutions, each replaced by its override when there is one; raises
    HarnessError if a placeholder has no value or the result is not valid JSON."""
    props = resolver.resources[logical_id]["Properties"]
    path = root / str(resolver.resolve(props["DefinitionUri"]))
    substitutions = {
        key: as_text(substitution_overrides.get(key, value))
        for key, value in resolver.resolve(props.get("DefinitionSubstitutions") or {}).items()
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
