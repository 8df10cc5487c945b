"""The permission audit's two halves without AWS: what a call needs (actions and resource ARNs
from its parameters), and what a role's statements allow (IAM's wildcards, conditions, Deny)."""

from __future__ import annotations

from typing import Any

from bookings.offline.emulator.permissions import (
    Requirement,
    allows,
    has_resource_level_permissions,
    required,
)

REGION, ACCOUNT = "us-east-1", "123456789012"


def needs(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    found = required(service, operation, params, region=REGION, account=ACCOUNT)
    return [(r.action, r.resource) for r in found]


def test_s3_calls_need_their_object_or_bucket() -> None:
    assert needs("s3", "GetObject", Bucket="b", Key="k/x.csv") == [
        ("s3:GetObject", "arn:aws:s3:::b/k/x.csv")
    ]
    # Reading a version is another action (S3ReadPolicy grants both).
    assert needs("s3", "GetObject", Bucket="b", Key="k", VersionId="v1") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::b/k")
    ]
    assert needs(
        "s3", "CopyObject", Bucket="d", Key="to", CopySource={"Bucket": "s", "Key": "from"}
    ) == [
        ("s3:GetObject", "arn:aws:s3:::s/from"),
        ("s3:PutObject", "arn:aws:s3:::d/to"),
    ]
    assert needs("s3", "CopyObject", Bucket="d", Key="to", CopySource="s/a%20b?versionId=3") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::s/a b"),
        ("s3:PutObject", "arn:aws:s3:::d/to"),
    ]
    (listing,) = required(
        "s3",
        "ListObjectsV2",
        {"Bucket": "b", "Prefix": "staging/f/"},
        region=REGION,
        account=ACCOUNT,
    )
    assert (listing.action, listing.resource) == ("s3:ListBucket", "arn:aws:s3:::b")
    assert dict(listing.context) == {"s3:prefix": "staging/f/"}


def test_other_services_need_the_resource_their_parameters_name() -> None:
    assert needs("events", "PutEvents", Entries=[{"Source": "x"}]) == [
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")
    ]
    assert needs(
        "quicksight",
        "CreateIngestion",
        AwsAccountId=ACCOUNT,
        DataSetId="s-bookings",
        IngestionId="i1",
    ) == [
        (
            "quicksight:CreateIngestion",
            f"arn:aws:quicksight:{REGION}:{ACCOUNT}:dataset/s-bookings/ingestion/i1",
        )
    ]
    # SageMaker's ARNs are lower case; a role handed over must be passable to SageMaker.
    created = required(
        "sagemaker",
        "CreateModel",
        {"ModelName": "Booking-Model-V2", "ExecutionRoleArn": "arn:aws:iam::1:role/r"},
        region=REGION,
        account=ACCOUNT,
    )
    assert [(r.action, r.resource) for r in created] == [
        ("sagemaker:CreateModel", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/booking-model-v2"),
        ("iam:PassRole", "arn:aws:iam::1:role/r"),
    ]
    assert dict(created[1].context) == {"iam:PassedToService": "sagemaker.amazonaws.com"}
    assert needs("sagemaker-runtime", "InvokeEndpoint", EndpointName="m", Body=b"") == [
        ("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/m")
    ]
    # A Data Catalog call on a table needs the table, its database and the catalog.
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    assert needs("glue", "GetTable", DatabaseName="db", Name="ingest_audit") == [
        ("glue:GetTable", f"{glue}:catalog"),
        ("glue:GetTable", f"{glue}:database/db"),
        ("glue:GetTable", f"{glue}:table/db/ingest_audit"),
    ]
    assert needs(
        "glue", "CreatePartition", DatabaseName="db", TableName="t", PartitionInput={}
    ) == [
        ("glue:CreatePartition", f"{glue}:catalog"),
        ("glue:CreatePartition", f"{glue}:database/db"),
        ("glue:CreatePartition", f"{glue}:table/db/t"),
    ]
    # An operation the table does not know is named, never allowed but by "*".
    ((action, resource),) = needs("sqs", "SendMessage", QueueUrl="u", MessageBody="m")
    assert action == "sqs:SendMessage"
    assert resource.startswith("unknown resource")


def test_actions_without_resource_level_permissions_need_star() -> None:
    assert not has_resource_level_permissions("cloudwatch:PutMetricData")
    assert has_resource_level_permissions("s3:GetObject")


STATEMENTS: list[dict[str, Any]] = [
    {
        "Effect": "Allow",
        "Action": ["S3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::lake/staging/*/chunks.json",
    },
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::lake",
        "Condition": {"StringLike": {"s3:prefix": "staging/*"}},
    },
    {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
    {"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:secret"},
]


def test_a_role_allows_what_an_allow_statement_matches_and_no_deny_does() -> None:
    assert allows(
        STATEMENTS, Requirement("s3:getobject", "arn:aws:s3:::lake/staging/f/chunks.json")
    )
    assert not allows(STATEMENTS, Requirement("s3:GetObject", "arn:aws:s3:::lake/curated/x"))
    assert not allows(
        STATEMENTS, Requirement("s3:DeleteObject", "arn:aws:s3:::lake/staging/f/chunks.json")
    )
    # Resources are matched case-sensitively.
    assert not allows(
        STATEMENTS, Requirement("s3:GetObject", "arn:aws:s3:::Lake/staging/f/chunks.json")
    )
    listing = "arn:aws:s3:::lake"
    assert allows(STATEMENTS, Requirement("s3:ListBucket", listing, (("s3:prefix", "staging/f/"),)))
    assert not allows(
        STATEMENTS, Requirement("s3:ListBucket", listing, (("s3:prefix", "curated/"),))
    )
    # A condition on a key the call does not give fails, as in IAM.
    assert not allows(STATEMENTS, Requirement("s3:ListBucket", listing))
    assert allows(STATEMENTS, Requirement("sns:Publish", "arn:aws:sns:us-east-1:1:alerts"))
    assert not allows(STATEMENTS, Requirement("sns:Publish", "arn:aws:sns:us-east-1:1:secret"))
