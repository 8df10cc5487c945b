"""A file of more chunks than an inline Map allows, through the emulated stack (which holds the
executions to Step Functions' 25,000-event history and 256 KB payload quotas).

The same staged file goes through the ingest workflow's former ProcessChunks (an inline Map over
the list of chunk keys in the state, with a Catch to QuarantineFile) and through the workflow as
it is (a Distributed Map reading the list from S3). A tiny ChunkSize keeps the run short: the
limits count chunks, not rows; one chunk at a time is the emulator's fastest (its Lambda
invocations run one at a time anyway).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT

from bookings.generator import generate_rows, write_csv
from bookings.offline.emulator import EmulatedStack
from bookings.offline.emulator.step_functions import HISTORY_EVENT_LIMIT, HISTORY_LIMIT_CAUSE

pytestmark = pytest.mark.slow

# About 17 history events per chunk in an inline Map put the limit near 1,470 chunks.
CHUNKS = 1_500
LAMBDA_RETRY = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ],
    "IntervalSeconds": 1,
    "MaxAttempts": 4,
    "BackoffRate": 2,
}


def former_process_chunks(stack: EmulatedStack) -> dict[str, Any]:
    """The ingest workflow's former ProcessChunks state, verbatim but for the substitutions,
    with QuarantineFile and the success after it stood in for by end states."""

    def task(logical_id: str, after: dict[str, Any]) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": stack.functions[logical_id].arn,
            "Retry": [LAMBDA_RETRY],
            **after,
        }

    return {
        "StartAt": "ProcessChunks",
        "States": {
            "ProcessChunks": {
                "Type": "Map",
                "ItemsPath": "$.file.chunk_keys",
                "MaxConcurrency": stack.overrides["MapMaxConcurrency"],
                "ItemSelector": {
                    "chunk_key.$": "$$.Map.Item.Value",
                    "source_file.$": "$.file.source_file",
                    "ingested_at.$": "$.file.ingested_at",
                    "booking_date.$": "$.file.booking_date",
                    "execution.$": "$$.Execution.Name",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Enrich",
                    "States": {
                        "Enrich": task("EnrichFunction", {"Next": "Score"}),
                        "Score": task("ScoreFunction", {"Next": "Deliver"}),
                        "Deliver": task("DeliverFunction", {"End": True}),
                    },
                },
                "ResultPath": None,
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Quarantine"}
                ],
                "Next": "Processed",
            },
            "Quarantine": {"Type": "Pass", "End": True},
            "Processed": {"Type": "Succeed"},
        },
    }


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatedStack]:
    with EmulatedStack(
        ROOT / "template.yaml", overrides={"ChunkSize": 1, "MapMaxConcurrency": 1}
    ) as emulated:
        yield emulated


def test_a_file_of_more_chunks_than_an_inline_map_allows(
    stack: EmulatedStack, tmp_path: Path
) -> None:
    source = tmp_path / "bookings_2024-05-17.csv"
    write_csv(source, generate_rows(CHUNKS, 31), seed=31)
    key = stack.upload(source, "incoming/bookings_2024-05-17.csv")
    event = stack.object_created_event(key)

    # The former shape, fed the state the former Validate gave it (the chunk keys in $.file).
    file = stack.invoke("ValidateFunction", {"event": event, "execution": "former"})
    s3 = stack.client("s3")
    keys = json.loads(
        s3.get_object(Bucket=stack.lake_bucket, Key=file["chunks_key"])["Body"].read()
    )
    assert len(keys) == file["chunk_count"] == CHUNKS
    sfn = stack.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="former-process-chunks",
        definition=json.dumps(former_process_chunks(stack)),
        roleArn=f"arn:aws:iam::{stack.account}:role/former",
    )["stateMachineArn"]
    former = stack.wait(
        sfn.start_execution(
            stateMachineArn=machine,
            name="former",
            input=json.dumps({"file": {**file, "chunk_keys": keys}}),
        )["executionArn"],
        timeout=1800,
    )
    # The history limit ends the execution, and no Catch sees it: the file is not quarantined,
    # its claim stays IN_PROGRESS (an upload of the same object again is a duplicate).
    assert former.status == "FAILED"
    assert (former.error, former.cause) == ("States.Runtime", HISTORY_LIMIT_CAUSE)
    assert former.history_events == HISTORY_EVENT_LIMIT
    assert "Quarantine" not in former.visited()
    delivered = former.visited().count("Deliver")
    assert 1_400 < delivered < CHUNKS
    assert HISTORY_EVENT_LIMIT / delivered == pytest.approx(17, abs=0.5)
    claim = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("IdempotencyTable"),
        Key={"object_id": {"S": file["object_id"]}},
    )["Item"]
    assert claim["status"]["S"] == "IN_PROGRESS"

    # The workflow as it is: the same rows (another object, and other bytes: the same bytes
    # under another key are a duplicate file), more chunks than the former limit.
    copy = tmp_path / "bookings_2024-05-17-again.csv"
    copy.write_bytes(source.read_bytes() + b"\r\n")
    again = stack.upload(copy, "incoming/bookings_2024-05-17-again.csv")
    outcome = stack.route_object_created(again, timeout=1800)
    assert outcome is not None
    assert outcome.status == "SUCCEEDED", outcome.cause
    summary = outcome.output
    assert summary["chunks"] == CHUNKS
    assert summary["delivered"] == summary["valid"] == CHUNKS
    children = Counter(outcome.child_visited())
    assert children == dict.fromkeys(("Enrich", "Score", "Deliver"), CHUNKS)
    # The execution's own history and state do not grow with the file.
    assert outcome.history_events < 100
