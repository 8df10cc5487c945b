"""The rules of Step Functions that moto's interpreter leaves out, and the emulated stack adds
(bookings.offline.emulator.step_functions): each test runs a small state machine in moto's
interpreter with and without them, so it shows both what moto does alone and what AWS does."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bookings.offline.emulator.step_functions import (
    HISTORY_EVENT_LIMIT,
    HISTORY_LIMIT_CAUSE,
    StepFunctionsRules,
)

ROLE = "arn:aws:iam::123456789012:role/state-machine"
CAUGHT = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}
ENDINGS = {"Caught": {"Type": "Pass", "End": True}, "Done": {"Type": "Succeed"}}


@contextlib.contextmanager
def interpreter(*, rules: bool) -> Iterator[Any]:
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        StepFunctionsRules.installed() if rules else contextlib.nullcontext(),
    ):
        yield boto3.client("stepfunctions", region_name="us-east-1")


def run(sfn: Any, definition: dict[str, Any], given: Any = None) -> dict[str, Any]:
    """Run a definition to its end; its description and its history."""
    machine = sfn.create_state_machine(
        name=f"rules-{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="run", input=json.dumps(given or {}))[
        "executionArn"
    ]
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.05)
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    described["events"] = [event for page in pages for event in page["events"]]
    return described


def entered(outcome: dict[str, Any]) -> list[str]:
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in outcome["events"]
        if event["type"].endswith("StateEntered")
    ]


def inline_map(items_path: str, iteration: dict[str, Any]) -> dict[str, Any]:
    """An inline Map running 40 iterations at a time, as Step Functions does at most."""
    return {
        "Type": "Map",
        "ItemsPath": items_path,
        "MaxConcurrency": 40,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **iteration},
        "ResultPath": None,
        "Catch": [CAUGHT],
        "Next": "Done",
    }


# -- States.DataLimitExceeded -------------------------------------------------------------------

# Each iteration answers ~165 bytes, as the ingest workflow's Deliver step did per chunk.
ANSWER = {"Type": "Pass", "Result": {"receipt": "x" * 150}, "End": True}
ITEMS_OVER_256_KB = 1_700  # 1,700 x ~165 bytes: about 280 KB of results


@pytest.mark.slow
def test_a_map_result_over_256_kb_fails_the_execution_even_with_result_path_null() -> None:
    definition = {
        "StartAt": "Chunks",
        "States": {
            "Chunks": inline_map("$.items", {"StartAt": "Answer", "States": {"Answer": ANSWER}}),
            **ENDINGS,
        },
    }
    given = {"items": list(range(ITEMS_OVER_256_KB))}
    with interpreter(rules=False) as sfn:
        alone = run(sfn, definition, given)
    with interpreter(rules=True) as sfn:
        emulated = run(sfn, definition, given)
    # moto alone keeps the Map's result out of its quota: the execution succeeds.
    assert alone["status"] == "SUCCEEDED"
    # Step Functions checks the result before ResultPath, and States.ALL does not catch it.
    assert emulated["status"] == "FAILED"
    assert emulated["error"] == "States.DataLimitExceeded"
    assert "'Chunks' returned a result with a size exceeding" in emulated["cause"]
    assert "Caught" not in entered(emulated)


def test_states_all_does_not_catch_an_iteration_output_over_256_kb() -> None:
    big = {"Type": "Pass", "Result": "y" * (256 * 1024), "End": True}
    definition = {
        "StartAt": "Chunks",
        "States": {
            "Chunks": inline_map("$.items", {"StartAt": "Big", "States": {"Big": big}}),
            **ENDINGS,
        },
    }
    with interpreter(rules=False) as sfn:
        alone = run(sfn, definition, {"items": [1]})
    with interpreter(rules=True) as sfn:
        emulated = run(sfn, definition, {"items": [1]})
    assert alone["status"] == "SUCCEEDED"
    assert "Caught" in entered(alone)  # moto: States.ALL caught States.DataLimitExceeded
    assert emulated["status"] == "FAILED"
    assert emulated["error"] == "States.DataLimitExceeded"
    assert "Caught" not in entered(emulated)


# -- 25,000 history events ------------------------------------------------------------------------

STEPS = {
    "StartAt": "One",
    "States": {
        "One": {"Type": "Pass", "Next": "Two"},
        "Two": {"Type": "Pass", "Next": "Three"},
        "Three": {"Type": "Pass", "End": True},
    },
}
# 8 events per item (iteration started and succeeded, 3 states entered and exited).
ITEMS_OVER_THE_HISTORY = 3_200


@pytest.mark.slow
def test_the_25000th_history_event_ends_the_execution_uncaught() -> None:
    definition = {
        "StartAt": "Chunks",
        "States": {"Chunks": inline_map("$.items", STEPS), **ENDINGS},
    }
    given = {"items": list(range(ITEMS_OVER_THE_HISTORY))}
    with interpreter(rules=True) as sfn:
        emulated = run(sfn, definition, given)
    assert emulated["status"] == "FAILED"
    assert (emulated["error"], emulated["cause"]) == ("States.Runtime", HISTORY_LIMIT_CAUSE)
    events = emulated["events"]
    # As Step Functions records it: event 25,000 is the failure, nothing after it.
    assert len(events) == HISTORY_EVENT_LIMIT
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["id"] == HISTORY_EVENT_LIMIT
    assert events[-1]["executionFailedEventDetails"]["cause"] == HISTORY_LIMIT_CAUSE
    assert "Caught" not in entered(emulated)
    finished = sum(1 for e in events if e["type"] == "MapIterationSucceeded")
    assert 0 < finished < ITEMS_OVER_THE_HISTORY


def test_an_execution_within_the_history_limit_is_untouched() -> None:
    definition = {
        "StartAt": "Chunks",
        "States": {"Chunks": inline_map("$.items", STEPS), **ENDINGS},
    }
    with interpreter(rules=True) as sfn:
        emulated = run(sfn, definition, {"items": list(range(50))})
    assert emulated["status"] == "SUCCEEDED"
    assert entered(emulated)[-1] == "Done"
    assert len(emulated["events"]) < 500


# -- a Distributed Map's tolerated failures -------------------------------------------------------


def distributed(tolerated: int) -> dict[str, Any]:
    """A Distributed Map over a JSON list in S3 whose item 3 fails."""
    iteration = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 3, "Next": "Broken"}],
                "Default": "Fine",
            },
            "Broken": {"Type": "Fail", "Error": "ChunkFailed", "Cause": "item 3"},
            "Fine": {"Type": "Pass", "End": True},
        },
    }
    return {
        "StartAt": "Chunks",
        "States": {
            "Chunks": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": "items", "Key": "items.json"},
                },
                "MaxConcurrency": 1,
                "ToleratedFailureCount": tolerated,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **iteration,
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "items", "Prefix": "results"},
                },
                "ResultPath": None,
                "Catch": [CAUGHT],
                "Next": "Done",
            },
            **ENDINGS,
        },
    }


def with_items(sfn: Any, definition: dict[str, Any]) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="items")
    s3.put_object(Bucket="items", Key="items.json", Body=json.dumps([1, 2, 3, 4, 5, 6]))
    return run(sfn, definition)


def test_a_failed_child_fails_the_distributed_map_and_no_further_child_starts() -> None:
    with interpreter(rules=False) as sfn:
        alone = with_items(sfn, distributed(tolerated=0))
    with interpreter(rules=True) as sfn:
        emulated = with_items(sfn, distributed(tolerated=0))
        children = StepFunctionsRules.child_histories[emulated["executionArn"]]
    # moto alone ignores ToleratedFailureCount: the failed item is a null result.
    assert alone["status"] == "SUCCEEDED"
    assert entered(alone)[-1] == "Done"
    # Step Functions fails the Map Run past the threshold, and the Catch quarantines.
    assert emulated["status"] == "SUCCEEDED"
    assert entered(emulated)[-2:] == ["Chunks", "Caught"]
    error = json.loads(emulated["output"])["error"]
    assert error["Error"] == "States.ExceedToleratedFailureThreshold"
    assert "1 of 6 item(s) failed, at most 0 (0%) tolerated" in error["Cause"]
    # Items 1 and 2 went through, 3 failed, 4 to 6 never started.
    child_states = [
        e["stateEnteredEventDetails"]["name"] for e in children if e["type"].endswith("Entered")
    ]
    assert child_states == ["Check", "Fine", "Check", "Fine", "Check", "Broken"]


def test_failures_within_the_tolerance_let_the_distributed_map_succeed() -> None:
    with interpreter(rules=True) as sfn:
        emulated = with_items(sfn, distributed(tolerated=1))
    assert emulated["status"] == "SUCCEEDED"
    assert entered(emulated)[-1] == "Done"
