"""Enrichment: airports, countries, regions, bands, dates and the booking id."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from booking_core import geo
from booking_core.enrichment import (
    DEPARTURE_HOUR_BAND_LABELS,
    LEAD_TIME_BAND_LABELS,
    STAY_BAND_LABELS,
    EnrichmentContext,
    booking_id,
    departure_hour_band,
    enrich_row,
    lead_time_band,
    stay_band,
)
from booking_core.schema import EnrichedBooking

from bookings.generator import generate_rows

INGESTED_AT = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    row_number: int
    values: dict[str, Any]
    is_duplicate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def booking(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "num_passengers": 2,
        "sales_channel": "Internet",
        "trip_type": "RoundTrip",
        "purchase_lead": 30,
        "length_of_stay": 5,
        "flight_hour": 7,
        "flight_day": "Sat",
        "route": "KULSYD",
        "booking_origin": "Malaysia",
        "wants_extra_baggage": 1,
        "wants_preferred_seat": 0,
        "wants_in_flight_meals": 1,
        "flight_duration": 8.58,
        "booking_complete": 1,
    }
    values.update(changes)
    return values


def enrich(booking_date: date | None = None, row_number: int = 1, **changes: Any) -> dict[str, Any]:
    context = EnrichmentContext("s3://raw/incoming/a.csv#etag1", INGESTED_AT, booking_date)
    return enrich_row(Row(row_number, booking(**changes)), context)


def test_known_international_route() -> None:
    record = enrich(route="KULSYD")
    assert record["origin_airport"] == "KUL"
    assert record["origin_city"] == "Kuala Lumpur"
    assert record["origin_country"] == "MY"
    assert record["origin_region"] == "Asia"
    assert record["origin_timezone"] == "Asia/Kuala_Lumpur"
    assert record["destination_airport"] == "SYD"
    assert record["destination_country"] == "AU"
    assert record["destination_region"] == "Oceania"
    assert record["destination_timezone"] == "Australia/Sydney"
    assert 6_500 < record["route_distance_km"] < 6_700
    assert record["is_domestic"] is False


def test_domestic_route() -> None:
    record = enrich(route="PERSYD")
    assert record["is_domestic"] is True
    assert record["origin_country"] == record["destination_country"] == "AU"
    assert 3_200 < record["route_distance_km"] < 3_350


def test_distance_is_symmetric_and_rounded() -> None:
    there = enrich(route="AKLKUL")["route_distance_km"]
    back = enrich(route="KULAKL")["route_distance_km"]
    assert there == back
    assert round(there, 1) == there


def test_airports_closed_since_the_reference_data_are_still_known() -> None:
    # Phnom Penh (PNH) and Siem Reap (REP) closed after the public file was made.
    for route, city in (("PNHSYD", "Phnom Penh"), ("REPSYD", "Siem Reap")):
        record = enrich(route=route)
        assert record["origin_city"] == city
        assert record["origin_country"] == "KH"
        assert record["origin_region"] == "Asia"
        assert 6_500 < record["route_distance_km"] < 7_500
        assert record["is_domestic"] is False


def test_unknown_airport_code_is_not_an_error() -> None:
    assert "QZX" not in geo.airports()
    record = enrich(route="QZXSYD")
    assert record["origin_airport"] == "QZX"
    assert record["origin_city"] is None
    assert record["origin_country"] is None
    assert record["origin_timezone"] is None
    assert record["origin_region"] == "unknown"
    assert record["route_distance_km"] is None
    assert record["is_domestic"] is None
    assert record["destination_country"] == "AU"
    EnrichedBooking.model_validate(record)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Malaysia", "MY"),
        ("Australia", "AU"),
        ("Myanmar (Burma)", "MM"),
        ("Réunion", "RE"),
        ("RÃ©union", "RE"),
        ("R?union", "RE"),  # lost in a conversion to ASCII
        ("R??union", "RE"),  # one "?" per byte of the UTF-8 form
        ("R\ufffdunion", "RE"),  # the Unicode replacement character
        ("Cura?ao", "CW"),
        ("South Korea", "KR"),
        ("Taiwan", "TW"),
        ("Macau", "MO"),
        ("Hong Kong", "HK"),
        ("Laos", "LA"),
        ("Vietnam", "VN"),
        ("Russia", "RU"),
        ("Iran", "IR"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Svalbard & Jan Mayen", "SJ"),
        ("Timor-Leste", "TL"),
        ("Brunei", "BN"),
        ("Tanzania", "TZ"),
        ("Turkey", "TR"),
        ("Côte d’Ivoire", "CI"),
        ("Bosnia & Herzegovina", "BA"),
        ("St. Kitts & Nevis", "KN"),
        ("  japan ", "JP"),
    ],
)
def test_booking_origin_names_resolve_to_iso_codes(name: str, code: str) -> None:
    record = enrich(booking_origin=name)
    assert record["booking_origin_code"] == code
    assert record["booking_origin_region"] != "unknown"
    assert record["booking_origin"] == name


@pytest.mark.parametrize(
    "name", ["(not set)", "Tablet", "Korea", "Atlantis", "K?rea", "???", "Atl?ntis"]
)
def test_unset_ambiguous_and_unknown_origins_become_unknown(name: str) -> None:
    record = enrich(booking_origin=name)
    assert record["booking_origin_code"] == "unknown"
    assert record["booking_origin_region"] == "unknown"
    EnrichedBooking.model_validate(record)


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("Australia", "Oceania"),
        ("New Zealand", "Oceania"),
        ("Malaysia", "Asia"),
        ("India", "Asia"),
        ("United Kingdom", "Europe"),
        ("Russia", "Europe"),
        ("Iceland", "Europe"),
        ("United States", "Americas"),
        ("Brazil", "Americas"),
        ("Kenya", "Africa"),
        ("Réunion", "Africa"),
        ("Maldives", "Asia"),
    ],
)
def test_regions_come_from_airport_time_zones(name: str, region: str) -> None:
    assert geo.country_and_region(name)[1] == region


def test_airport_and_origin_regions_agree() -> None:
    record = enrich(route="PERSYD", booking_origin="Australia")
    assert record["booking_origin_region"] == record["origin_region"]
    record = enrich(route="KULSYD", booking_origin="Malaysia")
    assert record["booking_origin_region"] == record["origin_region"]


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (0, "0-7"),
        (7, "0-7"),
        (8, "8-30"),
        (30, "8-30"),
        (31, "31-90"),
        (90, "31-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, "181-365"),
        (365, "181-365"),
        (366, "366+"),
        (1095, "366+"),
    ],
)
def test_lead_time_band_edges(days: int, band: str) -> None:
    assert lead_time_band(days) == band
    assert enrich(purchase_lead=days)["lead_time_band"] == band


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (0, "0"),
        (1, "1-3"),
        (3, "1-3"),
        (4, "4-7"),
        (7, "4-7"),
        (8, "8-14"),
        (14, "8-14"),
        (15, "15-30"),
        (30, "15-30"),
        (31, "31+"),
        (778, "31+"),
    ],
)
def test_stay_band_edges(days: int, band: str) -> None:
    assert stay_band(days) == band
    assert enrich(length_of_stay=days)["stay_band"] == band


@pytest.mark.parametrize(
    ("hour", "band"),
    [
        (0, "00-05 night"),
        (5, "00-05 night"),
        (6, "06-11 morning"),
        (11, "06-11 morning"),
        (12, "12-17 afternoon"),
        (17, "12-17 afternoon"),
        (18, "18-23 evening"),
        (23, "18-23 evening"),
    ],
)
def test_departure_hour_band_edges(hour: int, band: str) -> None:
    assert departure_hour_band(hour) == band
    assert enrich(flight_hour=hour)["departure_hour_band"] == band


def test_band_labels_are_complete_and_hour_bands_sort_in_day_order() -> None:
    assert {lead_time_band(d) for d in range(1096)} == set(LEAD_TIME_BAND_LABELS)
    assert {stay_band(d) for d in range(1096)} == set(STAY_BAND_LABELS)
    assert list(DEPARTURE_HOUR_BAND_LABELS) == sorted(DEPARTURE_HOUR_BAND_LABELS)


@pytest.mark.parametrize(
    ("baggage", "seat", "meals", "count", "tier"),
    [
        (0, 0, 0, 0, "Basic"),
        (1, 0, 0, 1, "Pro"),
        (0, 1, 1, 2, "Pro"),
        (1, 1, 1, 3, "Premium"),
    ],
)
def test_extra_services_and_tier(
    baggage: int, seat: int, meals: int, count: int, tier: str
) -> None:
    record = enrich(
        wants_extra_baggage=baggage, wants_preferred_seat=seat, wants_in_flight_meals=meals
    )
    assert record["extra_services_count"] == count
    assert record["service_tier"] == tier


@pytest.mark.parametrize(("day", "weekend"), [("Sat", True), ("Sun", True), ("Fri", False)])
def test_weekend_flag(day: str, weekend: bool) -> None:
    assert enrich(flight_day=day)["is_weekend"] is weekend


def test_dates_when_the_booking_date_is_known() -> None:
    record = enrich(booking_date=date(2024, 1, 30), purchase_lead=30, length_of_stay=5)
    assert record["booking_date"] == date(2024, 1, 30)
    assert record["departure_date"] == date(2024, 2, 29)
    assert record["return_date"] == date(2024, 3, 5)
    assert record["departure_month"] == "2024-02"
    EnrichedBooking.model_validate(record)


def test_one_way_trip_has_no_return_date() -> None:
    record = enrich(booking_date=date(2024, 12, 20), trip_type="OneWay", purchase_lead=15)
    assert record["departure_date"] == date(2025, 1, 4)
    assert record["departure_month"] == "2025-01"
    assert record["return_date"] is None


def test_no_dates_without_a_booking_date() -> None:
    record = enrich()
    for name in ("booking_date", "departure_date", "return_date", "departure_month"):
        assert record[name] is None


def test_booking_id_is_deterministic_and_distinct() -> None:
    assert booking_id("a.csv", 1) == booking_id("a.csv", 1)
    assert booking_id("a.csv", 1) != booking_id("a.csv", 2)
    assert booking_id("a.csv", 1) != booking_id("b.csv", 1)
    assert enrich(row_number=7)["booking_id"] == enrich(row_number=7)["booking_id"]
    assert enrich(row_number=7)["booking_id"] == booking_id("s3://raw/incoming/a.csv#etag1", 7)
    ids = {booking_id("a.csv", n) for n in range(1, 20_001)}
    assert len(ids) == 20_000


def test_booking_ids_of_one_file_share_a_source_key_and_sort_by_row() -> None:
    first, second = booking_id("s3://raw/a.csv#e1", 9), booking_id("s3://raw/a.csv#e1", 10)
    assert re.fullmatch(r"[0-9a-f]{12}-\d{8}", first)
    assert first[:12] == second[:12] != booking_id("s3://raw/a.csv#e2", 9)[:12]
    assert first < second


def test_carries_source_fields_context_and_duplicate_flag() -> None:
    context = EnrichmentContext("file.csv", INGESTED_AT)
    values = booking(booking_complete=None)
    record = enrich_row(Row(12, values, is_duplicate=True), context)
    for name, value in values.items():
        assert record[name] == value
    assert record["row_number"] == 12
    assert record["source_file"] == "file.csv"
    # As Firehose's Parquet conversion reads a timestamp (test_firehose_record_contract).
    assert record["ingested_at"] == "2024-03-01T12:00:00.000000Z"
    assert datetime.fromisoformat(record["ingested_at"]) == INGESTED_AT
    assert record["is_duplicate"] is True
    assert record["schema_version"] == EnrichedBooking.model_fields["schema_version"].default


def test_live_row_without_outcome_key_validates() -> None:
    values = booking()
    del values["booking_complete"]
    record = enrich_row(Row(1, values), EnrichmentContext("live.csv", INGESTED_AT))
    assert record["booking_complete"] is None
    EnrichedBooking.model_validate(record)


def test_every_generated_row_enriches_to_a_valid_record() -> None:
    context = EnrichmentContext("generated.csv", INGESTED_AT, date(2024, 5, 1))
    records = [
        enrich_row(Row(number, values), context)
        for number, values in enumerate(generate_rows(2_000, seed=11), start=1)
    ]
    expected = set(EnrichedBooking.model_fields)
    for record in records:
        assert set(record) == expected
        EnrichedBooking.model_validate(record)
    # The generator's network uses real airports only.
    assert all(record["route_distance_km"] is not None for record in records)
    unknown = [r for r in records if r["booking_origin_code"] == "unknown"]
    assert all(r["booking_origin"] == "(not set)" for r in unknown)
