"""Enriched records as JSON Lines, assembled from pre-serialised fragments.

``orjson.dumps(enrich_row(row, context))`` is the reference: readable, and what the Lambdas use
one chunk at a time. Serialising a million 44-key records that way costs more than everything
else the pipeline does, although almost every byte of a record depends on one cell alone and
every column holds few distinct values. So, per file, each distinct cell text is serialised
once, together with what it decides (a route: its airports, distance and whether it is
domestic; a booking origin: its ISO code and region; purchase_lead: its band and, when the
booking date is known, the departure date and month; ...), and a record is the concatenation of
those fragments and of the only per-row values: the row number, in ``booking_id`` and
``row_number``, the duplicate flag and the return date.

The fragments are made by ``orjson`` from the same values and the same functions as
``enrich_row``, keys in the same order, so a line is byte for byte the reference's line (the
test suite checks it on files with every quirk).

Every table is bounded (``MAX_VALUES_PER_COLUMN``): a file of millions of distinct valid values
costs time, not memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Final

import orjson

from booking_core.enrichment import (
    SERVICE_TIERS_BY_EXTRAS,
    WEEKEND_DAYS,
    booking_origin_fields,
    departure_hour_band,
    lead_time_band,
    route_fields,
    source_key,
    stay_band,
)
from booking_core.schema import (
    EXTRA_SERVICE_FIELDS,
    OUTCOME_FIELD,
    REQUIRED_FIELDS,
    SCHEMA_VERSION,
    SOURCE_FIELDS,
)

MAX_VALUES_PER_COLUMN: Final = 50_000

# Positions of the source fields in a row of fragments (always SOURCE_FIELDS order).
_AT: Final = {name: index for index, name in enumerate(SOURCE_FIELDS)}


def fragment(key: str, value: Any) -> bytes:
    """``"key":value,`` exactly as orjson writes that member of an object."""
    return orjson.dumps({key: value})[1:-1] + b","


def _escape_percent(data: bytes) -> bytes:
    return data.replace(b"%", b"%%")


def _members(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)[1:-1] + b","


class ColumnFragments:
    """One source column: cell text -> fragment, and fragment -> what that value decides.

    ``by_text`` holds only texts that are valid as written (no normalisation), as
    ``ColumnChecker.fast`` does; ``derived`` is keyed by the fragment so that a row needs no
    second look-up by value. The value tables are emptied together when they reach the bound
    (a fragment in ``by_text`` always has its ``derived`` entry).
    """

    __slots__ = ("by_text", "by_value", "derive", "derived", "field", "prefix")

    def __init__(self, field: str, derive: Callable[[Any], Any] | None, prefix: bytes) -> None:
        self.field = field
        self.prefix = prefix
        self.derive = derive
        self.by_text: dict[str, bytes] = {}
        self.by_value: dict[Any, bytes] = {}
        self.derived: dict[bytes, Any] = {}

    def of_value(self, value: Any) -> bytes:
        found = self.by_value.get(value)
        if found is not None:
            return found
        if len(self.by_value) >= MAX_VALUES_PER_COLUMN:
            self.by_text.clear()
            self.by_value.clear()
            self.derived.clear()
        made = self.prefix + fragment(self.field, value)
        if self.derive is not None:
            self.derived[made] = self.derive(value)
        self.by_value[value] = made
        return made

    def remember_text(self, text: str, value: Any) -> bytes:
        made = self.of_value(value)
        # Many texts may spell one value ("7", "07", "007"): this table is bounded on its own.
        if len(self.by_text) >= MAX_VALUES_PER_COLUMN:
            self.by_text.clear()
        self.by_text[text] = made
        return made


class RecordFragments:
    """Everything constant about the enriched records of one file, pre-serialised."""

    def __init__(
        self,
        *,
        fields: tuple[str, ...],
        source_file: str,
        ingested_at: datetime,
        booking_date: date | None,
    ) -> None:
        if fields[: len(REQUIRED_FIELDS)] != REQUIRED_FIELDS:
            raise ValueError(f"columns must be in SOURCE_FIELDS order, got {fields}")
        self.booking_date = booking_date
        derive: dict[str, Callable[[Any], Any]] = {
            "purchase_lead": self._lead_time,
            "length_of_stay": lambda days: (days, fragment("stay_band", stay_band(days))),
            "flight_hour": lambda hour: fragment("departure_hour_band", departure_hour_band(hour)),
            "flight_day": lambda day: fragment("is_weekend", day in WEEKEND_DAYS),
            "route": lambda route: _members(route_fields(route)),
            "booking_origin": lambda origin: _members(booking_origin_fields(origin)),
        }
        self.columns = [
            ColumnFragments(name, derive.get(name), b"{" if index == 0 else b"")
            for index, name in enumerate(fields)
        ]
        by_field = {column.field: column for column in self.columns}
        # A file without the outcome column: every record says booking_complete is null.
        outcome = b"" if OUTCOME_FIELD in fields else fragment(OUTCOME_FIELD, None)
        # A template for bytes %-formatting, the row number going into booking_id and row_number.
        self.row_number_template = (
            _escape_percent(
                outcome
                + b'"schema_version":"'
                + SCHEMA_VERSION.encode()
                + b'","booking_id":"'
                + source_key(source_file).encode()
                + b"-"
            )
            + b'%08d",'
            + _escape_percent(fragment("source_file", source_file))
            + b'"row_number":%d,'
            + _escape_percent(fragment("ingested_at", ingested_at))
        )
        self.route = by_field["route"].derived
        self.origin = by_field["booking_origin"].derived
        self.lead = by_field["purchase_lead"].derived
        self.stay = by_field["length_of_stay"].derived
        self.hour = by_field["flight_hour"].derived
        self.day = by_field["flight_day"].derived
        self.one_way = by_field["trip_type"].of_value("OneWay")
        flags = [by_field[name] for name in EXTRA_SERVICE_FIELDS]
        self.extras = {
            (flags[0].of_value(a), flags[1].of_value(b), flags[2].of_value(c)): fragment(
                "extra_services_count", a + b + c
            )
            + fragment("service_tier", SERVICE_TIERS_BY_EXTRAS[a + b + c])
            for a in (0, 1)
            for b in (0, 1)
            for c in (0, 1)
        }
        self.duplicate = (fragment("is_duplicate", False), fragment("is_duplicate", True))
        self.no_return = fragment("return_date", None)
        self.returns = _ReturnDates(booking_date)

    def _lead_time(self, days: int) -> tuple[int, bytes, bytes, bytes]:
        """(days, band, booking and departure dates, departure month and the record's end)."""
        band = fragment("lead_time_band", lead_time_band(days))
        booking_date = self.booking_date
        if booking_date is None:
            dates = fragment("booking_date", None) + fragment("departure_date", None)
            month = None
        else:
            departure = booking_date + timedelta(days=days)
            dates = fragment("booking_date", booking_date) + fragment("departure_date", departure)
            month = f"{departure.year:04d}-{departure.month:02d}"
        end = fragment("departure_month", month)[:-1] + b"}\n"
        return days, band, dates, end

    def line(self, fragments: tuple[bytes, ...], row_number: int, is_duplicate: bool) -> bytes:
        """One record's line from its source fragments (the readable form of the hot loop)."""
        at = _AT
        days, lead_band, dates, end = self.lead[fragments[at["purchase_lead"]]]
        stay, stay_band_fragment = self.stay[fragments[at["length_of_stay"]]]
        extras = self.extras[
            fragments[at["wants_extra_baggage"]],
            fragments[at["wants_preferred_seat"]],
            fragments[at["wants_in_flight_meals"]],
        ]
        return_date = (
            self.no_return
            if fragments[at["trip_type"]] == self.one_way
            else self.returns[days + stay]
        )
        return b"".join(
            (
                *fragments,
                self.row_number_template % (row_number, row_number),
                self.route[fragments[at["route"]]],
                self.origin[fragments[at["booking_origin"]]],
                lead_band,
                stay_band_fragment,
                self.hour[fragments[at["flight_hour"]]],
                self.day[fragments[at["flight_day"]]],
                extras,
                self.duplicate[is_duplicate],
                dates,
                return_date,
                end,
            )
        )

    def of_values(self, values: tuple[Any, ...]) -> tuple[bytes, ...]:
        """The source fragments of a row of typed values (a row that needed normalising)."""
        return tuple(map(ColumnFragments.of_value, self.columns, values))


class _ReturnDates(dict[int, bytes]):
    """Days after the booking date -> the return date member (null without a booking date)."""

    def __init__(self, booking_date: date | None) -> None:
        super().__init__()
        self.booking_date = booking_date

    def __missing__(self, days: int) -> bytes:
        if self.booking_date is None:
            made = fragment("return_date", None)
        else:
            made = fragment("return_date", self.booking_date + timedelta(days=days))
        self[days] = made
        return made
