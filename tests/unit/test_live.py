"""Live bookings (the HTTP API's core): the same checks as booking files, answered by position,
and the live records the API puts to the stream."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from booking_core.enrichment import booking_id
from booking_core.live import (
    LIVE_RECORD_KEYS,
    _cell,
    enrich_bookings,
    live_record,
    rejected_rows,
    validate_bookings,
)
from booking_core.pipeline import ValidRow, validate_stream
from booking_core.schema import REQUIRED_FIELDS, SOURCE_FIELDS, RejectedRow, ScoredBooking
from hypothesis import given, settings
from hypothesis import strategies as st

GOOD = {
    "num_passengers": 2,
    "sales_channel": "Internet",
    "trip_type": "RoundTrip",
    "purchase_lead": 21,
    "length_of_stay": 5,
    "flight_hour": 7,
    "flight_day": "Sat",
    "route": "KULSYD",
    "booking_origin": "Malaysia",
    "wants_extra_baggage": 1,
    "wants_preferred_seat": 0,
    "wants_in_flight_meals": 1,
    "flight_duration": 8.83,
}
RECEIVED = datetime(2026, 11, 24, 9, 30, 5, 250000, tzinfo=UTC)


def test_every_booking_is_accepted_or_rejected_by_its_position() -> None:
    bad = {**GOOD, "num_passengers": 12}
    checked = validate_bookings([GOOD, bad, "text", {**GOOD, "seat": 1}, GOOD], "api#r1")
    assert [row.row_number for row in checked.valid] == [1, 5]
    assert [r.index for r in checked.rejected] == [1, 2, 3]
    assert checked.rejected[0].reasons == ["num_passengers:out_of_range"]
    assert checked.rejected[0].message == "num_passengers '12' is out of range 1-9"
    assert checked.rejected[0].errors() == [{"field": "num_passengers", "rule": "out_of_range"}]
    assert checked.rejected[1].reasons == ["booking:not_an_object"]
    assert checked.rejected[1].message == "booking is a JSON string, not an object"
    assert checked.rejected[2].reasons == ["seat:unknown_field"]
    assert len(checked.valid) + len(checked.rejected) == 5


@pytest.mark.parametrize(
    ("booking", "reasons"),
    [
        ({}, [f"{name}:missing" for name in REQUIRED_FIELDS]),
        ({"booking_origin": "  ", "route": None}, [f"{name}:missing" for name in REQUIRED_FIELDS]),
        ({**GOOD, "booking_origin": "New\nZealand"}, ["booking_origin:control_character"]),
        ({**GOOD, "booking_origin": "New\rZealand"}, ["booking_origin:control_character"]),
        ({**GOOD, "booking_origin": "New\x00Zealand"}, ["booking_origin:control_character"]),
        ({**GOOD, "route": ["KUL", "SYD"]}, ["route:not_a_scalar"]),
        ({**GOOD, "route": "KUL"}, ["route:bad_format"]),
        ({**GOOD, "flight_hour": 7.5}, ["flight_hour:not_integer"]),
        ({**GOOD, "booking_complete": 3}, ["booking_complete:out_of_range"]),
    ],
)
def test_each_booking_is_answered_in_its_place(
    booking: dict[str, object], reasons: list[str]
) -> None:
    """A blank booking, a line break in a value: each is answered where it is, never with
    another booking's outcome."""
    checked = validate_bookings([GOOD, booking, {**GOOD, "route": "PENTPE"}], "api#r2")
    assert [(row.row_number, row.values["route"]) for row in checked.valid] == [
        (1, "KULSYD"),
        (3, "PENTPE"),
    ]
    assert [(r.index, r.reasons) for r in checked.rejected] == [(1, reasons)]


def test_bookings_with_and_without_an_outcome_mix_in_one_request() -> None:
    checked = validate_bookings(
        [GOOD, {**GOOD, "booking_complete": 1}, {**GOOD, "booking_complete": None}], "api#r3"
    )
    assert checked.rejected == []
    assert [row.values["booking_complete"] for row in checked.valid] == [None, 1, None]


def test_json_types_are_read_as_a_file_writes_them() -> None:
    lenient = {**GOOD, "num_passengers": "2", "wants_extra_baggage": True, "flight_day": "saturday"}
    (row,) = validate_bookings([lenient], "api#r4").valid
    assert (row.values["num_passengers"], row.values["wants_extra_baggage"]) == (2, 1)
    assert row.values["flight_day"] == "Sat"


def test_a_live_record_carries_the_validated_values_and_their_provenance() -> None:
    (row,) = validate_bookings([{**GOOD, "flight_day": "SAT"}], "api#r5").valid
    record = live_record(row, "api#r5", RECEIVED)
    assert tuple(record) == LIVE_RECORD_KEYS
    assert record["received_at"] == "2026-11-24T09:30:05.250000Z"
    assert record["booking"] == {**GOOD, "flight_day": "Sat"}
    assert (record["source_file"], record["row_number"]) == ("api#r5", 1)
    assert orjson.loads(orjson.dumps(record)) == record


def test_rejected_bookings_become_rejected_rows_with_the_booking_as_sent() -> None:
    bookings = [GOOD, {**GOOD, "num_passengers": 0}, 7]
    checked = validate_bookings(bookings, "api#r6")
    rows = [
        RejectedRow.model_validate(row)
        for row in rejected_rows(bookings, checked.rejected, "api#r6", RECEIVED)
    ]
    assert [(row.row_number, row.reason) for row in rows] == [
        (2, "num_passengers:out_of_range"),
        (3, "booking:not_an_object"),
    ]
    assert orjson.loads(rows[0].raw) == bookings[1]
    assert rows[1].raw == "7"
    assert all(row.rejected_at == RECEIVED and row.source_file == "api#r6" for row in rows)


def test_live_bookings_without_an_outcome_are_enriched_unscored() -> None:
    checked = validate_bookings([GOOD], "api#r7")
    (record,) = enrich_bookings(checked.valid, "api#r7", RECEIVED)
    booking = ScoredBooking.model_validate(record)
    assert booking.booking_id == booking_id("api#r7", 1)
    assert booking.booking_complete is None
    assert booking.booking_complete_probability is None
    assert booking.booking_date == RECEIVED.date()
    assert booking.origin_airport == "KUL"
    assert booking.destination_country == "AU"


CELL_VARIANTS = st.one_of(
    st.sampled_from(
        [
            "",
            "  ",
            "x",
            "2.0",
            "1,000",
            "yes",
            "No",
            " internet ",
            "MOBILE",
            "Round Trip",
            "one-way",
            "Monday",
            "sat",
            "akldel",
            "KUL",
            "1e3",
            "-1",
            "12",
            "0",
            "1",
            "5.52",
            "(not set)",
            "Réunion",
            "nan",
            '"quoted"',
            "a,b",
        ]
    ),
    st.integers(min_value=-5, max_value=2000),
    st.floats(min_value=-1, max_value=30, allow_nan=False),
    st.booleans(),
    st.none(),
)


@given(st.fixed_dictionaries(dict.fromkeys(SOURCE_FIELDS, CELL_VARIANTS)))
@settings(max_examples=300, deadline=None)
def test_a_booking_is_judged_as_the_same_row_of_a_file(booking: dict[str, Any]) -> None:
    """The API's checks give what the file reader and validator give for the same cells."""
    columns = (
        list(SOURCE_FIELDS) if booking["booking_complete"] is not None else list(REQUIRED_FIELDS)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow([_cell(booking[name]) for name in columns])
    if not any(_cell(booking[name]).strip() for name in columns):
        return  # the reader skips a blank record; the API rejects it field by field
    (from_file,) = list(validate_stream(io.BytesIO(out.getvalue().encode()), source_file="f"))
    checked = validate_bookings([{name: booking[name] for name in columns}], "api#h")
    if isinstance(from_file, ValidRow):
        assert checked.rejected == []
        assert checked.valid[0].values == from_file.values
    else:
        assert checked.valid == []
        assert checked.rejected[0].reasons == from_file.reasons
