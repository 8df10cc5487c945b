"""Live bookings (the HTTP API's core): the same checks and enrichment as booking files."""

from __future__ import annotations

from datetime import UTC, datetime

from booking_core.live import enrich_bookings, validate_bookings
from booking_core.schema import ScoredBooking

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


def test_every_booking_is_accepted_or_rejected_by_its_position() -> None:
    bad = {**GOOD, "num_passengers": 12}
    checked = validate_bookings([GOOD, bad, "text", {**GOOD, "seat": 1}, GOOD], "api#r1")
    assert [row.row_number for row in checked.valid] == [1, 5]
    assert [r["index"] for r in checked.rejected] == [1, 2, 3]
    assert checked.rejected[0]["reasons"] == ["num_passengers:out_of_range"]
    assert checked.rejected[1]["reasons"] == ["booking:not_an_object"]
    assert checked.rejected[2]["reasons"] == ["seat:unknown_field"]
    assert len(checked.valid) + len(checked.rejected) == 5


def test_live_bookings_without_an_outcome_are_enriched_unscored() -> None:
    received = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    checked = validate_bookings([GOOD], "api#r2")
    (record,) = enrich_bookings(checked.valid, "api#r2", received)
    booking = ScoredBooking.model_validate(record)
    assert booking.booking_complete is None
    assert booking.booking_complete_probability is None
    assert booking.booking_date == received.date()
    assert booking.origin_airport == "KUL"
    assert booking.destination_country == "AU"


def test_an_outcome_sent_with_a_booking_is_validated_too() -> None:
    checked = validate_bookings([{**GOOD, "booking_complete": 3}], "api#r3")
    assert checked.rejected[0]["reasons"] == ["booking_complete:out_of_range"]
