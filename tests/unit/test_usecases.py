"""The decisions of the workflow steps that need no AWS (booking_core.usecases): the object's
identity, chunk keys, reconciliation, the error report, the promotion decision, the
HTTP answers that are given before any booking is delivered."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from booking_core.api_contract import MAX_BODY_BYTES, MAX_BOOKINGS_PER_REQUEST
from booking_core.aws.settings import Settings
from booking_core.enrichment import booking_id
from booking_core.errors import ReconciliationError
from booking_core.usecases.bookings_api import accept_bookings, handle_request
from booking_core.usecases.chunks import ChunkReceipt, receipt_key, stage_key
from booking_core.usecases.finalize import reconcile, summarize
from booking_core.usecases.model_release import decide, resource_name
from booking_core.usecases.quarantine import (
    CHUNKS_LISTED_IN_REPORT,
    FileProgress,
    describe_error,
)
from booking_core.usecases.source import SourceObject, booking_date_from_key
from booking_core.usecases.validate_file import chunks_key_of
from booking_core.workflow import (
    CaughtError,
    FinalizeRequest,
    ModelSummary,
    ObjectCreated,
    QuarantineRequest,
    ValidatedFile,
    parse_event,
)
from support.paths import EVENTS


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


# -- the object ----------------------------------------------------------------------------------


def test_the_object_comes_from_the_event_detail_with_its_identity() -> None:
    detail = parse_event(sample_event("validate"), ObjectCreated).detail
    source = SourceObject.from_detail(detail)
    assert (source.bucket, source.key, source.size) == (
        "bookings-raw-dev-123456789012",
        "incoming/bookings_2024-05-17.csv",
        3110912,
    )
    assert source.object_id == (
        "bookings-raw-dev-123456789012/incoming/bookings_2024-05-17.csv"
        "#b21b84d653bb07b05b1e6b33684dc11b"
    )
    assert source.source_file == f"s3://{source.bucket}/{source.key}#{source.etag}"
    assert source.file_id.startswith("bookings_2024-05-17.csv-")
    assert len(source.file_id.rsplit("-", 1)[1]) == 16
    # Without an ETag, the version id identifies the object.
    no_etag = SourceObject(source.bucket, source.key, "", "v1", None)
    assert no_etag.object_id.endswith("#v1")


def test_booking_dates_come_from_the_key_when_it_has_one() -> None:
    assert booking_date_from_key("incoming/2024-05-17/x.csv") == date(2024, 5, 17)
    assert booking_date_from_key("incoming/bookings_20240517.csv") == date(2024, 5, 17)
    assert booking_date_from_key("incoming/bookings_2024-13-45.csv") is None
    assert booking_date_from_key("incoming/bookings.csv") is None


def test_the_stage_keys_of_a_chunk_sit_beside_it() -> None:
    assert stage_key("staging/f/chunk-00001.jsonl", "enriched") == (
        "staging/f/enriched/chunk-00001.jsonl"
    )
    assert receipt_key("staging/f/chunk-00001.jsonl") == "staging/f/receipts/chunk-00001.json"
    assert chunks_key_of("staging/", "f") == "staging/f/chunks.json"


# -- reconciliation ------------------------------------------------------------------------------


@pytest.fixture
def request_() -> FinalizeRequest:
    return parse_event(sample_event("finalize_file"), FinalizeRequest)


def chunk_keys(file: ValidatedFile) -> list[str]:
    """The chunk list Validate writes for the file (``chunks.json`` beside the chunks)."""
    prefix = file.chunks_key.rpartition("/")[0]
    return [f"{prefix}/chunk-{n:05d}.jsonl" for n in range(1, file.chunk_count + 1)]


def receipts_for(file: ValidatedFile, delivered: list[int], scored: int = 0) -> dict[str, Any]:
    return {
        key: ChunkReceipt(chunk_key=key, records=n, scored=min(n, scored), delivered=n)
        for key, n in zip(chunk_keys(file), delivered, strict=True)
    }


def test_reconciled_counts_make_the_summary(request_: FinalizeRequest) -> None:
    file = request_.file
    per_chunk = [5000] * 9 + [file.valid - 5000 * 9]
    receipts = receipts_for(file, per_chunk, scored=4000)
    # A receipt of another file's run is not counted.
    receipts["staging/other/chunk-00001.jsonl"] = ChunkReceipt(
        chunk_key="staging/other/chunk-00001.jsonl", delivered=7
    )
    keys = chunk_keys(file)
    assert [r.chunk_key for r in reconcile(file, keys, receipts)] == keys
    summary = summarize(request_, keys, receipts)
    assert summary.delivered == summary.valid == 49982
    assert summary.scored == 4000 * 10
    assert summary.unscored == 49982 - 40000
    assert summary.chunks == 10
    assert (summary.rows, summary.rejected, summary.duplicates) == (50000, 18, 719)
    assert summary.reasons == {"num_passengers:out_of_range": 11, "route:invalid_format": 7}
    assert (summary.crawler_state, summary.crawler_gave_up, summary.spice) == (
        "READY",
        False,
        "disabled",
    )
    assert summary.execution == request_.execution
    gave_up = request_.model_copy(
        update={"crawler": request_.crawler.model_copy(update={"gave_up": True})}
    )
    assert summarize(gave_up, keys, receipts).crawler_gave_up is True


def test_a_missing_receipt_does_not_reconcile(request_: FinalizeRequest) -> None:
    file = request_.file
    keys = chunk_keys(file)
    receipts = receipts_for(file, [5000] * 10)
    del receipts[keys[3]], receipts[keys[7]]
    with pytest.raises(ReconciliationError) as raised:
        reconcile(file, keys, receipts)
    assert str(raised.value) == (
        f"{file.source_file}: 2 chunk(s) have no delivery receipt, first {keys[3]}"
    )


def test_a_chunk_list_that_lost_a_chunk_does_not_reconcile(request_: FinalizeRequest) -> None:
    file = request_.file
    keys = chunk_keys(file)
    receipts = receipts_for(file, [5000] * 9 + [file.valid - 5000 * 9])
    with pytest.raises(ReconciliationError) as raised:
        reconcile(file, keys[:-1], receipts)
    assert str(raised.value) == (
        f"{file.source_file}: Validate staged 10 chunk(s) but its chunk list "
        f"{file.chunks_key} names 9"
    )


def test_delivered_rows_must_equal_the_valid_rows(request_: FinalizeRequest) -> None:
    file = request_.file
    keys = chunk_keys(file)
    short = receipts_for(file, [5000] * 9 + [file.valid - 5000 * 9 - 1])
    with pytest.raises(ReconciliationError, match="delivered 49981: the counts do not reconcile"):
        reconcile(file, keys, short)
    inconsistent = file.model_copy(update={"rows": file.rows + 1})
    exact = receipts_for(file, [5000] * 9 + [file.valid - 5000 * 9])
    with pytest.raises(ReconciliationError, match="rows 50001, valid 49982, rejected 18"):
        reconcile(inconsistent, keys, exact)


# -- quarantine ----------------------------------------------------------------------------------


def test_the_error_report_is_one_line_from_the_lambda_error() -> None:
    caught = parse_event(sample_event("quarantine_file"), QuarantineRequest).error
    assert describe_error(caught) == (
        "UnreadableFile",
        "s3://bookings-raw-dev-123456789012/incoming/bookings_2024-05-17.csv"
        "#b21b84d653bb07b05b1e6b33684dc11b: missing required column(s): route",
    )
    assert describe_error(CaughtError(Error="States.Timeout", Cause="took\n  too long")) == (
        "States.Timeout",
        "took too long",
    )
    assert describe_error(CaughtError(Error="States.Runtime")) == (
        "States.Runtime",
        "States.Runtime",
    )


def test_the_reason_names_the_chunks_left_without_a_delivery_receipt() -> None:
    staged = [f"staging/f/chunk-{n:05d}.jsonl" for n in range(1, 7)]
    counts: dict[str, int | None] = {"rows": 30, "delivered": 10}
    one = FileProgress(counts, chunks=6, undelivered_chunks=(staged[1],))
    assert one.reason_suffix() == (
        "; 1 of 6 chunk(s) without a delivery receipt: chunk-00002.jsonl "
        "(each chunk's own error is in its child execution of the map run)"
    )
    assert one.report()["chunks_without_receipt"] == [staged[1]]
    many = FileProgress(counts, chunks=6, undelivered_chunks=tuple(staged[1:]))
    assert ": chunk-00002.jsonl, chunk-00003.jsonl, chunk-00004.jsonl and 2 more (" in (
        many.reason_suffix()
    )
    assert many.report()["chunks_without_receipt"] == staged[1:]
    # Every chunk delivered, or the file failed before its chunks were listed: nothing to add.
    assert FileProgress(counts, chunks=6).reason_suffix() == ""
    assert FileProgress({"rows": None}).reason_suffix() == ""
    # Thousands of failed chunks keep the report (also the alert's message) small.
    thousands = tuple(f"staging/f/chunk-{n:05d}.jsonl" for n in range(1, 3001))
    report = FileProgress(counts, chunks=3000, undelivered_chunks=thousands).report()
    assert report["chunks_without_receipt_count"] == 3000
    assert report["chunks_without_receipt"] == list(thousands[:CHUNKS_LISTED_IN_REPORT])


# -- the model -----------------------------------------------------------------------------------


def summary(auc: float) -> ModelSummary:
    return ModelSummary(modelVersion=f"v{auc}", rocAuc=auc, modelDataUrl=f"s3://b/{auc}.tar.gz")


def test_a_model_is_promoted_only_above_the_floor_and_at_least_as_good_as_the_live_one() -> None:
    assert decide(summary(0.70), None, 0.65) == (True, "no live model")
    assert decide(summary(0.60), None, 0.65) == (
        False,
        "ROC AUC 0.6000 is below the floor 0.6500",
    )
    assert decide(summary(0.70), summary(0.70), 0.65) == (True, "ROC AUC 0.7000 >= live 0.7000")
    assert decide(summary(0.69), summary(0.70), 0.65) == (False, "ROC AUC 0.6900 < live 0.7000")
    # The floor applies even when the live model is worse.
    assert decide(summary(0.60), summary(0.55), 0.65)[0] is False


def test_resource_names_are_valid_sagemaker_names() -> None:
    assert resource_name("booking-model", "20240601T020000Z-3f9c2a1b7d4e") == (
        "booking-model-20240601T020000Z-3f9c2a1b7d4e"
    )
    assert resource_name("booking-model", "1.2_rc/3") == "booking-model-1-2-rc-3"
    long = resource_name("booking-model", "x" * 100)
    assert len(long) == 63
    assert long == "x" * 63
    assert not resource_name("p", "-" * 70 + "v").startswith("-")


# -- the HTTP API, before any delivery ------------------------------------------------------------


def no_aws(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("this answer must be given without calling AWS")


def api_request(body: Any, **changes: Any) -> APIGatewayProxyEventV2Model:
    event = sample_event("ingest_api")
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event.update(changes)
    return parse_event(event, APIGatewayProxyEventV2Model)


def test_requests_refused_before_delivery() -> None:
    settings = Settings.from_env()
    good = json.loads(sample_event("ingest_api")["body"])[0]
    not_post = sample_event("ingest_api")
    not_post["requestContext"]["http"]["method"] = "GET"
    keyed = sample_event("ingest_api")
    keyed["headers"]["idempotency-key"] = "two words"
    requests = {
        "method": parse_event(not_post, APIGatewayProxyEventV2Model),
        "base64": api_request("%%%", isBase64Encoded=True),
        "size": api_request("x" * (MAX_BODY_BYTES + 1)),
        "json": api_request("{not json"),
        "empty": api_request([]),
        "many": api_request([good] * (MAX_BOOKINGS_PER_REQUEST + 1)),
        "key": parse_event(keyed, APIGatewayProxyEventV2Model),
    }
    answers = {name: handle_request(r, settings, no_aws) for name, r in requests.items()}
    assert {name: answer.status for name, answer in answers.items()} == {
        "method": 405,
        "base64": 400,
        "size": 413,
        "json": 400,
        "empty": 400,
        "many": 413,
        "key": 400,
    }
    assert answers["many"].body == {"error": "501 bookings: at most 500 per request"}
    assert all(answer.delivered == 0 for answer in answers.values())


def test_the_openapi_document_is_served_without_aws() -> None:
    event = sample_event("ingest_api")
    event.update(rawPath="/v1/openapi.json", body=None)
    event["requestContext"]["http"]["method"] = "GET"
    answer = handle_request(
        parse_event(event, APIGatewayProxyEventV2Model), Settings.from_env(), no_aws
    )
    assert answer.status == 200
    assert answer.body["paths"]["/v1/bookings"]["post"]["operationId"] == "postBookings"


def test_accepted_bookings_go_to_the_stream_as_live_records() -> None:
    sent = json.loads(sample_event("ingest_api")["body"])
    received_at = datetime(2024, 5, 17, 9, 31, 5, tzinfo=UTC)
    delivered: list[bytes] = []
    outcome = accept_bookings(
        sent, "api#abc", received_at, Settings.from_env(), no_aws, deliver=delivered.extend
    )
    records = [json.loads(line) for line in delivered]
    assert [r["booking"] for r in records] == sent
    assert {r["received_at"] for r in records} == {"2024-05-17T09:31:05.000000Z"}
    assert outcome == {
        "body": {
            "source_file": "api#abc",
            "received": 2,
            "accepted": [
                {"index": 0, "booking_id": booking_id("api#abc", 1)},
                {"index": 1, "booking_id": booking_id("api#abc", 2)},
            ],
            "rejected": [],
        },
        "delivered": 2,
        "rejected": 0,
    }


# -- what the audit trail records ----------------------------------------------------------------


def test_a_failed_crawl_or_a_crawler_that_gave_up_is_a_warning(request_: FinalizeRequest) -> None:
    from booking_core.usecases.finalize import crawl_outcome

    crawler = request_.crawler
    assert crawl_outcome(crawler) == ("SUCCEEDED", [])
    failed = crawler.model_copy(
        update={"last_crawl_status": "FAILED", "last_crawl_error": "Access  denied\nto s3"}
    )
    status, warnings = crawl_outcome(failed)
    assert status == "FAILED: Access denied to s3"
    assert len(warnings) == 1
    assert "last crawl FAILED (Access denied to s3)" in warnings[0]
    gave_up = crawler.model_copy(update={"gave_up": True, "state": "RUNNING", "polls": 40})
    status, warnings = crawl_outcome(gave_up)
    assert status == "GAVE_UP after 40 polls (crawler RUNNING)"
    assert "next crawl" in warnings[0]
    receipts = receipts_for(request_.file, [5000] * 9 + [request_.file.valid - 45000])
    summary = summarize(
        request_.model_copy(update={"crawler": failed}), chunk_keys(request_.file), receipts
    )
    assert summary.crawler_status == "FAILED: Access denied to s3"
    assert summary.warnings == crawl_outcome(failed)[1]


def test_sequencers_pad_on_the_right_and_timestamps_are_milliseconds_in_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from booking_core.audit import SEQUENCER_WIDTH, json_timestamp, padded_sequencer

    assert padded_sequencer("0a3") == "0A3".ljust(SEQUENCER_WIDTH, "0")
    assert padded_sequencer(None) == "0" * SEQUENCER_WIDTH
    assert padded_sequencer("0A2F") < padded_sequencer("0A3") < padded_sequencer("0A31")
    with pytest.raises(ValueError, match="longer than"):
        padded_sequencer("F" * (SEQUENCER_WIDTH + 1))
    paris = timezone(timedelta(hours=2))
    stamp = datetime(2025, 3, 1, 12, 39, 51, 646_123, tzinfo=paris)
    assert json_timestamp(stamp) == "2025-03-01T10:39:51.646Z"
    assert json_timestamp(stamp.astimezone(UTC).replace(tzinfo=None)) == (
        "2025-03-01T10:39:51.646Z"
    )


def test_score_has_the_time_left_minus_a_reserve_split_over_its_attempts() -> None:
    from booking_core.usecases.chunks import SCORE_ATTEMPTS, ScoreDeadline

    remaining = [300_000]
    deadline = ScoreDeadline(lambda: remaining[0])
    assert deadline.reserve_seconds == 10.0
    assert deadline.read_timeout() == 60  # capped
    remaining[0] = 31_000
    assert deadline.budget() == 21.0
    assert deadline.read_timeout() == 21 // SCORE_ATTEMPTS
    short = ScoreDeadline(lambda: 4_000)  # a four-second function: a quarter is kept back
    assert short.reserve_seconds == 1.0
    assert short.read_timeout() == 1
    remaining[0] = 10_500
    assert deadline.budget() < 1  # no time left for another request
