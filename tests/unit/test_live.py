"""Live bookings (the HTTP API's core): the same checks as booking files, answered by position,
and the live records the API puts to the stream."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from booking_core.enrichment import booking_id
from booking_core.live import (
    LIVE_RECORD_KEYS,
    enrich_bookings,
    live_record,
    rejected_rows,
    validate_bookings,
)
from booking_core.schema import REQUIRED_FIELDS, RejectedRow, ScoredBooking

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
def test_what_the_reader_must_not_see_is_rejected_in_place(
    booking: dict[str, object], reasons: list[str]
) -> None:
    """A blank booking would be skipped by the reader and a line break would split its record:
    either would give the next booking's outcome to this one. Each is answered where it is."""
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
