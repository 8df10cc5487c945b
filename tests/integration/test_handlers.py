"""Each Lambda handler against moto, driven by its sample event from events/ (the files
``sam local invoke -e`` takes), with the environment template.yaml gives it."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from booking_core.schema import RejectedRow, ScoredBooking
from support.paths import ROOT

from bookings.analytics import sync_template
from bookings.offline.emulator import EmulatedStack, LambdaInvocationError

EVENTS = ROOT / "events"
CLEAN = ROOT / "data" / "sample_bookings.csv"
DIRTY = ROOT / "data" / "sample_dirty.csv"

pytestmark = pytest.mark.slow


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatedStack]:
    with EmulatedStack(ROOT / "template.yaml", overrides={"ChunkSize": 400}) as emulated:
        yield emulated


def object_created(stack: EmulatedStack, path: Path, key: str) -> dict[str, Any]:
    """events/validate.json, pointed at ``path`` uploaded to the emulated raw bucket."""
    stack.upload(path, key)
    head = stack.client("s3").head_object(Bucket=stack.raw_bucket, Key=key)
    event = sample_event("validate")
    event["detail"]["bucket"]["name"] = stack.raw_bucket
    event["detail"]["object"].update(
        key=key,
        size=head["ContentLength"],
        etag=head["ETag"].strip('"'),
        **{"version-id": head["VersionId"]},
    )
    return event


@pytest.fixture(scope="module")
def validated(stack: EmulatedStack) -> dict[str, Any]:
    event = object_created(stack, DIRTY, "incoming/bookings_2024-05-17.csv")
    return dict(stack.invoke("ValidateFunction", {"event": event, "execution": "exec-1"}))


def test_every_function_has_its_sample_event_and_an_empty_requirements_file(
    stack: EmulatedStack,
) -> None:
    assert len(stack.functions) == 11
    for spec in stack.functions.values():
        assert (EVENTS / f"{spec.code_dir.name}.json").is_file(), spec.logical_id
        assert (spec.code_dir / "app.py").is_file()
        assert (spec.code_dir / "requirements.txt").read_text().strip() == ""


def test_validate_stages_chunks_and_quarantines_rejected_rows(
    stack: EmulatedStack, validated: dict[str, Any]
) -> None:
    assert validated["duplicate"] is False
    assert validated["rows"] == validated["valid"] + validated["rejected"]
    # The object's bytes, hashed as they streamed through the validator.
    assert validated["checksum_sha256"] == hashlib.sha256(DIRTY.read_bytes()).hexdigest()
    assert validated["rejected"] > 0
    assert validated["booking_date"] == "2024-05-17"  # from the key
    keys = chunk_keys(stack, validated)
    assert validated["chunk_count"] == len(keys) == -(-validated["valid"] // 400)
    staged = stack.read_json_lines(keys[0])
    assert len(staged) == 400
    assert set(staged[0]) == {"row_number", "values", "is_duplicate"}
    rejected = stack.read_json_lines(validated["rejected_key"])
    assert len(rejected) == validated["rejected"]
    for row in rejected:
        RejectedRow.model_validate(row)
    manifest = json.loads(
        stack.client("s3")
        .get_object(Bucket=stack.lake_bucket, Key=validated["manifest_key"])["Body"]
        .read()
    )
    assert manifest["chunk_keys"] == keys
    # The payload stays far below the 256 KB state limit whatever the file's size (claim check:
    # keys, never rows nor the list of chunks).
    assert len(json.dumps(validated)) < 4_000


def test_validate_claims_the_object_once(stack: EmulatedStack, validated: dict[str, Any]) -> None:
    event = sample_event("validate")
    event["detail"]["bucket"]["name"] = validated["bucket"]
    event["detail"]["object"].update(
        key=validated["key"], etag=validated["etag"], **{"version-id": validated["version_id"]}
    )
    again = stack.invoke("ValidateFunction", {"event": event, "execution": "exec-2"})
    assert again["duplicate"] is True
    assert again["claimed_by"] == "exec-1"
    # A retried task of the claiming execution runs again.
    retried = stack.invoke("ValidateFunction", {"event": event, "execution": "exec-1"})
    assert retried["duplicate"] is False


def test_validate_names_an_unreadable_file_and_an_invalid_event(
    stack: EmulatedStack, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(LambdaInvocationError) as raised:
        stack.invoke("ValidateFunction", object_created(stack, empty, "incoming/empty.csv"))
    assert raised.value.error_type == "UnreadableFile"
    assert "incoming/empty.csv" in raised.value.error_message
    with pytest.raises(LambdaInvocationError) as raised:
        stack.invoke("ValidateFunction", {"detail-type": "Object Created"})
    assert raised.value.error_type == "InvalidEvent"


# For each function, a field its sample event cannot do without.
REQUIRED_FIELD = {
    "validate": "detail",
    "enrich": "chunk_key",
    "score": "enriched_key",
    "deliver": "scored_key",
    "start_crawler": "polls",
    "check_crawler": "start_status",
    "refresh_spice": "execution",
    "finalize_file": "file",
    "quarantine_file": "detail",
    "ingest_api": "requestContext",
    "transform_stream": "records",
}


def test_every_handler_refuses_a_malformed_event_in_one_line(stack: EmulatedStack) -> None:
    assert {spec.code_dir.name for spec in stack.functions.values()} == set(REQUIRED_FIELD)
    for logical_id, spec in stack.functions.items():
        name = spec.code_dir.name
        event = sample_event(name)
        del event[REQUIRED_FIELD[name]]
        for malformed in (event, {"unexpected": True}, ["not", "an", "object"]):
            with pytest.raises(LambdaInvocationError) as raised:
                stack.invoke(logical_id, malformed)
            assert raised.value.error_type == "InvalidEvent", (logical_id, raised.value)
            message = raised.value.error_message
            assert "\n" not in message
            assert message.startswith("not a "), message
        with pytest.raises(LambdaInvocationError) as raised:
            stack.invoke(logical_id, event)
        assert REQUIRED_FIELD[name] in raised.value.error_message, raised.value.error_message


def chunk_keys(stack: EmulatedStack, validated: dict[str, Any]) -> list[str]:
    """The chunk list Validate wrote (what the ProcessChunks Map reads)."""
    body = stack.client("s3").get_object(Bucket=stack.lake_bucket, Key=validated["chunks_key"])
    keys: list[str] = json.loads(body["Body"].read())
    return keys


def chunk_event(name: str, stack: EmulatedStack, validated: dict[str, Any]) -> dict[str, Any]:
    event = sample_event(name)
    event.update(
        chunk_key=chunk_keys(stack, validated)[0],
        source_file=validated["source_file"],
        ingested_at=validated["ingested_at"],
        booking_date=validated["booking_date"],
    )
    return event


def test_enrich_score_and_deliver_a_chunk(stack: EmulatedStack, validated: dict[str, Any]) -> None:
    enriched = stack.invoke("EnrichFunction", chunk_event("enrich", stack, validated))
    assert enriched["records"] == 400
    assert enriched["enriched_key"].endswith("/enriched/chunk-00001.jsonl")

    score_event = {**chunk_event("score", stack, validated), **enriched}
    scored = stack.invoke("ScoreFunction", score_event)
    assert (scored["scored"], scored["unscored"]) == (0, 400)  # no endpoint configured
    records = stack.read_json_lines(scored["scored_key"])
    for record in records:
        ScoredBooking.model_validate(record)
    assert records[0]["booking_id"] != records[1]["booking_id"]
    assert records[0]["booking_date"] == "2024-05-17"

    deliver_event = {**sample_event("deliver"), **score_event, **scored}
    delivered = stack.invoke("DeliverFunction", deliver_event)
    assert delivered["delivered"] == 400
    curated = [
        r
        for r in stack.read_json_lines("curated/bookings/")
        if r["source_file"] == validated["source_file"]
    ]
    assert sorted(r["row_number"] for r in curated) == sorted(r["row_number"] for r in records)


def test_finalize_reconciles_from_the_receipts_and_publishes_the_event(
    stack: EmulatedStack,
) -> None:
    event = object_created(stack, CLEAN, "incoming/finalize.csv")
    file = stack.invoke("ValidateFunction", {"event": event, "execution": "exec-final"})
    finalize = sample_event("finalize_file")
    finalize["file"] = file
    with pytest.raises(LambdaInvocationError) as raised:
        stack.invoke("FinalizeFileFunction", finalize)
    assert raised.value.error_type == "ReconciliationError"
    assert "no delivery receipt" in raised.value.error_message

    for chunk_key in chunk_keys(stack, file):
        item = {**chunk_event("enrich", stack, file), "chunk_key": chunk_key}
        item = {**item, **stack.invoke("EnrichFunction", item)}
        item = {**item, **stack.invoke("ScoreFunction", item)}
        stack.invoke("DeliverFunction", item)

    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="file-processed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = stack.client("events")
    events.put_rule(
        Name="file-processed", EventPattern=json.dumps({"source": ["airline.bookings"]})
    )
    events.put_targets(Rule="file-processed", Targets=[{"Id": "inbox", "Arn": arn}])

    summary = stack.invoke("FinalizeFileFunction", finalize)
    assert summary["delivered"] == summary["valid"] == file["valid"]
    assert summary["rows"] == summary["valid"] + summary["rejected"]
    table = stack.resource_name("IdempotencyTable")
    item = stack.client("dynamodb").get_item(
        TableName=table, Key={"object_id": {"S": file["object_id"]}}
    )["Item"]
    assert item["status"]["S"] == "COMPLETED"
    messages = sqs.receive_message(QueueUrl=url).get("Messages", [])
    assert len(messages) == 1
    published = json.loads(messages[0]["Body"])
    assert published["detail-type"] == "File Processed"
    assert published["detail"]["delivered"] == summary["delivered"]


def test_start_and_check_crawler(stack: EmulatedStack) -> None:
    started = stack.invoke("StartCrawlerFunction", sample_event("start_crawler"))
    assert started["start_status"] == "STARTED"
    again = stack.invoke("StartCrawlerFunction", sample_event("start_crawler"))
    assert again["start_status"] == "ALREADY_RUNNING"
    # The emulated stack ends the crawl when the crawler is polled.
    checked = stack.invoke("CheckCrawlerFunction", sample_event("check_crawler"))
    assert checked["state"] == "READY"
    assert checked["last_crawl_status"] == "COMPLETED"
    assert checked["polls"] == 1


def test_refresh_spice_is_a_no_op_without_quicksight_and_refreshes_with_it(
    stack: EmulatedStack,
) -> None:
    assert stack.invoke("RefreshSpiceFunction", sample_event("refresh_spice")) == {
        "status": "disabled",
        "started": [],
        "skipped": [],
    }
    # QuickSight switched on as a deployment does: the function gets the stack's data sets, its
    # role the right to refresh them.
    principal = f"arn:aws:quicksight:{stack.region}:{stack.account}:user/default/analyst"
    stack.update_stack({"QuickSightPrincipalArn": principal})
    try:
        refreshed = stack.invoke("RefreshSpiceFunction", sample_event("refresh_spice"))
    finally:
        stack.update_stack({"QuickSightPrincipalArn": ""})
    started = [s["dataset_id"] for s in refreshed["started"]]
    # The bookings table's dataset first, then one per view a dashboard reads in SPICE (the near
    # real-time panels query Athena directly: nothing to refresh).
    assert started == [
        dataset.replace("${AWS::StackName}", stack.stack_name)
        for dataset in sync_template.quicksight_dataset_ids()
    ]
    spice_views = set(sync_template.QUICKSIGHT_VIEWS) - set(sync_template.DIRECT_QUERY_VIEWS)
    assert len(started) == 1 + len(spice_views) == 10
    assert len({s["ingestion_id"] for s in refreshed["started"]}) == len(started)


def test_quarantine_copies_reports_alerts_and_releases_the_claim(
    stack: EmulatedStack, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\x00\x01 not a csv")
    created = object_created(stack, broken, "incoming/quarantine_me.csv")
    event = sample_event("quarantine_file")
    event["detail"] = created["detail"]
    result = stack.invoke("QuarantineFileFunction", event)
    assert result["error"] == "UnreadableFile"
    assert result["reason"].startswith("UnreadableFile: ")
    assert "missing required column(s): route" in result["reason"]
    s3 = stack.client("s3")
    copy_ = s3.get_object(Bucket=stack.lake_bucket, Key=result["quarantine_key"])
    assert copy_["Body"].read() == broken.read_bytes()
    report = json.loads(
        s3.get_object(Bucket=stack.lake_bucket, Key=result["report_key"])["Body"].read()
    )
    assert report["execution"] == event["execution"]
    assert result["alert_message_id"]
    table = stack.resource_name("IdempotencyTable")
    object_id = (
        f"{stack.raw_bucket}/incoming/quarantine_me.csv#{created['detail']['object']['etag']}"
    )
    item = stack.client("dynamodb").get_item(TableName=table, Key={"object_id": {"S": object_id}})[
        "Item"
    ]
    assert item["status"]["S"] == "FAILED"


def api_event(body: Any, **headers: str) -> dict[str, Any]:
    event = sample_event("ingest_api")
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["headers"].update(headers)
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    return event


def api_answer(stack: EmulatedStack, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = stack.invoke("IngestApiFunction", event)
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def lake_bookings(stack: EmulatedStack, source_file: str) -> list[dict[str, Any]]:
    return [
        r for r in stack.read_json_lines("curated/bookings/") if r["source_file"] == source_file
    ]


def test_ingest_api_accepts_valid_bookings(stack: EmulatedStack) -> None:
    status, body = api_answer(stack, sample_event("ingest_api"))
    assert status == 200
    assert body["source_file"] == "api#JKJaXmPLvHcESHA="
    assert [a["index"] for a in body["accepted"]] == [0, 1]
    assert body["rejected"] == []
    # The live records went through the stream's TransformStream on the way: enriched.
    delivered = lake_bookings(stack, body["source_file"])
    assert sorted(r["booking_id"] for r in delivered) == sorted(
        a["booking_id"] for a in body["accepted"]
    )
    sent = json.loads(sample_event("ingest_api")["body"])
    for record in delivered:
        booking = ScoredBooking.model_validate(record)
        original = sent[booking.row_number - 1]
        assert {name: record[name] for name in original} == original
        assert booking.origin_airport == original["route"][:3]
        assert booking.booking_date == booking.ingested_at.date()
        assert booking.booking_complete_probability is None


def test_ingest_api_answers_each_booking_and_keeps_the_rejected_ones(
    stack: EmulatedStack,
) -> None:
    good = json.loads(sample_event("ingest_api")["body"])[0]
    bad = {**good, "num_passengers": 42}
    status, body = api_answer(stack, api_event([good, bad, "text", {"seat": 1}, good]))
    assert status == 200
    assert [a["index"] for a in body["accepted"]] == [0, 4]
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert body["rejected"][0]["errors"] == [{"field": "num_passengers", "rule": "out_of_range"}]
    assert body["rejected"][0]["message"] == "num_passengers '42' is out of range 1-9"
    assert body["rejected"][1]["errors"] == [{"field": "booking", "rule": "not_an_object"}]
    assert body["rejected"][2]["errors"] == [{"field": "seat", "rule": "unknown_field"}]
    assert len(lake_bookings(stack, body["source_file"])) == 2
    kept = [
        RejectedRow.model_validate(row)
        for row in stack.read_json_lines("quarantine/rows/")
        if row["source_file"] == body["source_file"]
    ]
    assert [(row.row_number, row.reasons) for row in kept] == [
        (2, ["num_passengers:out_of_range"]),
        (3, ["booking:not_an_object"]),
        (4, ["seat:unknown_field"]),
    ]
    assert json.loads(kept[0].raw) == bad
    assert kept[1].raw == '"text"'


def test_ingest_api_delivers_a_retried_request_once(stack: EmulatedStack) -> None:
    good = json.loads(sample_event("ingest_api")["body"])
    key = "0b9c1f4e-0d7e-4d8a-9c55-7d1b6f0e2a31"
    first = stack.invoke("IngestApiFunction", api_event(good, **{"idempotency-key": key}))
    assert first["headers"]["Idempotency-Replayed"] == "false"
    retried = stack.invoke("IngestApiFunction", api_event(good, **{"idempotency-key": key}))
    assert retried["statusCode"] == 200
    assert retried["headers"]["Idempotency-Replayed"] == "true"
    assert json.loads(retried["body"]) == json.loads(first["body"])
    assert len(lake_bookings(stack, f"api#{key}")) == 2
    other_body = api_event(good[:1], **{"idempotency-key": key})
    status, body = api_answer(stack, other_body)
    assert status == 422
    assert body == {"error": "this Idempotency-Key was used with another body"}
    status, body = api_answer(stack, api_event(good, **{"idempotency-key": "not a key"}))
    assert status == 400
    table = stack.resource_name("ApiIdempotencyTable")
    items = stack.client("dynamodb").scan(TableName=table)["Items"]
    assert [item["status"]["S"] for item in items] == ["COMPLETED"]


def test_ingest_api_limits(stack: EmulatedStack) -> None:
    good = json.loads(sample_event("ingest_api")["body"])[0]
    assert api_answer(stack, api_event([good] * 501))[0] == 413
    assert api_answer(stack, api_event("{not json"))[0] == 400
    assert api_answer(stack, api_event([]))[0] == 400
    status, body = api_answer(stack, api_event(good))
    assert (status, len(body["accepted"])) == (200, 1)


def test_ingest_api_serves_its_openapi_document(stack: EmulatedStack) -> None:
    event = sample_event("ingest_api")
    event.update(rawPath="/v1/openapi.json", routeKey="GET /v1/openapi.json", body=None)
    event["requestContext"]["http"].update(method="GET", path="/v1/openapi.json")
    status, document = api_answer(stack, event)
    assert status == 200
    assert document == json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_transform_stream_answers_every_record_of_its_sample_event(stack: EmulatedStack) -> None:
    event = sample_event("transform_stream")
    answer = stack.invoke("TransformStreamFunction", event)
    results = {r["recordId"]: r for r in answer["records"]}
    assert list(results) == [r["recordId"] for r in event["records"]]
    live, scored, garbage = event["records"]
    assert results[live["recordId"]]["result"] == "Ok"
    enriched = ScoredBooking.model_validate_json(
        base64.b64decode(results[live["recordId"]]["data"])
    )
    sent = json.loads(base64.b64decode(live["data"]))
    assert enriched.source_file == sent["source_file"]
    assert enriched.route == sent["booking"]["route"]
    assert enriched.destination_airport == sent["booking"]["route"][3:]
    assert results[scored["recordId"]] == {
        "recordId": scored["recordId"],
        "result": "Ok",
        "data": scored["data"],
    }
    assert results[garbage["recordId"]] == {
        "recordId": garbage["recordId"],
        "result": "ProcessingFailed",
        "data": garbage["data"],
    }
