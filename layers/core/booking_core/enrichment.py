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
from booking_core.schema import (
    EXTRA_SERVICE_FIELDS,
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


_NO_DATES: Final[dict[str, Any]] = {
    "booking_date": None,
    "departure_date": None,
    "return_date": None,
    "departure_month": None,
}


def _dates(
    booking_date: date, purchase_lead: int, length_of_stay: int, trip_type: str
) -> dict[str, Any]:
    departure = booking_date + timedelta(days=purchase_lead)
    return {
        "booking_date": booking_date,
        "departure_date": departure,
        "return_date": None
        if trip_type == "OneWay"
        else departure + timedelta(days=length_of_stay),
        "departure_month": f"{departure.year:04d}-{departure.month:02d}",
    }


def enrich_row(row: ValidRowLike, context: EnrichmentContext) -> dict[str, Any]:
    """Every field of ``EnrichedBooking`` for one validated row."""
    values = row.values
    record = dict(values)
    record.setdefault("booking_complete", None)
    record["schema_version"] = SCHEMA_VERSION
    record["booking_id"] = booking_id(context.source_file, row.row_number)
    record["source_file"] = context.source_file
    record["row_number"] = row.row_number
    record["ingested_at"] = context.ingested_at
    record.update(route_fields(values["route"]))
    record.update(booking_origin_fields(values["booking_origin"]))
    purchase_lead = values["purchase_lead"]
    length_of_stay = values["length_of_stay"]
    record["lead_time_band"] = lead_time_band(purchase_lead)
    record["stay_band"] = stay_band(length_of_stay)
    record["departure_hour_band"] = _HOUR_BAND_BY_HOUR[values["flight_hour"]]
    record["is_weekend"] = values["flight_day"] in WEEKEND_DAYS
    extras = sum(values[field] for field in EXTRA_SERVICE_FIELDS)
    record["extra_services_count"] = extras
    record["service_tier"] = SERVICE_TIERS_BY_EXTRAS[extras]
    record["is_duplicate"] = row.is_duplicate
    if context.booking_date is None:
        record.update(_NO_DATES)
    else:
        record.update(
            _dates(context.booking_date, purchase_lead, length_of_stay, values["trip_type"])
        )
    return record
