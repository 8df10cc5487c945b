"""Enriched records as JSON Lines, assembled from pre-serialised member groups.

``orjson.dumps(enrich_row(row, context))`` is the reference: readable, and what the Lambdas use
one chunk at a time. Serialising a million 44-key records that way costs more than everything
else the pipeline does, although almost every byte of a record depends on a group of one to
five cells and every group holds few distinct values. So a record is laid out as groups of
members (``enrichment.RECORD_GROUPS``: each source field followed by what it decides, such as a
route with its airports, distance and whether it is domestic), and per file each distinct group
value is serialised once. A record is then the concatenation of eight pieces: the provenance
members (the only per-row text: the row number, in ``booking_id`` and ``row_number``, and the
duplicate flag), the six groups, and the return date, which depends on two of them. (The
booking group holds the purchase lead time with the passengers, channel and trip type: that
is a few thousand values, and one look-up fewer per row.)

The pieces are made by ``orjson`` from the same member functions as ``enrich_row``, so a line
is byte for byte the reference's line (the test suite checks it on files with every quirk).

Tables whose values are not bounded by the contract (routes, origins, services with their
flight durations) are emptied when they reach ``MAX_VALUES_PER_GROUP``: a file of millions of
distinct valid values costs time, not memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, Final

import orjson
from booking_core.enrichment import (
    ONE_WAY,
    RECORD_GROUPS,
    booking_members,
    booking_origin_members,
    flight_time_members,
    lead_time_members,
    provenance_members,
    return_members,
    route_members,
    services_members,
    source_key,
    stay_members,
)
from booking_core.schema import MAX_LENGTH_OF_STAY_DAYS, OUTCOME_FIELD, REQUIRED_FIELDS

MAX_VALUES_PER_GROUP: Final = 50_000
# The lead time recorded for one-way bookings' pieces: lead time + stay is then negative.
ONE_WAY_DAYS: Final = -(2 * MAX_LENGTH_OF_STAY_DAYS + 1)
# Group positions in a row of pieces after the provenance piece (``RECORD_GROUPS`` order).
BOOKING, STAY, FLIGHT_TIME, ROUTE, ORIGIN, SERVICES = range(len(RECORD_GROUPS))
# Group tables whose values the contract bounds (60,000 at most, a few thousand in practice):
# never emptied, so that the tables derived from their pieces (days, one way) hold every piece.
_BOUNDED_BY_CONTRACT: Final = frozenset({BOOKING, STAY, FLIGHT_TIME})


def members_bytes(members: dict[str, Any]) -> bytes:
    """``"key":value,...,`` exactly as orjson writes those members inside an object."""
    return orjson.dumps(members)[1:-1] + b","


def _serialised(make: Callable[..., dict[str, Any]]) -> Callable[..., bytes]:
    return lambda *values: members_bytes(make(*values))


def _escape_percent(data: bytes) -> bytes:
    return data.replace(b"%", b"%%")


class GroupTable:
    """One group of members: the tuple of its source fields' typed values -> its piece."""

    __slots__ = ("bounded", "by_values", "make", "suffix")

    def __init__(self, make: Callable[..., bytes], *, bounded: bool, suffix: bytes):
        self.make = make
        self.bounded = bounded
        self.suffix = suffix
        self.by_values: dict[tuple[Any, ...], bytes] = {}

    def of_values(self, values: tuple[Any, ...]) -> bytes:
        found = self.by_values.get(values)
        if found is not None:
            return found
        if not self.bounded and len(self.by_values) >= MAX_VALUES_PER_GROUP:
            self.by_values.clear()
        made = self.make(*values)[:-1] + self.suffix
        self.by_values[values] = made
        return made


class RecordFragments:
    """Everything constant about the enriched records of one file, pre-serialised.

    ``fields`` are the source fields the file has, in ``SOURCE_FIELDS`` order (the outcome may
    be missing: live bookings).
    """

    def __init__(
        self,
        *,
        fields: Sequence[str],
        source_file: str,
        ingested_at: datetime,
        booking_date: date | None,
    ) -> None:
        if tuple(fields[: len(REQUIRED_FIELDS)]) != REQUIRED_FIELDS:
            raise ValueError(f"fields must be in SOURCE_FIELDS order, got {fields}")
        self.has_outcome = OUTCOME_FIELD in fields
        self.booking_date = booking_date
        # The booking group's few thousand values are made of a few dozen bookings and a
        # thousand lead times at most: its pieces are concatenations of theirs.
        booking_part = cache(lambda *values: members_bytes(booking_members(*values)))
        lead_part = cache(lambda days: members_bytes(lead_time_members(days, booking_date)))
        makers: list[Callable[..., bytes]] = [
            lambda passengers, channel, trip_type, lead_days: (
                booking_part(passengers, channel, trip_type) + lead_part(lead_days)
            ),
            *(
                _serialised(make)
                for make in (
                    stay_members,
                    flight_time_members,
                    route_members,
                    booking_origin_members,
                    services_members,
                )
            ),
        ]
        self.groups = [
            GroupTable(
                make,
                bounded=index in _BOUNDED_BY_CONTRACT,
                suffix=b"}\n" if index == SERVICES else b",",
            )
            for index, make in enumerate(makers)
        ]
        # Source field positions of each group in a row of values (SOURCE_FIELDS order).
        positions = {name: index for index, name in enumerate(fields)}
        self.group_positions = [
            tuple(positions[name] for name in names if name in positions)
            for _, names in RECORD_GROUPS
        ]
        # What the return date needs from the pieces of the booking and stay groups.
        self.lead_days: dict[bytes, int] = {}
        self.stay_days: dict[bytes, int] = {}
        self.returns = _ReturnDates(booking_date)
        self.no_return = members_bytes(return_members(None, 0, 0, ONE_WAY))
        # The provenance piece, a template for bytes %-formatting: %08d in booking_id and %d in
        # row_number are the row number; one template per value of the duplicate flag.
        key = source_key(source_file)
        self.provenance_templates = tuple(
            b"{"
            + _escape_percent(members_bytes(provenance_members(source_file, 1, flag, ingested_at)))
            .replace(f'"{key}-00000001"'.encode(), f'"{key}-%08d"'.encode(), 1)
            .replace(b'"row_number":1,', b'"row_number":%d,', 1)
            for flag in (False, True)
        )
        self.provenance_lengths = tuple(
            len(template) - len(b"%08d") - len(b"%d") for template in self.provenance_templates
        )

    def group_piece(self, index: int, values: tuple[Any, ...]) -> bytes:
        """The piece of group ``index`` for its typed values (side tables kept up to date)."""
        group = self.groups[index]
        found = group.by_values.get(values)
        if found is not None:
            return found
        made = group.of_values(values)
        if index == BOOKING:
            # A one-way trip's days are below any return date's: its return date is none.
            self.lead_days[made] = ONE_WAY_DAYS if values[2] == ONE_WAY else values[3]
        elif index == STAY:
            self.stay_days[made] = values[0]
        return made

    def pieces_of_values(self, values: Sequence[Any]) -> tuple[bytes, ...]:
        """The group pieces of a row of typed values (``fields`` order)."""
        return tuple(
            self.group_piece(index, tuple(values[position] for position in positions))
            for index, positions in enumerate(self.group_positions)
        )

    def provenance(self, row_number: int, is_duplicate: bool) -> bytes:
        return self.provenance_templates[is_duplicate] % (row_number, row_number)


class _ReturnDates(dict[int, bytes]):
    """Days after the booking date -> the return date member (null without a booking date,
    and for a one-way trip's negative days)."""

    def __init__(self, booking_date: date | None) -> None:
        super().__init__()
        self.booking_date = booking_date

    def __missing__(self, days: int) -> bytes:
        trip_type = ONE_WAY if days < 0 else "RoundTrip"
        made = members_bytes(return_members(self.booking_date, days, 0, trip_type))
        self[days] = made
        return made
