"""The ingest state machine end to end: moto's own Step Functions interpreter runs
statemachines/ingest_file.asl.json from template.yaml, with the Lambda tasks dispatched to the
real handlers (bookings.offline.emulator)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from booking_core.aws.clients import aws_client
from booking_core.usecases.source import SourceObject
from booking_core.usecases.validate_file import chunks_key_of
from support.contract import SUBSTITUTIONS
from support.paths import ROOT

from bookings.offline.emulator import EmulatedStack, HarnessError, pattern_matches

CLEAN = ROOT / "data" / "sample_bookings.csv"
DIRTY = ROOT / "data" / "sample_dirty.csv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatedStack]:
    with EmulatedStack(ROOT / "template.yaml", overrides={"ChunkSize": 300}) as emulated:
        yield emulated


def variant(tmp_path: Path, name: str, drop: int) -> Path:
    """CLEAN without its last ``drop`` rows: other bytes (the same bytes under another key are a
    duplicate file, and add nothing)."""
    lines = CLEAN.read_bytes().splitlines(keepends=True)
    path = tmp_path / name
    path.write_bytes(b"".join(lines[: len(lines) - drop]))
    return path


def data_rows(path: Path) -> int:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return sum(1 for line in text.splitlines()[1:] if line.strip())


def curated_records(stack: EmulatedStack, source_file: str) -> list[dict[str, Any]]:
    return [
        r for r in stack.read_json_lines("curated/bookings/") if r["source_file"] == source_file
    ]


def assert_reconciled(stack: EmulatedStack, summary: dict[str, Any]) -> list[dict[str, Any]]:
    assert summary["rows"] == summary["valid"] + summary["rejected"]
    assert summary["delivered"] == summary["valid"]
    records = curated_records(stack, summary["source_file"])
    ids = Counter(r["booking_id"] for r in records)
    assert len(records) == summary["valid"]
    assert all(count == 1 for count in ids.values()), "a booking reached the lake twice"
    return records


def test_the_definition_uses_exactly_the_contract_substitutions(stack: EmulatedStack) -> None:
    text = (ROOT / "statemachines" / "ingest_file.asl.json").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == SUBSTITUTIONS
    definition = json.loads(stack.state_machine_definition())
    retry = definition["States"]["Validate"]["Retry"][0]
    assert retry["IntervalSeconds"] == 1  # the emulated stack's override, through the substitution
    assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
    assert definition["States"]["WaitForFirehoseFlush"]["Seconds"] == 0


def test_a_clean_file_is_delivered_scored_null_and_catalogued(stack: EmulatedStack) -> None:
    outcome = stack.put_file(CLEAN, "incoming/clean_2024-05-17.csv")
    assert outcome is not None
    assert outcome.status == "SUCCEEDED", outcome.cause
    summary = outcome.output
    assert summary["status"] == "completed"
    assert summary["rows"] == data_rows(CLEAN)
    assert summary["rejected"] == 0
    assert summary["chunks"] == -(-summary["valid"] // 300)
    records = assert_reconciled(stack, summary)
    # No endpoint is configured: every record goes on, unscored.
    assert summary["scored"] == 0
    assert all(r["booking_complete_probability"] is None for r in records)
    assert {r["booking_date"] for r in records} == {"2024-05-17"}
    visited = outcome.visited()
    for state in ("Validate", "ProcessChunks", "StartCrawler", "CheckCrawler", "FinalizeFile"):
        assert state in visited
    # Each chunk ran Enrich, Score and Deliver in a child execution of the Distributed Map.
    children = Counter(outcome.child_visited())
    assert children == dict.fromkeys(("Enrich", "Score", "Deliver"), summary["chunks"])
    assert visited[-2:] == ["FinalizeFile", "Processed"]
    # The crawler's emulated work: today's partition is in the Glue catalog.
    glue = stack.client("glue")
    database = stack.resource_name("GlueDatabase")
    partitions = glue.get_partitions(DatabaseName=database, TableName="bookings")["Partitions"]
    assert len(partitions) == 1
    # The object is marked done, with its summary.
    table = stack.resource_name("IdempotencyTable")
    item = stack.client("dynamodb").get_item(
        TableName=table, Key={"object_id": {"S": summary["object_id"]}}
    )["Item"]
    assert item["status"]["S"] == "COMPLETED"
    assert json.loads(item["summary"]["S"])["delivered"] == summary["delivered"]


def test_rejected_rows_are_quarantined_and_the_counts_reconcile(stack: EmulatedStack) -> None:
    outcome = stack.put_file(DIRTY, "incoming/dirty.csv")
    assert outcome is not None
    assert outcome.status == "SUCCEEDED", outcome.cause
    summary = outcome.output
    assert summary["rejected"] > 0
    assert sum(summary["reasons"].values()) >= summary["rejected"]
    assert_reconciled(stack, summary)
    rejected = stack.read_json_lines(summary["rejected_key"])
    assert len(rejected) == summary["rejected"]
    assert all(r["reason"] in r["reasons"] and r["raw"] is not None for r in rejected)
    assert summary["rejected_key"].startswith("quarantine/rows/ingest_date=")


@pytest.fixture
def alerts(stack: EmulatedStack) -> Any:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.client("sns").subscribe(
        TopicArn=stack.resource_name("AlertTopic"), Protocol="sqs", Endpoint=arn
    )
    return lambda: [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


def test_an_unreadable_file_is_quarantined_with_an_alert_and_fails(
    stack: EmulatedStack, alerts: Any, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"num_passengers,sales_channel\n1,Internet\n")
    outcome = stack.put_file(broken, "incoming/broken.csv")
    assert outcome is not None
    assert outcome.status == "FAILED"
    assert outcome.error == "UnreadableFile"
    assert "missing required column" in (outcome.cause or "")
    assert "QuarantineFile" in outcome.visited()
    s3 = stack.client("s3")
    copy = s3.get_object(Bucket=stack.lake_bucket, Key="quarantine/files/incoming/broken.csv")
    assert copy["Body"].read() == broken.read_bytes()
    report = json.loads(
        s3.get_object(
            Bucket=stack.lake_bucket, Key="quarantine/files/incoming/broken.csv.error.json"
        )["Body"].read()
    )
    assert report["error"] == "UnreadableFile"
    assert report["execution"] == outcome.name
    messages = alerts()
    assert len(messages) == 1
    assert "broken.csv" in messages[0]["Subject"]
    # The claim is released: a corrected upload of the same key runs.
    fixed = stack.put_file(variant(tmp_path, "fixed.csv", 1), "incoming/broken.csv")
    assert fixed is not None
    assert fixed.status == "SUCCEEDED", fixed.cause
    assert fixed.output["status"] == "completed"


def test_firehose_failed_records_are_retried_then_delivered(
    stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    firehose = aws_client("firehose")
    real_put = firehose.put_record_batch
    calls: list[int] = []

    def fail_some_the_first_time(**kwargs: Any) -> Any:
        """Instrumentation: the first call reports every 4th record as failed."""
        records = kwargs["Records"]
        calls.append(len(records))
        if len(calls) > 1:
            return real_put(**kwargs)
        failed = set(range(0, len(records), 4))
        real_put(
            DeliveryStreamName=kwargs["DeliveryStreamName"],
            Records=[r for i, r in enumerate(records) if i not in failed],
        )
        return {
            "FailedPutCount": len(failed),
            "RequestResponses": [
                {"ErrorCode": "ServiceUnavailableException"} if i in failed else {"RecordId": "x"}
                for i in range(len(records))
            ],
        }

    monkeypatch.setattr(firehose, "put_record_batch", fail_some_the_first_time)
    outcome = stack.put_file(variant(tmp_path, "flaky.csv", 2), "incoming/flaky_firehose.csv")
    assert outcome is not None
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert calls[1] == len(range(0, calls[0], 4))  # only the failed records were sent again
    assert_reconciled(stack, outcome.output)


def test_a_chunk_that_fails_quarantines_its_file(
    stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    firehose = aws_client("firehose")
    real_put = firehose.put_record_batch
    calls: list[int] = []

    def refuse_the_second_chunk(**kwargs: Any) -> Any:
        """Instrumentation: Firehose refuses the request of the second chunk delivered."""
        calls.append(len(kwargs["Records"]))
        if len(calls) == 2:
            raise RuntimeError("the delivery stream refused the request")
        return real_put(**kwargs)

    monkeypatch.setattr(firehose, "put_record_batch", refuse_the_second_chunk)
    outcome = stack.put_file(
        variant(tmp_path, "refused_chunk.csv", 5), "incoming/refused_chunk.csv"
    )
    assert outcome is not None
    # The child execution of the chunk failed; the Distributed Map tolerates no failure, so it
    # fails, and its Catch quarantines the file.
    assert outcome.status == "FAILED"
    assert outcome.error == "States.ExceedToleratedFailureThreshold"
    assert outcome.visited()[-3:] == ["ProcessChunks", "QuarantineFile", "FileFailed"]
    assert "FinalizeFile" not in outcome.visited()
    failed = [visit.name for visit in outcome.child_states if visit.failed]
    assert set(failed) == {"Deliver"}
    report = json.loads(
        stack.client("s3")
        .get_object(
            Bucket=stack.lake_bucket,
            Key="quarantine/files/incoming/refused_chunk.csv.error.json",
        )["Body"]
        .read()
    )
    assert report["error"] == "States.ExceedToleratedFailureThreshold"
    # The Map's error says only how many chunks failed: the report names the chunks of
    # Validate's list that have no delivery receipt (the refused one among them).
    chunk_list = json.loads(
        stack.client("s3")
        .get_object(Bucket=stack.lake_bucket, Key=outcome_chunk_list_key(stack, report))["Body"]
        .read()
    )
    undelivered = report["progress"]["chunks_without_receipt"]
    assert report["progress"]["chunks"] == len(chunk_list) > 1
    assert 1 <= len(undelivered) < len(chunk_list)
    assert set(undelivered) <= set(chunk_list)
    first = undelivered[0].rsplit("/", 1)[-1]
    assert f"chunk(s) without a delivery receipt: {first}" in report["cause"]
    assert report["progress"]["delivered"] <= sum(calls) - calls[1]  # the refused ones never


def outcome_chunk_list_key(stack: EmulatedStack, report: dict[str, Any]) -> str:
    """The chunk list Validate wrote for the quarantined object (``staging/<file id>/``)."""
    bucket_and_key, etag = report["object_id"].split("#", 1)
    bucket, key = bucket_and_key.split("/", 1)
    source = SourceObject(bucket=bucket, key=key, etag=etag, version_id=None, size=None)
    return chunks_key_of("staging/", source.file_id)


def test_the_same_event_twice_is_a_duplicate_and_delivers_nothing(
    stack: EmulatedStack, tmp_path: Path
) -> None:
    source = variant(tmp_path, "twice.csv", 3)
    key = stack.upload(source, "incoming/twice.csv")
    event = stack.object_created_event(key)
    first = stack.wait(stack.start_execution(event, name="twice-first"))
    second = stack.wait(stack.start_execution(event, name="twice-second"))
    assert first.status == second.status == "SUCCEEDED"
    assert second.output["status"] == "duplicate"
    assert second.visited() == ["Validate", "IsDuplicate", "MarkDuplicate", "Duplicate"]
    # The same bytes uploaded again (a new version of the object) are a duplicate too.
    again = stack.put_file(source, "incoming/twice.csv")
    assert again is not None
    assert again.output["status"] == "duplicate"
    assert_reconciled(stack, first.output)


def test_a_crawler_already_running_is_waited_for(stack: EmulatedStack, tmp_path: Path) -> None:
    crawler = stack.resource_name("PartitionCrawler")
    stack.client("glue").start_crawler(Name=crawler)
    outcome = stack.put_file(variant(tmp_path, "crawling.csv", 4), "incoming/while_crawling.csv")
    assert outcome is not None
    assert outcome.status == "SUCCEEDED", outcome.cause
    visited = outcome.visited()
    # Started while running -> waited -> started again once ready -> polled -> done.
    assert visited.count("StartCrawler") == 2
    assert outcome.output["crawler_state"] == "READY"
    assert not outcome.output["crawler_gave_up"]


def test_uploads_outside_the_rule_start_nothing(stack: EmulatedStack) -> None:
    assert stack.put_file(CLEAN, "elsewhere/bookings.csv") is None
    assert stack.put_file(CLEAN, "incoming/notes.txt") is None
    pattern = {"detail": {"object": {"key": [{"wildcard": "incoming/*.csv"}, {"prefix": "x/"}]}}}
    assert pattern_matches(pattern, {"detail": {"object": {"key": "incoming/a.csv"}}})
    assert pattern_matches(pattern, {"detail": {"object": {"key": "x/y"}}})
    assert not pattern_matches(pattern, {"detail": {"object": {"key": "incoming/a.txt"}}})
    assert not pattern_matches({"source": ["aws.s3"]}, {"source": "aws.ec2"})


def test_a_substitution_left_without_a_value_is_refused(tmp_path: Path) -> None:
    template = (ROOT / "template.yaml").read_text()
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines" / "ingest_file.asl.json").write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": ${Unknown}, "End": true}}}'
    )
    (tmp_path / "template.yaml").write_text(template)
    for name in ("functions", "layers"):
        (tmp_path / name).symlink_to(ROOT / name)
    with pytest.raises(HarnessError, match="no substitution for Unknown"):
        EmulatedStack(tmp_path / "template.yaml").state_machine_definition()
