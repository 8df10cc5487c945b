"""template.yaml against the project's contracts: the data schema, the functions and their
environment, the state machine's substitutions, the storage and IAM rules, the upload rule.

These read the template as data (no AWS tooling); tests/test_template.py runs the tools.
"""

from __future__ import annotations

import ast
import datetime
import fnmatch
import json
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from booking_core.audit import IngestAuditRow
from booking_core.schema import RejectedRow, ScoredBooking
from moto.events.models import EventPattern
from support.contract import (
    CONTRACT_ENVIRONMENT,
    FUNCTIONS,
    NOT_IN_WORKFLOWS,
    SUBSTITUTIONS,
    TRAINING_FUNCTIONS,
)
from support.paths import ROOT

from bookings import deploy_check
from bookings.offline.emulator import pattern_matches
from bookings.offline.template import TemplateError, load_template

TEMPLATE_PATH = ROOT / "template.yaml"

# Actions IAM only accepts on Resource "*" (no resource-level permissions), each justified in the
# template where it is used.
ACTIONS_WITHOUT_RESOURCE_LEVEL = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
}
GLUE_TYPES = {
    int: "int",
    float: "double",
    str: "string",
    bool: "boolean",
    datetime.date: "date",
    datetime.datetime: "timestamp",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in template["Resources"].items() if spec["Type"] == kind}


def glue_type(annotation: Any) -> str:
    """The Glue column type a pydantic field annotation maps to."""
    origin = typing.get_origin(annotation)
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        assert len(arguments) == 1, f"ambiguous union {annotation}"
        return glue_type(arguments[0])
    if origin is typing.Literal:
        assert all(isinstance(a, str) for a in arguments), f"non-string literal {annotation}"
        return "string"
    if origin is list:
        return f"array<{glue_type(arguments[0])}>"
    return GLUE_TYPES[annotation]


def table_input(template: dict[str, Any], name: str) -> dict[str, Any]:
    for spec in resources_of(template, "AWS::Glue::Table").values():
        if spec["Properties"]["TableInput"]["Name"] == name:
            return spec["Properties"]["TableInput"]
    raise AssertionError(f"no Glue table named {name}")


def function_environment(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """Globals' variables merged with the function's own, as SAM merges them."""
    merged = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    own = template["Resources"][logical_id]["Properties"].get("Environment", {})
    merged.update(own.get("Variables", {}))
    return merged


# One branch per place a template puts IAM statements: one function on purpose.
def iter_policy_statements(template: dict[str, Any]) -> typing.Iterator[tuple[str, dict]]:  # noqa: C901
    """Every IAM statement the template writes itself: roles, functions, state machines,
    bucket/queue/key policies (SAM policy templates are AWS-maintained and scoped by name)."""

    def statements_in(document: Any) -> typing.Iterator[dict[str, Any]]:
        if isinstance(document, dict):
            if "Fn::If" in document:
                for branch in document["Fn::If"][1:]:
                    yield from statements_in(branch)
                return
            if "Statement" in document:
                yield from statements_in(document["Statement"])
                return
            if "Effect" in document:
                yield document
        elif isinstance(document, list):
            for item in document:
                yield from statements_in(item)

    for name, spec in template["Resources"].items():
        properties = spec.get("Properties", {})
        documents = [
            properties.get("Policies"),
            properties.get("PolicyDocument"),
            properties.get("KeyPolicy"),
            properties.get("AssumeRolePolicyDocument"),
        ]
        for policy in properties.get("Policies") or []:
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                documents.append(policy["PolicyDocument"])
        for document in documents:
            for statement in statements_in(document):
                yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the one schema -------------------------------------------------------------------------


def test_bookings_table_columns_are_the_scored_booking_fields(template: dict[str, Any]) -> None:
    table = table_input(template, "bookings")
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    expected = [(name, glue_type(f.annotation)) for name, f in ScoredBooking.model_fields.items()]
    assert columns == expected
    assert table["PartitionKeys"] == [
        {"Name": "ingest_date", "Type": "string", "Comment": table["PartitionKeys"][0]["Comment"]}
    ]
    assert "ingest_date" not in ScoredBooking.model_fields


def test_bookings_table_is_parquet_under_curated(template: dict[str, Any]) -> None:
    descriptor = table_input(template, "bookings")["StorageDescriptor"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert descriptor["InputFormat"].endswith("MapredParquetInputFormat")
    assert descriptor["Location"] == {"Fn::Sub": "s3://${LakeBucket}/curated/bookings/"}


def test_rejected_table_columns_are_the_rejected_row_fields(template: dict[str, Any]) -> None:
    table = table_input(template, "rejected_bookings")
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    expected = [(name, glue_type(f.annotation)) for name, f in RejectedRow.model_fields.items()]
    assert columns == expected
    assert ("reasons", "array<string>") in columns
    assert [k["Name"] for k in table["PartitionKeys"]] == ["ingest_date"]
    descriptor = table["StorageDescriptor"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert descriptor["Location"] == {"Fn::Sub": "s3://${LakeBucket}/quarantine/rows/"}


@pytest.mark.parametrize(
    ("table", "location"),
    [("bookings", "curated/bookings/"), ("rejected_bookings", "quarantine/rows/")],
)
def test_day_partitions_are_projected_where_they_are_written(
    template: dict[str, Any], table: str, location: str
) -> None:
    """Athena finds a new day's partition without a crawl (live bookings arrive every day; the
    crawler runs after files): its template is the table's location plus the key Firehose and
    Validate write."""
    table_spec = table_input(template, table)
    parameters = table_spec["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.ingest_date.type"] == "date"
    assert parameters["projection.ingest_date.format"] == "yyyy-MM-dd"
    assert parameters["projection.ingest_date.range"].endswith(",NOW")
    assert table_spec["StorageDescriptor"]["Location"] == {
        "Fn::Sub": f"s3://${{LakeBucket}}/{location}"
    }
    assert parameters["storage.location.template"] == {
        "Fn::Sub": f"s3://${{LakeBucket}}/{location}ingest_date=${{!ingest_date}}/"
    }
    stream = template["Resources"]["BookingsDeliveryStream"]["Properties"]
    prefix = stream["ExtendedS3DestinationConfiguration"]["Prefix"]
    assert prefix == "curated/bookings/ingest_date=!{timestamp:yyyy-MM-dd}/"


def test_audit_table_columns_are_the_audit_row_fields(template: dict[str, Any]) -> None:
    from bookings.lake import AUDIT_SCHEMA

    table = table_input(template, "ingest_audit")
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    # The counts are unbounded integers: bigint, as the offline lake stores them (int64).
    glue_of_arrow = {"int64": "bigint", "string": "string", "timestamp[us, tz=UTC]": "timestamp"}
    assert list(IngestAuditRow.model_fields) == AUDIT_SCHEMA.names
    assert columns == [(f.name, glue_of_arrow[str(f.type)]) for f in AUDIT_SCHEMA]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["ingest_date"]
    descriptor = table["StorageDescriptor"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert descriptor["Location"] == {"Fn::Sub": "s3://${LakeBucket}/audit/ingest_audit/"}
    # The functions that write audit rows write them there, and register their partitions.
    for logical_id in ("ValidateFunction", "FinalizeFileFunction", "QuarantineFileFunction"):
        environment = function_environment(template, logical_id)
        assert environment["AUDIT_PREFIX"] == "audit/ingest_audit/", logical_id
        assert environment["AUDIT_TABLE"] == {"Ref": "IngestAuditTable"}, logical_id
        assert environment["GLUE_DATABASE"] == {"Ref": "GlueDatabase"}, logical_id


def test_crawl_problems_raise_alarms(template: dict[str, Any]) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    by_metric = {spec["Properties"]["MetricName"]: spec["Properties"] for spec in alarms.values()}
    for metric in ("CrawlsFailed", "CrawlerGaveUp"):
        alarm = by_metric[metric]
        assert alarm["Namespace"] == "AirlineBookings"
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "bookings"}]
        assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]
    handler = (ROOT / "functions" / "finalize_file" / "app.py").read_text()
    assert 'name="CrawlsFailed"' in handler
    assert 'name="CrawlerGaveUp"' in handler


def test_quicksight_dataset_columns_exist_in_the_committed_bookings(
    template: dict[str, Any],
) -> None:
    quicksight_types = {"int": "INTEGER", "double": "DECIMAL", "string": "STRING"}
    quicksight_types |= {"timestamp": "DATETIME", "date": "DATETIME", "boolean": "BOOLEAN"}
    # The dataset reads what users query (committed files, each booking once), not the table.
    view = table_input(template, "committed_bookings")
    glue_columns = {c["Name"]: c["Type"] for c in view["StorageDescriptor"]["Columns"]}
    table = table_input(template, "bookings")
    table_columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    table_columns |= {k["Name"]: k["Type"] for k in table["PartitionKeys"]}
    assert glue_columns == table_columns
    dataset = template["Resources"]["BookingsDataSet"]
    assert dataset["Condition"] == "QuickSightEnabled"
    assert dataset["DependsOn"] == ["ViewCommittedBookings"]
    physical = dataset["Properties"]["PhysicalTableMap"]["bookings"]["RelationalTable"]
    assert physical["Name"] == "committed_bookings"
    for column in physical["InputColumns"]:
        assert column["Name"] in glue_columns, column
        assert quicksight_types[glue_columns[column["Name"]]] == column["Type"], column


def test_crawler_only_adds_partitions_of_the_lake_tables(template: dict[str, Any]) -> None:
    crawler = template["Resources"]["PartitionCrawler"]["Properties"]
    targets = crawler["Targets"]["CatalogTargets"]
    assert targets == [
        {
            "DatabaseName": {"Ref": "GlueDatabase"},
            "Tables": [
                {"Ref": "BookingsTable"},
                {"Ref": "RejectedBookingsTable"},
                {"Ref": "IngestAuditTable"},
            ],
        }
    ]
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    # Incremental recrawls are for S3 targets only (Glue's RecrawlPolicy); catalog targets are
    # crawled whole.
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    configuration = json.loads(crawler["Configuration"])
    assert configuration["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == (
        "InheritFromTable"
    )


def test_firehose_writes_parquet_partitions_with_the_glue_schema(template: dict[str, Any]) -> None:
    stream = template["Resources"]["BookingsDeliveryStream"]["Properties"]
    assert stream["DeliveryStreamType"] == "DirectPut"
    destination = stream["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == "curated/bookings/ingest_date=!{timestamp:yyyy-MM-dd}/"
    assert destination["ErrorOutputPrefix"] == (
        "curated/errors/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/"
    )
    assert destination["BufferingHints"] == {
        "IntervalInSeconds": {"Ref": "FirehoseBufferSeconds"},
        "SizeInMBs": {"Ref": "FirehoseBufferMiB"},
    }
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "OpenXJsonSerDe" in conversion["InputFormatConfiguration"]["Deserializer"]
    serializer = conversion["OutputFormatConfiguration"]["Serializer"]
    assert serializer == {"ParquetSerDe": {"Compression": "SNAPPY"}}
    assert conversion["SchemaConfiguration"]["TableName"] == {"Ref": "BookingsTable"}
    # Firehose refuses Parquet conversion with a buffer below 64 MiB.
    assert template["Parameters"]["FirehoseBufferMiB"]["MinValue"] >= 64


# --- functions, environment, state machine ----------------------------------------------------


def test_every_contract_function_is_declared_as_agreed(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTIONS) | set(TRAINING_FUNCTIONS)
    defaults = template["Globals"]["Function"]
    assert defaults["Runtime"] == "python3.12"
    assert defaults["Architectures"] == ["arm64"]
    assert defaults["Tracing"] == "Active"
    assert defaults["Handler"] == "app.lambda_handler"
    assert defaults["Layers"] == [{"Ref": "CoreLayer"}]
    for logical_id, directory in (FUNCTIONS | TRAINING_FUNCTIONS).items():
        properties = functions[logical_id]["Properties"]
        assert properties["CodeUri"] == f"functions/{directory}"
        for overridden in ("Runtime", "Handler", "Architectures", "Layers", "Tracing"):
            assert overridden not in properties, (logical_id, overridden)
    layer = template["Resources"]["CoreLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/core"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_function_environments_use_only_contract_names(template: dict[str, Any]) -> None:
    for logical_id in FUNCTIONS:
        names = set(function_environment(template, logical_id))
        assert names <= CONTRACT_ENVIRONMENT, (logical_id, names - CONTRACT_ENVIRONMENT)
    globals_ = template["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_["POWERTOOLS_SERVICE_NAME"] == "bookings"
    assert globals_["POWERTOOLS_METRICS_NAMESPACE"] == "AirlineBookings"


def _needed_settings(tree: ast.AST) -> set[str]:
    """Names passed to ``settings.need(NAME=...)`` under ``tree``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "need"
        ):
            names.update(keyword.arg for keyword in node.keywords if keyword.arg)
    return names


def settings_the_handler_needs(app: Path) -> set[str]:
    """The variables a handler cannot run without: its own ``settings.need(...)`` calls and those
    of the use cases it calls (``from booking_core.usecases.<module> import <function>``)."""
    tree = ast.parse(app.read_text(encoding="utf-8"))
    names = _needed_settings(tree)
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("booking_core.usecases.")
        ):
            continue
        module_path = ROOT / "layers" / "core" / Path(*node.module.split(".")).with_suffix(".py")
        module = ast.parse(module_path.read_text(encoding="utf-8"))
        imported = {alias.name for alias in node.names}
        for function in ast.walk(module):
            if isinstance(function, ast.FunctionDef) and function.name in imported:
                names |= _needed_settings(function)
    return names


def test_the_needed_settings_are_found_through_the_use_cases() -> None:
    validate = ROOT / "functions" / "validate" / "app.py"
    assert settings_the_handler_needs(validate) == {"LAKE_BUCKET", "IDEMPOTENCY_TABLE"}
    promote = ROOT / "functions" / "promote_model" / "app.py"
    assert settings_the_handler_needs(promote) == {"MODEL_ROLE_ARN", "INFERENCE_IMAGE_URI"}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS | TRAINING_FUNCTIONS))
def test_each_handler_gets_the_variables_it_needs(
    template: dict[str, Any], logical_id: str
) -> None:
    app = ROOT / "functions" / (FUNCTIONS | TRAINING_FUNCTIONS)[logical_id] / "app.py"
    assert app.is_file(), f"{app} is missing"
    environment = function_environment(template, logical_id)
    missing = settings_the_handler_needs(app) - set(environment)
    assert not missing, f"{logical_id} needs {sorted(missing)} but the template does not set them"


def test_score_endpoint_name_follows_the_model_conditions(template: dict[str, Any]) -> None:
    environment = function_environment(template, "ScoreFunction")
    assert environment["MODEL_ENDPOINT_NAME"] == {
        "Fn::If": [
            "CreateModelEndpoint",
            {"Fn::GetAtt": ["ModelEndpoint", "EndpointName"]},
            {"Fn::If": ["UseExistingEndpoint", {"Ref": "SageMakerEndpointName"}, ""]},
        ]
    }
    assert environment["SCORE_MAX_PAYLOAD_BYTES"] == "3500000"
    assert environment["SAGEMAKER_RUNTIME_URL"] == ""


def test_env_json_matches_the_template(template: dict[str, Any]) -> None:
    env_file = json.loads((ROOT / "env.json").read_text(encoding="utf-8"))
    assert set(env_file) == set(FUNCTIONS)
    for logical_id in FUNCTIONS:
        assert set(env_file[logical_id]) == set(function_environment(template, logical_id)), (
            logical_id
        )
        assert all(isinstance(v, str) for v in env_file[logical_id].values()), logical_id


def test_state_machine_substitutions_match_the_definition(template: dict[str, Any]) -> None:
    machine = template["Resources"]["IngestFileStateMachine"]["Properties"]
    assert machine["Type"] == "STANDARD"
    assert machine["Tracing"] == {"Enabled": True}
    substitutions = machine["DefinitionSubstitutions"]
    assert set(substitutions) == SUBSTITUTIONS
    # The names and prefixes of the stack's own resources, as its functions' environments give
    # them (STAGING_PREFIX, LAKE_BUCKET).
    resources = {"LakeBucketName": {"Ref": "LakeBucket"}, "StagingPrefix": "staging/"}
    for key in SUBSTITUTIONS:
        if key.endswith("FunctionArn"):
            assert substitutions[key] == {"Fn::GetAtt": [key.removesuffix("Arn"), "Arn"]}
        elif key in resources:
            assert substitutions[key] == resources[key], key
        else:
            assert substitutions[key] == {"Ref": key}, key
            assert key in template["Parameters"], key
    validate = template["Resources"]["ValidateFunction"]["Properties"]["Environment"]["Variables"]
    assert validate["STAGING_PREFIX"] == substitutions["StagingPrefix"]
    assert validate["LAKE_BUCKET"] == substitutions["LakeBucketName"]
    definition = (ROOT / machine["DefinitionUri"]).read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", definition)) == SUBSTITUTIONS
    invoked = {
        policy["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for policy in machine["Policies"]
        if "LambdaInvokePolicy" in policy
    }
    assert invoked == set(FUNCTIONS) - NOT_IN_WORKFLOWS


def test_every_function_logs_to_its_own_retained_log_group(template: dict[str, Any]) -> None:
    log_groups = resources_of(template, "AWS::Logs::LogGroup")
    for logical_id in FUNCTIONS:
        group = template["Resources"][logical_id]["Properties"]["LoggingConfig"]["LogGroup"]
        assert group == {"Ref": f"{logical_id}LogGroup"}
    for name, spec in log_groups.items():
        assert spec["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


# --- the upload rule --------------------------------------------------------------------------


def s3_event(bucket: str, key: str) -> dict[str, Any]:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}},
    }


@pytest.mark.parametrize(
    ("bucket", "key", "starts"),
    [
        ("raw", "incoming/bookings.csv", True),
        ("raw", "incoming/2024/05/bookings.csv", True),
        ("raw", "incoming/EXPORT.CSV", True),
        ("raw", "incoming/bookings.csv.gz", True),
        ("raw", "incoming/bookings.zip", True),
        ("raw", "incoming/notes.txt", False),
        ("raw", "incoming/bookings.csv.tmp", False),
        ("raw", "elsewhere/bookings.csv", False),
        ("other-bucket", "incoming/bookings.csv", False),
    ],
)
def test_upload_rule_starts_executions_for_booking_files_only(
    template: dict[str, Any], bucket: str, key: str, starts: bool
) -> None:
    rule = template["Resources"]["IngestFileRule"]["Properties"]
    pattern = json.loads(json.dumps(rule["EventPattern"]).replace('{"Ref": "RawBucket"}', '"raw"'))
    assert EventPattern.load(json.dumps(pattern)).matches_event(s3_event(bucket, key)) is starts
    # The offline stack routes uploads with the same matcher, behind its operator check.
    assert pattern_matches(pattern, s3_event(bucket, key)) is starts
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "IngestFileStateMachine"}


def test_raw_bucket_sends_events_to_eventbridge(template: dict[str, Any]) -> None:
    raw = template["Resources"]["RawBucket"]["Properties"]
    assert raw["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


# --- storage and IAM --------------------------------------------------------------------------


def test_every_bucket_is_encrypted_private_and_tls_only(template: dict[str, Any]) -> None:
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert {"RawBucket", "LakeBucket", "AthenaResultsBucket"} <= set(buckets)
    policies = {
        spec["Properties"]["Bucket"]["Ref"]: spec["Properties"]["PolicyDocument"]
        for spec in resources_of(template, "AWS::S3::BucketPolicy").values()
    }
    for name, spec in buckets.items():
        properties = spec["Properties"]
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        block = properties["PublicAccessBlockConfiguration"]
        assert block == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert properties["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}
        ]
        denies_plain_http = [
            statement
            for statement in policies[name]["Statement"]
            if statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and statement["Action"] in ("s3:*", ["s3:*"])
        ]
        assert len(denies_plain_http) == 1, f"{name} has no TLS-only policy"
        resources = as_list(denies_plain_http[0]["Resource"])
        assert {"Fn::GetAtt": [name, "Arn"]} in resources, name
        assert {"Fn::Sub": f"${{{name}.Arn}}/*"} in resources, name


def test_staging_chunks_expire(template: dict[str, Any]) -> None:
    rules = template["Resources"]["LakeBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    staging = [r for r in rules if r.get("Prefix") == "staging/"]
    assert staging
    assert 0 < staging[0]["ExpirationInDays"] <= 7


def test_no_iam_statement_allows_everything(template: dict[str, Any]) -> None:
    checked = 0
    for resource, statement in iter_policy_statements(template):
        checked += 1
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement.get("Action", []))
        for action in actions:
            assert isinstance(action, str), (resource, action)
            assert action != "*", resource
        if "Principal" in statement and "Resource" not in statement:
            continue  # a trust policy
        if "*" in as_list(statement.get("Resource")):
            for action in actions:
                name = action.partition(":")[2]
                assert name != "*", f"{resource}: {action} on Resource *"
                if resource == "AlertTopicKey":
                    continue  # a key policy: "*" there means this key only
                assert action in ACTIONS_WITHOUT_RESOURCE_LEVEL, (
                    f"{resource}: {action} on Resource * although it supports resource ARNs"
                )
            if "cloudwatch:PutMetricData" in actions:
                assert "cloudwatch:namespace" in json.dumps(statement.get("Condition")), resource
    assert checked > 20


# --- what AWS checks at deployment and moto does not --------------------------------------------


@pytest.fixture(scope="module")
def project() -> deploy_check.Project:
    return deploy_check.Project(ROOT)


def test_crawlers_recrawl_incrementally_only_s3_targets(project: deploy_check.Project) -> None:
    assert deploy_check.crawler_recrawl_policies(project) == []


def test_definition_substitutions_are_strings_integers_or_booleans(
    project: deploy_check.Project,
) -> None:
    assert deploy_check.substitution_types(project) == []
    # The floor still reaches the evaluation as a number.
    definition = project.definition("TrainModelStateMachine", deploy_check.WITH_MODEL)
    assert definition is not None
    payload = json.loads(definition)["States"]["Evaluate"]["Parameters"]["Payload"]
    assert payload["minRocAuc"] == 0.75


def test_retry_and_catch_name_only_errors_their_tasks_can_raise(
    project: deploy_check.Project,
) -> None:
    assert deploy_check.workflow_error_names(project) == []


def test_every_iam_action_the_template_names_exists(project: deploy_check.Project) -> None:
    assert deploy_check.iam_actions(project) == []
    assert sum(1 for _ in deploy_check.named_actions(project.template)) > 100


def test_no_policy_appends_to_a_log_group_arn(project: deploy_check.Project) -> None:
    assert deploy_check.log_group_arns(project) == []
    role = project.template["Resources"]["DeliveryStreamRole"]["Properties"]
    (logs,) = [
        s
        for s in role["Policies"][0]["PolicyDocument"]["Statement"]
        if s["Sid"] == "DeliveryErrorLogs"
    ]
    values = deploy_check.Values(project.template, {})
    assert values.resolve(logs["Resource"]) == (
        "arn:aws:logs:us-east-1:123456789012:log-group:airline-bookings-dev-DeliveryStreamLogGroup"
        ":log-stream:airline-bookings-dev-DeliveryStreamLogStream"
    )


def allowed_resources(template: dict[str, Any], logical_id: str, action: str) -> list[str]:
    """The resources a function's own policy statements allow ``action`` on, resolved for a
    stack deployed with a model archive."""
    values = deploy_check.Values(template, deploy_check.WITH_MODEL)
    policies = values.resolve(template["Resources"][logical_id]["Properties"]["Policies"])
    found = []
    for statement in deploy_check.policy_statements(policies):
        if statement["Effect"] == "Allow" and action in as_list(statement["Action"]):
            found.extend(as_list(statement["Resource"]))
    return found


def test_evaluate_model_may_read_the_live_archive_and_the_retrained_ones(
    template: dict[str, Any],
) -> None:
    allowed = allowed_resources(template, "EvaluateModelFunction", "s3:GetObject")
    lake = "airline-bookings-dev-LakeBucket"
    live = deploy_check.WITH_MODEL["SageMakerModelDataUrl"].removeprefix("s3://")
    for wanted in (f"arn:aws:s3:::{live}", f"arn:aws:s3:::{lake}/ml/models/job-1/model.tar.gz"):
        assert any(fnmatch.fnmatchcase(wanted, pattern) for pattern in allowed), (wanted, allowed)
    # Least privilege: the deployed archive itself, not its bucket.
    assert "arn:aws:s3:::models-bucket/*" not in allowed
    assert not any(
        fnmatch.fnmatchcase("arn:aws:s3:::models-bucket/other.tar.gz", p) for p in allowed
    )


def test_optional_parts_are_behind_their_conditions(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for name in ("ModelExecutionRole", "BookingModel", "ModelEndpointConfig", "ModelEndpoint"):
        assert resources[name]["Condition"] == "CreateModelEndpoint", name
    for name in ("QuickSightAthenaDataSource", "BookingsDataSet"):
        assert resources[name]["Condition"] == "QuickSightEnabled", name
    assert resources["AlertEmailSubscription"]["Condition"] == "HasAlertEmail"
    assert {"HasAlertEmail", "CreateModelEndpoint", "UseExistingEndpoint", "HasEndpoint"} <= set(
        template["Conditions"]
    )
    assert "QuickSightEnabled" in template["Conditions"]


@pytest.mark.parametrize(
    ("parameter", "accepted", "refused"),
    [
        ("AlertEmail", ["", "ops@example.com"], ["ops", "ops@", "a b@example.com"]),
        (
            "SageMakerModelDataUrl",
            ["", "s3://models-bucket/bookings/model.tar.gz"],
            ["https://example.com/model.tar.gz", "s3://models-bucket/model.zip", "s3://b"],
        ),
        ("SageMakerEndpointName", ["", "bookings-model", "m1"], ["Bookings", "-x", "a_b"]),
        (
            "QuickSightPrincipalArn",
            ["", "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst"],
            ["arn:aws:iam::123456789012:user/analyst", "analyst"],
        ),
        (
            "SageMakerImageUri",
            ["683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"],
            ["sagemaker-scikit-learn:latest", ""],
        ),
    ],
)
def test_parameter_patterns(
    template: dict[str, Any], parameter: str, accepted: list[str], refused: list[str]
) -> None:
    pattern = re.compile(template["Parameters"][parameter]["AllowedPattern"])
    for value in accepted:
        assert pattern.fullmatch(value), (parameter, value)
    for value in refused:
        assert not pattern.fullmatch(value), (parameter, value)
    default = template["Parameters"][parameter].get("Default")
    assert default is None or pattern.fullmatch(str(default))


def test_outputs_name_what_a_user_needs(template: dict[str, Any]) -> None:
    expected = {
        "RawBucketName",
        "LakeBucketName",
        "AthenaResultsBucketName",
        "BookingsApiUrl",
        "IngestFileStateMachineArn",
        "AthenaWorkGroupName",
        "GlueDatabaseName",
        "AlertTopicArn",
        "DeliveryStreamName",
    }
    assert expected <= set(template["Outputs"])


def test_resources_end_with_the_sections_for_analytics_and_training() -> None:
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    analytics = text.index("# Analytics (named queries, views, QuickSight)")
    training = text.index("# Model training")
    assert analytics < training < text.index("\nOutputs:")


def test_checkov_skips_are_justified(template: dict[str, Any]) -> None:
    skips = 0
    for name, spec in template["Resources"].items():
        for skip in (spec.get("Metadata") or {}).get("checkov", {}).get("skip", []):
            skips += 1
            assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip.get("comment", "").split()) >= 6, (name, skip["id"])
    assert skips > 0


# --- samconfig.toml and the loader -------------------------------------------------------------


def test_samconfig_has_dev_and_prod() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for environment in ("default", "dev", "prod"):
        deploy = config[environment]["deploy"]["parameters"]
        assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
        assert deploy["resolve_s3"] is True
        assert deploy["region"]
        assert config[environment]["global"]["parameters"]["stack_name"]
    prod = config["prod"]["deploy"]["parameters"]
    assert prod["confirm_changeset"] is True
    assert "EnvironmentName=prod" in prod["parameter_overrides"]
    assert "EnvironmentName=dev" in config["dev"]["deploy"]["parameters"]["parameter_overrides"]
    stacks = {config[e]["global"]["parameters"]["stack_name"] for e in ("dev", "prod")}
    assert len(stacks) == 2


def test_loader_keeps_intrinsics_in_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      A: !Ref B\n"
        "      C: !GetAtt D.Arn\n"
        "      E: !Sub '${F}-x'\n"
        "      G: !If [H, !Select [0, !Split [',', !Ref I]], !Ref AWS::NoValue]\n",
        encoding="utf-8",
    )
    properties = load_template(path)["Resources"]["Q"]["Properties"]
    assert properties == {
        "A": {"Ref": "B"},
        "C": {"Fn::GetAtt": ["D", "Arn"]},
        "E": {"Fn::Sub": "${F}-x"},
        "G": {
            "Fn::If": [
                "H",
                {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "I"}]}]},
                {"Ref": "AWS::NoValue"},
            ]
        },
    }


def test_loader_reports_a_bad_template_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("Resources:\n  A: [unclosed\n", encoding="utf-8")
    with pytest.raises(TemplateError) as error:
        load_template(path)
    message = str(error.value)
    assert "broken.yaml" in message
    assert re.search(r"line \d+", message)
    assert "\n" not in message
    (tmp_path / "empty.yaml").write_text("Parameters: {}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="no Resources section"):
        load_template(tmp_path / "empty.yaml")
