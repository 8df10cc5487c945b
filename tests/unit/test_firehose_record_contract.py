"""Firehose record contract: every record the Lambdas and the CLI emit is one that Firehose's
Parquet conversion reads into the bookings table (``support.firehose_records`` states the
rules, from AWS's documentation, for the deserializer and the Glue columns in template.yaml).

A record Firehose cannot read goes to the stream's error prefix: the lake stays empty while
every step reports success. moto does not convert, so this is where that is caught.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.jsonl import dumps_line, firehose_timestamp
from booking_core.live import enrich_bookings
from booking_core.pipeline import ValidRow, process_stream, rejected_row_dict, validate_stream
from booking_core.schema import EnrichedBooking, RejectedRow
from support.badfiles import GOOD_ROWS, HEADER
from support.firehose_records import (
    DeliveryTable,
    delivery_table,
    json_table,
    record_problems,
    value_problem,
)
from support.paths import TEMPLATE

from bookings.fastpath.writer import write_jsonl
from bookings.generator import generate_rows, write_csv

BOOKINGS = delivery_table(TEMPLATE, "BookingsDeliveryStream")
REJECTED = json_table(TEMPLATE, "RejectedBookingsTable")
SCORE_COLUMNS = ("booking_complete_probability", "model_version")
INGESTED_AT = datetime(2026, 12, 3, 10, 39, 51, 646375, tzinfo=UTC)


def test_the_stream_converts_with_the_openx_serde_into_the_bookings_table() -> None:
    types = {column.name: column.type for column in BOOKINGS.columns}
    assert BOOKINGS.deserializer == "OpenXJsonSerDe"
    assert types["ingested_at"] == "timestamp"
    assert {types[name] for name in ("booking_date", "departure_date", "return_date")} == {"date"}
    assert {types[name] for name in ("is_domestic", "is_weekend", "is_duplicate")} == {"boolean"}
    assert BOOKINGS.partition_keys == ("ingest_date",)


@pytest.mark.parametrize(
    "value",
    [
        "2017-02-07T15:13:01.39256Z",  # the documentation's examples
        "2017-02-07 15:13:01.14",
        1518033528,
        1518033528123,
        1518033528.123,
        "2026-12-03T10:39:51Z",
        "2026-12-03T10:39:51.123456789Z",
        "2026-2-7 05:06:07",
        None,
    ],
)
def test_time_stamps_the_openx_serde_reads(value: Any) -> None:
    assert value_problem(value, "timestamp") is None


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-03T10:39:51.646375+00:00",  # what datetime.isoformat and orjson write
        "2026-12-03T10:39:51+00:00",
        "2026-12-03T10:39:51.646375",  # no zone
        "2026-12-03T10:39:51.1234567891Z",  # ten digits of fraction
        "2026-12-03",
        "2026-13-03T10:39:51Z",
        "yesterday",
        True,
    ],
)
def test_time_stamps_it_does_not(value: Any) -> None:
    assert value_problem(value, "timestamp") is not None


@pytest.mark.parametrize(
    ("column_type", "good", "bad"),
    [
        (
            "date",
            ["2026-12-03", None],
            ["2026-12-03T00:00:00Z", "2026-02-30", "3/12/2026", 20261203],
        ),
        ("boolean", [True, False], [1, 0, "true", "false"]),
        ("int", [0, -(2**31), 2**31 - 1], [2**31, 1.0, "5", True]),
        ("double", [5.52, 5, -0.0], ["5.52", True, [5.52]]),
        ("string", ["AKLDEL", ""], [5, True, ["x"]]),
        ("array<string>", [["a", "b"], []], ["a", [1], {"a": 1}]),
        ("decimal(5,2)", [123.45, 5, 0.05], [1234.5, 1.234, "1.2"]),
    ],
)
def test_other_column_types(column_type: str, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        assert value_problem(value, column_type) is None, value
    for value in bad:
        assert value_problem(value, column_type) is not None, value


def test_keys_the_serde_would_drop_and_columns_a_record_lacks() -> None:
    record = _scored(_enriched_records()[0])
    assert record_problems(record, BOOKINGS) == []
    assert record_problems({**record, "Booking_ID": "x"}, BOOKINGS) == []  # keys lower-cased
    problems = record_problems({**record, "routes": "AKLDEL"}, BOOKINGS)
    assert problems == ["routes: no such column (the deserializer drops it)"]
    missing = {key: value for key, value in record.items() if key != "model_version"}
    assert record_problems(missing, BOOKINGS) == ["model_version: missing"]


def test_the_old_ingested_at_would_send_every_record_to_the_error_prefix() -> None:
    record = _scored(_enriched_records()[0])
    record["ingested_at"] = INGESTED_AT.isoformat()
    problems = record_problems(record, BOOKINGS)
    assert len(problems) == 1
    assert problems[0].startswith("ingested_at (timestamp): '2026-12-03T10:39:51.646375+00:00'")


def test_firehose_timestamp_is_utc_with_a_z() -> None:
    assert firehose_timestamp(INGESTED_AT) == "2026-12-03T10:39:51.646375Z"
    paris = INGESTED_AT.astimezone(timezone(timedelta(hours=1)))
    assert firehose_timestamp(paris) == "2026-12-03T10:39:51.646375Z"
    assert firehose_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000000Z"
    )
    with pytest.raises(ValueError, match="needs a time zone"):
        firehose_timestamp(datetime(2026, 1, 2, 3, 4, 5))
    text = firehose_timestamp(INGESTED_AT)
    assert datetime.fromisoformat(text) == INGESTED_AT  # ISO 8601 readers take it back


def _quirky_file(tmp_path: Path, *, outcome: bool = True) -> bytes:
    """Dirty generated rows, plus a one-way trip and an airport the tables do not know."""
    path = tmp_path / "bookings.csv"
    write_csv(path, generate_rows(1500, seed=31), dirty=0.1, seed=31, outcome=outcome)
    data = path.read_bytes()
    extra = [list(GOOD_ROWS[0]), list(GOOD_ROWS[1])]
    extra[0][2] = "OneWay"
    extra[1][7] = "QQQZZZ"
    header = HEADER if outcome else HEADER[:13]
    rows = [row[: len(header)] for row in extra]
    assert data.startswith(",".join(header).encode())
    return data + b"\r\n" + b"\r\n".join(",".join(row).encode("latin-1") for row in rows)


def _enriched_records(booking_date: date | None = date(2026, 11, 24)) -> list[dict[str, Any]]:
    text = "\r\n".join(",".join(row) for row in [HEADER, *GOOD_ROWS])
    run = validate_stream(io.BytesIO(text.encode("latin-1")), source_file="s3://raw/b.csv#e")
    context = EnrichmentContext("s3://raw/b.csv#e", INGESTED_AT, booking_date)
    return [enrich_row(row, context) for row in run if isinstance(row, ValidRow)]


def _scored(record: dict[str, Any], probability: float | None = 0.42) -> dict[str, Any]:
    """A record as the Score step passes it on: read back, two members added, written again."""
    scored = orjson.loads(orjson.dumps(record))
    scored["booking_complete_probability"] = probability
    scored["model_version"] = None if probability is None else "bookings-lgbm-20261130"
    return dict(orjson.loads(orjson.dumps(scored)))


def _assert_readable(lines: list[bytes], table: DeliveryTable, *, every_column: bool) -> int:
    for line in lines:
        record = orjson.loads(line)
        problems = record_problems(record, table, every_column=every_column)
        assert problems == [], (problems, record)
    return len(lines)


@pytest.mark.parametrize("booking_date", [date(2026, 11, 24), None])
@pytest.mark.parametrize("outcome", [True, False])
def test_every_record_of_both_paths_is_readable(
    tmp_path: Path, booking_date: date | None, outcome: bool
) -> None:
    data = _quirky_file(tmp_path, outcome=outcome)
    options = {"source_file": "s3://raw/incoming/b.csv#etag", "booking_date": booking_date}
    row_path = process_stream(io.BytesIO(data), ingested_at=INGESTED_AT, **options)  # type: ignore[arg-type]
    # The Lambdas: Enrich writes each record with orjson (s3io.put_json_lines), Score adds its
    # two members to the record read back; the CLI writes dumps_line. The same bytes either way.
    enriched, rejected = [], []
    for kind, record in row_path:
        if kind == "valid":
            assert orjson.dumps(record) + b"\n" == dumps_line(record)
            enriched.append(dumps_line(record))
        else:
            rejected.append(dumps_line(record))
    assert row_path.summary.rejected > 50
    assert _assert_readable(enriched, BOOKINGS, every_column=False) == row_path.summary.valid
    scored = [
        dumps_line(_scored(orjson.loads(line), probability))
        for line, probability in zip(enriched, [0.0, 0.5, 1.0, None] * len(enriched), strict=False)
    ]
    _assert_readable(scored, BOOKINGS, every_column=True)
    _assert_readable(rejected, REJECTED, every_column=True)
    one_way = [orjson.loads(line) for line in enriched if b'"OneWay"' in line]
    assert one_way
    assert all(record["return_date"] is None for record in one_way)
    assert any(orjson.loads(line)["is_domestic"] is None for line in enriched)

    block_path = process_stream(io.BytesIO(data), ingested_at=INGESTED_AT, **options)  # type: ignore[arg-type]
    fast_enriched, fast_rejected = io.BytesIO(), io.BytesIO()
    write_jsonl(block_path, fast_enriched, fast_rejected)
    assert fast_enriched.getvalue() == b"".join(enriched)
    assert fast_rejected.getvalue() == b"".join(rejected)
    _assert_readable(fast_enriched.getvalue().splitlines(), BOOKINGS, every_column=False)


def test_live_bookings_from_the_api_are_readable() -> None:
    rows = [ValidRow(1, dict(record), False) for record in _source_values()]
    records = enrich_bookings(rows, "api:2026-12-03", INGESTED_AT)
    assert records
    _assert_readable([orjson.dumps(record) for record in records], BOOKINGS, every_column=True)


def _source_values() -> list[dict[str, Any]]:
    text = "\r\n".join(",".join(row) for row in [HEADER, *GOOD_ROWS])
    run = validate_stream(io.BytesIO(text.encode("latin-1")), source_file="api")
    return [row.values for row in run if isinstance(row, ValidRow)]


def test_records_still_satisfy_the_pydantic_contract() -> None:
    """The models that describe the records read the text time stamps back as the same time."""
    for record in _enriched_records():
        assert EnrichedBooking.model_validate(record).ingested_at == INGESTED_AT
    rejected = rejected_row_dict(
        _rejected_record(), source_file="s3://raw/b.csv#e", rejected_at=INGESTED_AT
    )
    assert rejected["rejected_at"] == "2026-12-03T10:39:51.646375Z"
    assert RejectedRow.model_validate(rejected).rejected_at == INGESTED_AT
    assert record_problems(orjson.loads(dumps_line(rejected)), REJECTED) == []


def _rejected_record() -> Any:
    from booking_core.pipeline import RejectedRecord

    return RejectedRecord(3, "x,y", ["row:field_count"], "b.csv: row 3: 2 fields")
