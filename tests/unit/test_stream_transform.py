"""TransformStream's core (booking_core.stream_transform): Firehose's record contract, the
two kinds of records the stream carries, and what it cannot use."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from booking_core.enrichment import booking_id
from booking_core.jsonl import dumps_line
from booking_core.live import live_record, validate_bookings
from booking_core.pipeline import process_stream
from booking_core.schema import SOURCE_FIELDS, ScoredBooking
from booking_core.stream_transform import (
    MAX_RESPONSE_BYTES,
    StreamRecord,
    TransformOutcome,
    transform_records,
)
from support.firehose_records import delivery_table, record_problems
from support.paths import TEMPLATE

from bookings.generator import generate_rows, write_csv
from bookings.offline.template import load_template

BOOKINGS = delivery_table(TEMPLATE, "BookingsDeliveryStream")
RECEIVED = datetime(2026, 12, 3, 10, 39, 51, 646375, tzinfo=UTC)


def bookings(count: int, seed: int = 5) -> list[dict[str, Any]]:
    return [
        {name: row[name] for name in SOURCE_FIELDS if name != "booking_complete"}
        for row in generate_rows(count, seed=seed)
    ]


def live_records(count: int, source_file: str = "api#JKJaXmPLvHcESHA=") -> list[StreamRecord]:
    checked = validate_bookings(bookings(count), source_file)
    assert len(checked.valid) == count
    return [
        StreamRecord(f"id-{row.row_number}", dumps_line(live_record(row, source_file, RECEIVED)))
        for row in checked.valid
    ]


def scored_records(tmp_path: Any, count: int) -> list[StreamRecord]:
    """Records as the file workflow's Deliver step puts them: enriched, then scored."""
    path = tmp_path / "bookings.csv"
    write_csv(path, generate_rows(count, seed=11), seed=11)
    lines = []
    with path.open("rb") as stream:
        for kind, record in process_stream(
            stream, source_file="s3://raw/x.csv#e", ingested_at=RECEIVED
        ):
            if kind == "valid":
                record["booking_complete_probability"] = 0.25
                record["model_version"] = "bookings-lgbm-20261130"
                lines.append(orjson.dumps(record) + b"\n")
    return [StreamRecord(f"scored-{n}", line) for n, line in enumerate(lines)]


def decoded(outcome: TransformOutcome) -> list[tuple[str, str, bytes]]:
    return [(r["recordId"], r["result"], base64.b64decode(r["data"])) for r in outcome.records]


def test_scored_records_pass_through_byte_for_byte(tmp_path: Any) -> None:
    records = scored_records(tmp_path, 300)
    # Any key order, any spacing: the data is not rewritten.
    reordered = dict(reversed(list(orjson.loads(records[0].data).items())))
    records[0] = StreamRecord("scored-0", json.dumps(reordered, indent=1).encode())
    outcome = transform_records(records)
    assert decoded(outcome) == [(r.record_id, "Ok", r.data) for r in records]
    assert (outcome.passed_through, outcome.enriched, outcome.failed) == (len(records), 0, 0)


def test_live_records_are_enriched_into_what_the_lake_reads() -> None:
    records = live_records(200)
    outcome = transform_records(records)
    assert (outcome.enriched, outcome.passed_through, outcome.failed) == (200, 0, 0)
    for record, (record_id, result, data) in zip(records, decoded(outcome), strict=True):
        assert (record_id, result) == (record.record_id, "Ok")
        sent = orjson.loads(record.data)
        enriched = orjson.loads(data)
        # Firehose's Parquet conversion reads every column of the bookings table from it.
        assert record_problems(enriched, BOOKINGS, every_column=True) == []
        booking = ScoredBooking.model_validate(enriched)
        assert booking.booking_id == booking_id(sent["source_file"], sent["row_number"])
        assert booking.ingested_at == RECEIVED
        assert booking.booking_date == RECEIVED.date()
        assert {name: enriched[name] for name in sent["booking"]} == sent["booking"]
        assert booking.booking_complete_probability is None
        assert booking.is_duplicate is False


def _live(**changes: Any) -> bytes:
    (row,) = validate_bookings(bookings(1), "api#x").valid
    record = live_record(row, "api#x", RECEIVED)
    for name, value in changes.items():
        if name == "booking":
            record["booking"].update(value)
        else:
            record[name] = value
    return orjson.dumps(record)


@pytest.mark.parametrize(
    ("data", "reasons"),
    [
        (b"route=AKLDEL;pax=2\n", ["record:not_json"]),
        (b"[1, 2]", ["record:not_an_object"]),
        (b'{"booking_id": "x"}', ["record:unknown_shape"]),
        (_live(booking={"num_passengers": 42}), ["num_passengers:out_of_range"]),
        (_live(booking={"seat": "12A"}), ["seat:unknown_field"]),
        (_live(booking={"route": "AK\nLDEL"}), ["route:control_character"]),
        (_live(schema_version="0.9"), ["schema_version:unsupported"]),
        (_live(received_at="2026-12-03T10:39:51+00:00"), ["received_at:bad_format"]),
        (_live(row_number=0), ["row_number:out_of_range"]),
        (_live(row_number=True), ["row_number:out_of_range"]),
        (_live(source_file=""), ["source_file:bad_format"]),
    ],
)
def test_what_it_cannot_use_fails_with_its_reasons_and_its_data(
    data: bytes, reasons: list[str]
) -> None:
    good = live_records(2)
    batch = [good[0], StreamRecord("bad", data), good[1]]
    outcome = transform_records(batch)
    assert [r["result"] for r in outcome.records] == ["Ok", "ProcessingFailed", "Ok"]
    assert decoded(outcome)[1] == ("bad", "ProcessingFailed", data)
    assert [(f.record_id, f.reasons) for f in outcome.failures] == [("bad", reasons)]
    assert (outcome.enriched, outcome.failed) == (2, 1)


def test_nothing_is_ever_dropped(tmp_path: Any) -> None:
    batch = [*live_records(5), *scored_records(tmp_path, 5), StreamRecord("x", b"\xff\xfe")]
    outcome = transform_records(batch)
    assert [r["recordId"] for r in outcome.records] == [r.record_id for r in batch]
    assert {r["result"] for r in outcome.records} == {"Ok", "ProcessingFailed"}
    assert outcome.enriched + outcome.passed_through + outcome.failed == len(batch)


def test_the_response_stays_within_the_limit_by_failing_what_would_not_fit() -> None:
    records = live_records(50)
    limit = 40_000
    outcome = transform_records(records, max_response_bytes=limit)
    assert len(json.dumps(outcome.response())) <= limit
    results = [r["result"] for r in outcome.records]
    fitted = results.index("ProcessingFailed")
    assert 0 < fitted < len(records)
    assert set(results[fitted:]) == {"ProcessingFailed"}
    assert {tuple(f.reasons) for f in outcome.failures} == {("response:size_limit",)}
    assert decoded(outcome)[fitted][2] == records[fitted].data


def test_the_stream_processor_buffer_keeps_an_enriched_batch_under_the_response_limit() -> None:
    """The template's BufferSizeInMBs of live records, as the API writes them, enriched: the
    answer stays under Lambda's 6 MB response limit, so no record fails for its size."""
    stream = load_template(TEMPLATE)["Resources"]["BookingsDeliveryStream"]["Properties"]
    (processor,) = stream["ExtendedS3DestinationConfiguration"]["ProcessingConfiguration"][
        "Processors"
    ]
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    buffer_bytes = int(float(parameters["BufferSizeInMBs"]) * 1024 * 1024)
    # The smallest live records the API writes have the shortest source identity it gives.
    template_records = live_records(3000, source_file="api#" + "A" * 16)
    batch: list[StreamRecord] = []
    size = 0
    while size < buffer_bytes:
        record = template_records[len(batch) % len(template_records)]
        batch.append(StreamRecord(f"{len(batch):056d}", record.data))
        size += len(record.data)
    outcome = transform_records(batch)
    assert outcome.failed == 0
    assert len(json.dumps(outcome.response())) < MAX_RESPONSE_BYTES


def test_live_rows_and_file_rows_enrich_alike() -> None:
    """The same booking through a file and through the API has the same enriched members,
    provenance aside."""
    (row,) = validate_bookings(bookings(1, seed=9), "api#y").valid
    data = dumps_line(live_record(row, "api#y", RECEIVED))
    (answer,) = transform_records([StreamRecord("a", data)]).records
    live = orjson.loads(base64.b64decode(answer["data"]))
    header = ",".join(name for name in SOURCE_FIELDS if name != "booking_complete")
    line = ",".join(str(row.values[name]) for name in SOURCE_FIELDS if name != "booking_complete")
    run = process_stream(
        io.BytesIO(f"{header}\n{line}\n".encode()),
        source_file="api#y",
        ingested_at=RECEIVED,
        booking_date=RECEIVED.date(),
    )
    ((kind, from_file),) = list(run)
    assert kind == "valid"
    from_file["booking_complete_probability"] = None
    from_file["model_version"] = None
    assert live == orjson.loads(dumps_line(from_file))
