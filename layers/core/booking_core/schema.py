"""The booking data contract: source fields, their domains, enriched fields, and the schema version.

Everything that reads, writes, stores or queries a booking refers to the names defined here:
the reader and validator (source fields and domains), the enrichment (enriched fields), the Glue
tables in template.yaml (their columns are checked against ``ScoredBooking`` and ``RejectedRow`` by
the test suite), the offline lake and the model's features.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Final = "1.0.0"

SalesChannel = Literal["Internet", "Mobile"]
TripType = Literal["RoundTrip", "OneWay", "CircleTrip"]
FlightDay = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

SALES_CHANNELS: Final = ("Internet", "Mobile")
TRIP_TYPES: Final = ("RoundTrip", "OneWay", "CircleTrip")
FLIGHT_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Domains. The public reference file reaches purchase_lead 867 and length_of_stay 778 days;
# three years is the longest horizon an airline sells, so anything beyond is a data error.
MAX_PASSENGERS: Final = 9
MAX_PURCHASE_LEAD_DAYS: Final = 1095
MAX_LENGTH_OF_STAY_DAYS: Final = 1095
MIN_FLIGHT_DURATION_HOURS: Final = 0.5
MAX_FLIGHT_DURATION_HOURS: Final = 24.0

SOURCE_FIELDS: Final = (
    "num_passengers",
    "sales_channel",
    "trip_type",
    "purchase_lead",
    "length_of_stay",
    "flight_hour",
    "flight_day",
    "route",
    "booking_origin",
    "wants_extra_baggage",
    "wants_preferred_seat",
    "wants_in_flight_meals",
    "flight_duration",
    "booking_complete",
)
OUTCOME_FIELD: Final = "booking_complete"
# booking_complete is the outcome: live bookings do not have it yet.
REQUIRED_FIELDS: Final = tuple(f for f in SOURCE_FIELDS if f != OUTCOME_FIELD)
EXTRA_SERVICE_FIELDS: Final = (
    "wants_extra_baggage",
    "wants_preferred_seat",
    "wants_in_flight_meals",
)

# The seed's three tiers of data: each tier adds a group of fields to the previous one.
FIELD_TIERS: Final[dict[str, tuple[str, ...]]] = {
    "Basic": (
        "num_passengers",
        "booking_origin",
        "sales_channel",
        "purchase_lead",
        "length_of_stay",
        "trip_type",
    ),
    "Pro": ("route", "flight_hour", "flight_duration", "flight_day"),
    "Premium": EXTRA_SERVICE_FIELDS,
}
TIERS: Final = ("Basic", "Pro", "Premium")

UNKNOWN: Final = "unknown"


class BookingSource(BaseModel):
    """One row of a booking file, as the public reference data set defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_passengers: int = Field(ge=1, le=MAX_PASSENGERS)
    sales_channel: SalesChannel
    trip_type: TripType
    purchase_lead: int = Field(ge=0, le=MAX_PURCHASE_LEAD_DAYS, description="days")
    length_of_stay: int = Field(ge=0, le=MAX_LENGTH_OF_STAY_DAYS, description="days")
    flight_hour: int = Field(ge=0, le=23)
    flight_day: FlightDay
    route: str = Field(pattern=r"^[A-Z]{6}$", description="origin + destination IATA codes")
    booking_origin: str = Field(min_length=1, max_length=100, description="country name")
    wants_extra_baggage: int = Field(ge=0, le=1)
    wants_preferred_seat: int = Field(ge=0, le=1)
    wants_in_flight_meals: int = Field(ge=0, le=1)
    flight_duration: float = Field(
        ge=MIN_FLIGHT_DURATION_HOURS, le=MAX_FLIGHT_DURATION_HOURS, description="hours"
    )
    booking_complete: int | None = Field(default=None, ge=0, le=1)


class EnrichedBooking(BookingSource):
    """A valid booking with everything the lake, the dashboards and the model need."""

    schema_version: str = SCHEMA_VERSION
    booking_id: str = Field(description="deterministic: source identity + row number")
    source_file: str = Field(description="the source identity, e.g. s3://bucket/key#etag")
    row_number: int = Field(ge=1, description="1-based data row number in the source file")
    ingested_at: datetime

    origin_airport: str
    origin_city: str | None
    origin_country: str | None = Field(description="ISO 3166-1 alpha-2")
    origin_region: str
    origin_timezone: str | None
    destination_airport: str
    destination_city: str | None
    destination_country: str | None
    destination_region: str
    destination_timezone: str | None
    route_distance_km: float | None
    is_domestic: bool | None

    booking_origin_code: str = Field(description="ISO 3166-1 alpha-2, or 'unknown'")
    booking_origin_region: str = Field(description="region name, or 'unknown'")

    lead_time_band: str
    stay_band: str
    departure_hour_band: str
    is_weekend: bool
    extra_services_count: int = Field(ge=0, le=3)
    service_tier: Literal["Basic", "Pro", "Premium"] = Field(
        description="Basic: no extra service, Pro: one or two, Premium: all three"
    )
    is_duplicate: bool = Field(description="exact copy of an earlier row of the same file")

    booking_date: date | None = None
    departure_date: date | None = None
    return_date: date | None = None
    departure_month: str | None = Field(default=None, description="YYYY-MM")


class ScoredBooking(EnrichedBooking):
    """An enriched booking after the Score step (scores are null when no model answered)."""

    booking_complete_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    model_version: str | None = None


class RejectedRow(BaseModel):
    """A row that failed validation: kept with its raw text and the reasons, never dropped."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    source_file: str
    row_number: int = Field(ge=1)
    raw: str = Field(description="the row as it was read (possibly truncated for huge fields)")
    reason: str = Field(description="the first reason code, 'field:rule'")
    reasons: list[str] = Field(description="every reason code, 'field:rule'")
    message: str = Field(description="one line a person can act on")
    rejected_at: datetime


class FileSummary(BaseModel):
    """Counts for one processed file; rows == valid + rejected, always."""

    file: str
    encoding: str
    compression: str | None = None
    line_endings: str | None = None
    delimiter: str = ","
    rows: int
    valid: int
    rejected: int
    duplicates: int
    reasons: dict[str, int] = Field(default_factory=dict)
    normalisations: dict[str, int] = Field(default_factory=dict)
    unknown_columns: list[str] = Field(default_factory=list)
    ignored_columns: int = 0
    has_outcome: bool = True
