"""The emulated Firehose runs the stream's processor (TransformStream) as Firehose does: moto
stores what is put and runs nothing, so these check the emulation against the contract of
Firehose's data transformation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from booking_core.live import live_record, validate_bookings
from booking_core.schema import ScoredBooking
from support.paths import ROOT

from bookings.offline.emulator import EmulatedStack
from bookings.offline.emulator.firehose import (
    FUNCTION_ERROR_CODE,
    PROCESSING_FAILED_CODE,
    PROCESSING_FAILED_MESSAGE,
    ProcessingCounts,
    StreamProcessors,
)
from bookings.offline.emulator.lambda_dispatch import FunctionSpec

pytestmark = pytest.mark.slow

GOOD = {
    "num_passengers": 2,
    "sales_channel": "Internet",
    "trip_type": "RoundTrip",
    "purchase_lead": 262,
    "length_of_stay": 19,
    "flight_hour": 7,
    "flight_day": "Sat",
    "route": "AKLDEL",
    "booking_origin": "New Zealand",
    "wants_extra_baggage": 1,
    "wants_preferred_seat": 0,
    "wants_in_flight_meals": 0,
    "flight_duration": 5.52,
}


@pytest.fixture(scope="module")
def emulated() -> Iterator[EmulatedStack]:
    with EmulatedStack(ROOT / "template.yaml") as running:
        yield running


@pytest.fixture
def stack(emulated: EmulatedStack) -> EmulatedStack:
    """The module's stack with an empty lake bucket, nothing buffered and no counts."""
    emulated.flush_delivery_streams()
    s3 = emulated.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=emulated.lake_bucket):
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(
                Bucket=emulated.lake_bucket, Key=version["Key"], VersionId=version["VersionId"]
            )
    for name in emulated.streams.counts:
        emulated.streams.counts[name] = ProcessingCounts()
    emulated.lambdas.invocations.clear()
    return emulated


def live_lines(count: int, source_file: str) -> list[bytes]:
    from datetime import UTC, datetime

    checked = validate_bookings([GOOD] * count, source_file)
    now = datetime.now(UTC)
    return [orjson.dumps(live_record(row, source_file, now)) + b"\n" for row in checked.valid]


def put(stack: EmulatedStack, lines: list[bytes]) -> None:
    name = stack.resource_name("BookingsDeliveryStream")
    firehose = stack.client("firehose")
    for start in range(0, len(lines), 500):
        batch = [{"Data": line} for line in lines[start : start + 500]]
        assert (
            firehose.put_record_batch(DeliveryStreamName=name, Records=batch)["FailedPutCount"] == 0
        )


def counts(stack: EmulatedStack) -> Any:
    return stack.streams.counts[stack.resource_name("BookingsDeliveryStream")]


def test_the_template_processor_is_the_one_emulated(stack: EmulatedStack) -> None:
    (processing,) = stack.streams.streams.values()
    assert processing.function.logical_id == "TransformStreamFunction"
    assert processing.buffer_bytes == 1024 * 1024
    assert processing.retries == 3
    assert stack.streams.processor_ids == {"TransformStreamFunction"}


def test_records_wait_for_the_processor_then_reach_the_prefix_or_the_error_prefix(
    stack: EmulatedStack,
) -> None:
    lines = [*live_lines(3, "api#emulated"), b"not a booking\n"]
    put(stack, lines)
    assert stack.list_keys("curated/") == []
    assert stack.streams.pending() == 4
    assert stack.flush_delivery_streams() == 4
    delivered = stack.read_json_lines("curated/bookings/")
    assert sorted(r["row_number"] for r in delivered) == [1, 2, 3]
    for record in delivered:
        assert ScoredBooking.model_validate(record).destination_airport == "DEL"
    (failed,) = stack.read_json_lines("curated/errors/")
    assert set(failed) == {
        "attemptsMade",
        "arrivalTimestamp",
        "errorCode",
        "errorMessage",
        "attemptEndingTimestamp",
        "rawData",
        "lambdaArn",
    }
    assert (failed["errorCode"], failed["errorMessage"]) == (
        PROCESSING_FAILED_CODE,
        PROCESSING_FAILED_MESSAGE,
    )
    assert base64.b64decode(failed["rawData"]) == b"not a booking\n"
    assert failed["lambdaArn"] == stack.functions["TransformStreamFunction"].arn
    assert failed["attemptsMade"] == 1
    keys = stack.list_keys("curated/errors/")
    assert all(key.startswith("curated/errors/processing-failed/ingest_date=") for key in keys)
    assert (counts(stack).ok, counts(stack).failed, counts(stack).invocations) == (3, 1, 1)


def test_the_processor_gets_batches_of_its_buffer_size(stack: EmulatedStack) -> None:
    lines = live_lines(3000, "api#large")  # about 1.3 MB
    put(stack, lines)
    stack.flush_delivery_streams()
    assert counts(stack).invocations == 2
    assert counts(stack).ok == 3000
    invoked = [i for i in stack.invocations if i[0] == "TransformStreamFunction"]
    assert len(invoked) == 2


def test_an_invocation_processes_what_it_put_when_it_ends(stack: EmulatedStack) -> None:
    event = json.loads((ROOT / "events" / "ingest_api.json").read_text())
    event["requestContext"]["requestId"] = "processed-when-it-ends"
    response = stack.invoke("IngestApiFunction", event)
    assert response["statusCode"] == 200
    assert stack.streams.pending() == 0
    assert [i[0] for i in stack.invocations] == ["IngestApiFunction", "TransformStreamFunction"]
    assert len(stack.read_json_lines("curated/bookings/")) == 2


def _answer_with(payload: Any, *, error: bool = False) -> Any:
    def dispatch(spec: FunctionSpec, event: Any) -> dict[str, Any]:
        answer = payload(event) if callable(payload) else payload
        response: dict[str, Any] = {"StatusCode": 200, "Payload": answer}
        if error:
            response["FunctionError"] = "Unhandled"
        return response

    return dispatch


@pytest.mark.parametrize(
    ("payload", "violation"),
    [
        (
            lambda event: {"records": [{**r, "result": "Ok"} for r in event["records"][:-1]]},
            "leaves out 1 record",
        ),
        (
            lambda event: {"records": [{**r, "result": "Skipped"} for r in event["records"]]},
            "is not Ok, Dropped or ProcessingFailed",
        ),
        (
            lambda event: {"records": [{**r, "recordId": "other"} for r in event["records"]]},
            "not in the batch",
        ),
        (
            lambda event: {
                "records": [{**r, "result": "Ok", "data": "%%"} for r in event["records"]]
            },
            "data is not base64",
        ),
        ({"records": None}, "no records list"),
    ],
)
def test_an_answer_that_breaks_the_contract_fails_its_whole_batch(
    stack: EmulatedStack, payload: Any, violation: str
) -> None:
    processors = StreamProcessors(
        stack.streams.streams, _answer_with(payload), account=stack.account, region=stack.region
    )
    with processors.intercepting():
        put(stack, live_lines(4, "api#broken"))
        processors.flush()
    (counted,) = processors.counts.values()
    assert counted.failed == 4
    assert violation in counted.contract_violations[0]
    failed = stack.read_json_lines("curated/errors/")
    assert len(failed) == 4
    assert {f["errorCode"] for f in failed} == {FUNCTION_ERROR_CODE}
    assert stack.list_keys("curated/bookings/") == []


def test_a_failing_function_is_retried_then_its_batch_fails(stack: EmulatedStack) -> None:
    processors = StreamProcessors(
        stack.streams.streams,
        _answer_with({"errorType": "Boom"}, error=True),
        account=stack.account,
        region=stack.region,
    )
    with processors.intercepting():
        put(stack, live_lines(2, "api#failing"))
        processors.flush()
    (counted,) = processors.counts.values()
    assert (counted.invocations, counted.function_errors, counted.failed) == (4, 4, 2)
    failed = stack.read_json_lines("curated/errors/")
    assert [f["attemptsMade"] for f in failed] == [4, 4]
