"""Enrichment: a valid booking row -> every field of ``schema.EnrichedBooking``.

This runs once per row on the ingestion hot path, so it never calls pydantic: everything that
depends only on a route, an origin name or a band value is computed once and cached; the per-row
work is a few dictionary look-ups, one hash (the booking id) and date arithmetic.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, Protocol

from booking_core import geo
from booking_core.jsonl import firehose_timestamp
from booking_core.schema import (
    MAX_LENGTH_OF_STAY_DAYS,
    MAX_PURCHASE_LEAD_DAYS,
    SCHEMA_VERSION,
)

# Bands: (inclusive upper edge, label); the last band is open-ended. KPIs, dashboards and the
# lake all use these labels; *_BAND_LABELS give their natural order.
LEAD_TIME_BANDS: Final[tuple[tuple[int, str], ...]] = (
    (7, "0-7"),
    (30, "8-30"),
    (90, "31-90"),
    (180, "91-180"),
    (365, "181-365"),
)
LEAD_TIME_OPEN_BAND: Final = "366+"
LEAD_TIME_BAND_LABELS: Final = (*(label for _, label in LEAD_TIME_BANDS), LEAD_TIME_OPEN_BAND)

STAY_BANDS: Final[tuple[tuple[int, str], ...]] = (
    (0, "0"),
    (3, "1-3"),
    (7, "4-7"),
    (14, "8-14"),
    (30, "15-30"),
)
STAY_OPEN_BAND: Final = "31+"
STAY_BAND_LABELS: Final = (*(label for _, label in STAY_BANDS), STAY_OPEN_BAND)

# Labels start with the hours so that they sort in the order of the day.
DEPARTURE_HOUR_BANDS: Final[tuple[tuple[int, str], ...]] = (
    (5, "00-05 night"),
    (11, "06-11 morning"),
    (17, "12-17 afternoon"),
    (23, "18-23 evening"),
)
DEPARTURE_HOUR_BAND_LABELS: Final = tuple(label for _, label in DEPARTURE_HOUR_BANDS)

WEEKEND_DAYS: Final = frozenset({"Sat", "Sun"})
ONE_WAY: Final = "OneWay"

# Service tiers by the number of extra services (baggage, seat, meals).
SERVICE_TIERS_BY_EXTRAS: Final = ("Basic", "Pro", "Pro", "Premium")

# 12 hex characters (48 bits) tell apart millions of source files; the row number does the rest.
SOURCE_KEY_HEX_CHARS: Final = 12


class ValidRowLike(Protocol):
    """What enrichment needs from a validated row (``booking_core.pipeline.ValidRow``)."""

    @property
    def row_number(self) -> int: ...

    @property
    def values(self) -> dict[str, Any]: ...

    @property
    def is_duplicate(self) -> bool: ...


@dataclass(frozen=True)
class EnrichmentContext:
    source_file: str  # source identity, e.g. "s3://raw/incoming/x.csv#<etag>" or a path
    ingested_at: datetime  # tz-aware UTC
    booking_date: date | None = None


def band_label(value: int, bands: tuple[tuple[int, str], ...], open_band: str) -> str:
    """The label of the band holding ``value`` (bands by inclusive upper edge)."""
    index = bisect_left([edge for edge, _ in bands], value)
    return bands[index][1] if index < len(bands) else open_band


def _band_table(maximum: int, bands: tuple[tuple[int, str], ...], open_band: str) -> list[str]:
    return [band_label(value, bands, open_band) for value in range(maximum + 1)]


_LEAD_TIME_BY_DAYS: Final = _band_table(
    MAX_PURCHASE_LEAD_DAYS, LEAD_TIME_BANDS, LEAD_TIME_OPEN_BAND
)
_STAY_BY_DAYS: Final = _band_table(MAX_LENGTH_OF_STAY_DAYS, STAY_BANDS, STAY_OPEN_BAND)
_HOUR_BAND_BY_HOUR: Final = _band_table(23, DEPARTURE_HOUR_BANDS, DEPARTURE_HOUR_BANDS[-1][1])


def lead_time_band(days: int) -> str:
    if 0 <= days < len(_LEAD_TIME_BY_DAYS):
        return _LEAD_TIME_BY_DAYS[days]
    return band_label(days, LEAD_TIME_BANDS, LEAD_TIME_OPEN_BAND)


def stay_band(days: int) -> str:
    if 0 <= days < len(_STAY_BY_DAYS):
        return _STAY_BY_DAYS[days]
    return band_label(days, STAY_BANDS, STAY_OPEN_BAND)


def departure_hour_band(hour: int) -> str:
    return _HOUR_BAND_BY_HOUR[hour]


def service_tier(extra_services: int) -> str:
    return SERVICE_TIERS_BY_EXTRAS[extra_services]


def booking_id(source_file: str, row_number: int) -> str:
    """Deterministic id: a key of the source identity, then the row number.

    The same row of the same source always gets the same id; ids of one file share their prefix
    and count up, which keeps the column small in the Parquet lake.
    """
    return f"{source_key(source_file)}-{row_number:08d}"


@lru_cache(maxsize=256)
def source_key(source_file: str) -> str:
    digest = hashlib.blake2b(source_file.encode(), digest_size=8)
    return digest.hexdigest()[:SOURCE_KEY_HEX_CHARS]


# Bounded: a hostile file may hold millions of distinct valid routes or origin names.
@lru_cache(maxsize=8192)
def route_fields(route: str) -> dict[str, Any]:
    """Airport, distance and domestic fields of a 6-letter route (cached per route)."""
    origin = geo.airport(route[:3])
    destination = geo.airport(route[-3:])
    is_domestic = (
        origin.country == destination.country
        if origin.country is not None and destination.country is not None
        else None
    )
    return {
        "origin_airport": origin.iata,
        "origin_city": origin.city,
        "origin_country": origin.country,
        "origin_region": origin.region,
        "origin_timezone": origin.timezone,
        "destination_airport": destination.iata,
        "destination_city": destination.city,
        "destination_country": destination.country,
        "destination_region": destination.region,
        "destination_timezone": destination.timezone,
        "route_distance_km": geo.airport_distance_km(origin, destination),
        "is_domestic": is_domestic,
    }


@lru_cache(maxsize=4096)
def booking_origin_fields(booking_origin: str) -> dict[str, str]:
    code, region = geo.country_and_region(booking_origin)
    return {"booking_origin_code": code, "booking_origin_region": region}


# An enriched record is made of member groups, each decided by a few source fields; a record
# lists them in this order (``RECORD_GROUPS``), each source field followed by what it decides.
# The CLI's fast path (``bookings.fastpath.enriched_json``) serialises each distinct group once
# and concatenates them.


def provenance_members(
    source_file: str, row_number: int, is_duplicate: bool, ingested_at: datetime
) -> dict[str, Any]:
    return {
        "booking_id": booking_id(source_file, row_number),
        "row_number": row_number,
        "is_duplicate": is_duplicate,
        "source_file": source_file,
        "ingested_at": firehose_timestamp(ingested_at),
        "schema_version": SCHEMA_VERSION,
    }


def booking_members(num_passengers: int, sales_channel: str, trip_type: str) -> dict[str, Any]:
    return {
        "num_passengers": num_passengers,
        "sales_channel": sales_channel,
        "trip_type": trip_type,
    }


def lead_time_members(purchase_lead: int, booking_date: date | None) -> dict[str, Any]:
    """purchase_lead, its band and, when the booking date is known, the departure date."""
    if booking_date is None:
        departure: date | None = None
        month = None
    else:
        departure = booking_date + timedelta(days=purchase_lead)
        month = f"{departure.year:04d}-{departure.month:02d}"
    return {
        "purchase_lead": purchase_lead,
        "lead_time_band": lead_time_band(purchase_lead),
        "booking_date": booking_date,
        "departure_date": departure,
        "departure_month": month,
    }


def stay_members(length_of_stay: int) -> dict[str, Any]:
    return {"length_of_stay": length_of_stay, "stay_band": stay_band(length_of_stay)}


def return_members(
    booking_date: date | None, purchase_lead: int, length_of_stay: int, trip_type: str
) -> dict[str, Any]:
    """The return date: departure + stay, unknown without a booking date, none one way."""
    if booking_date is None or trip_type == ONE_WAY:
        return {"return_date": None}
    return {"return_date": booking_date + timedelta(days=purchase_lead + length_of_stay)}


def flight_time_members(flight_hour: int, flight_day: str) -> dict[str, Any]:
    return {
        "flight_hour": flight_hour,
        "departure_hour_band": _HOUR_BAND_BY_HOUR[flight_hour],
        "flight_day": flight_day,
        "is_weekend": flight_day in WEEKEND_DAYS,
    }


def route_members(route: str) -> dict[str, Any]:
    return {"route": route, **route_fields(route)}


def booking_origin_members(booking_origin: str) -> dict[str, Any]:
    return {"booking_origin": booking_origin, **booking_origin_fields(booking_origin)}


def services_members(
    wants_extra_baggage: int,
    wants_preferred_seat: int,
    wants_in_flight_meals: int,
    flight_duration: float,
    booking_complete: int | None = None,
) -> dict[str, Any]:
    """The extra services, their count and tier, the flight duration and the outcome."""
    extras = wants_extra_baggage + wants_preferred_seat + wants_in_flight_meals
    return {
        "wants_extra_baggage": wants_extra_baggage,
        "wants_preferred_seat": wants_preferred_seat,
        "wants_in_flight_meals": wants_in_flight_meals,
        "extra_services_count": extras,
        "service_tier": SERVICE_TIERS_BY_EXTRAS[extras],
        "flight_duration": flight_duration,
        "booking_complete": booking_complete,
    }


# The groups decided by source fields alone, in record order, with the fields that decide them
# (after the provenance members; the return date comes right after the stay).
RECORD_GROUPS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("booking", ("num_passengers", "sales_channel", "trip_type", "purchase_lead")),
    ("stay", ("length_of_stay",)),
    ("flight_time", ("flight_hour", "flight_day")),
    ("route", ("route",)),
    ("booking_origin", ("booking_origin",)),
    (
        "services",
        (
            "wants_extra_baggage",
            "wants_preferred_seat",
            "wants_in_flight_meals",
            "flight_duration",
            "booking_complete",
        ),
    ),
)


def enrich_row(row: ValidRowLike, context: EnrichmentContext) -> dict[str, Any]:
    """Every field of ``EnrichedBooking`` for one validated row, in record order."""
    values = row.values
    purchase_lead = values["purchase_lead"]
    length_of_stay = values["length_of_stay"]
    trip_type = values["trip_type"]
    return {
        **provenance_members(
            context.source_file, row.row_number, row.is_duplicate, context.ingested_at
        ),
        **booking_members(values["num_passengers"], values["sales_channel"], trip_type),
        **lead_time_members(purchase_lead, context.booking_date),
        **stay_members(length_of_stay),
        **return_members(context.booking_date, purchase_lead, length_of_stay, trip_type),
        **flight_time_members(values["flight_hour"], values["flight_day"]),
        **route_members(values["route"]),
        **booking_origin_members(values["booking_origin"]),
        **services_members(
            values["wants_extra_baggage"],
            values["wants_preferred_seat"],
            values["wants_in_flight_meals"],
            values["flight_duration"],
            values.get("booking_complete"),
        ),
    }
