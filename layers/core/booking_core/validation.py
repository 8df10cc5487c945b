"""Field validation against the contract's domains, without pydantic on the hot path.

``schema.BookingSource`` states the contract; this module checks the same domains with plain
Python and per-column caches (a booking file holds few distinct values per column, so almost
every cell is one dictionary look-up). The test suite proves with hypothesis that a row passes
here exactly when ``BookingSource.model_validate`` accepts its normalised form, with the same
values.

Reason codes are ``field:rule`` with the rules ``missing``, ``not_integer``, ``not_number``,
``out_of_range``, ``not_allowed`` (categoricals), ``bad_format`` (route) and ``too_long``; and
for whole records ``row:field_count``, ``row:repeated_header``, ``row:malformed`` and
``row:unterminated_quote`` (``booking_core.reader``).

Normalisations (applied to values, counted per ``field:kind`` for the rows delivered):

- ``trimmed_spaces``: surrounding white space is removed from every value;
- ``case``: categorical values in any case (``internet`` -> ``Internet``, ``MON`` -> ``Mon``) and
  the route in lower case (``akldel`` -> ``AKLDEL``);
- ``spelling``: trip types written with spaces, ``_`` or ``-`` (``Round Trip``, ``one-way``);
- ``full_day_name``: ``Monday`` -> ``Mon`` (any case);
- ``decimal_integer``: integers written with a zero fraction (``2.0`` -> 2);
- ``flag_word``: 0/1 flags written ``true``/``false``/``yes``/``no`` (any case) -> 1/0.

Deliberately not accepted: digit-group separators (``1_000``, ``1,000``), decimal commas
(``5,52``), non-ASCII digits, ``nan``/``inf``. An empty ``booking_complete`` in a file that has
the column is ``booking_complete:missing``: a file states outcomes for all its rows or for none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

from booking_core.schema import (
    FLIGHT_DAYS,
    MAX_FLIGHT_DURATION_HOURS,
    MAX_LENGTH_OF_STAY_DAYS,
    MAX_PASSENGERS,
    MAX_PURCHASE_LEAD_DAYS,
    MIN_FLIGHT_DURATION_HOURS,
    SALES_CHANNELS,
    TRIP_TYPES,
)

INTEGER_RANGES: Final[dict[str, tuple[int, int]]] = {
    "num_passengers": (1, MAX_PASSENGERS),
    "purchase_lead": (0, MAX_PURCHASE_LEAD_DAYS),
    "length_of_stay": (0, MAX_LENGTH_OF_STAY_DAYS),
    "flight_hour": (0, 23),
    "wants_extra_baggage": (0, 1),
    "wants_preferred_seat": (0, 1),
    "wants_in_flight_meals": (0, 1),
    "booking_complete": (0, 1),
}
FLAG_FIELDS: Final = frozenset(
    {"wants_extra_baggage", "wants_preferred_seat", "wants_in_flight_meals", "booking_complete"}
)
FLAG_WORDS: Final = {"true": 1, "false": 0, "yes": 1, "no": 0}
MAX_BOOKING_ORIGIN_CHARS: Final = 100

_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_INTEGER: Final = re.compile(r"[+-]?[0-9]+\.0+")
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ROUTE: Final = re.compile(r"[A-Z]{6}")

_SALES_CHANNELS: Final = {value.lower(): value for value in SALES_CHANNELS}
_TRIP_TYPES: Final = {value.lower(): value for value in TRIP_TYPES}
_DAY_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FLIGHT_DAYS: Final = {value.lower(): value for value in FLIGHT_DAYS}
_FULL_DAY_NAMES: Final = dict(zip(_DAY_NAMES, FLIGHT_DAYS, strict=True))

# Caches are bounded so that a file of all-distinct garbage cannot grow memory without limit.
MAX_CACHED_VALUES_PER_COLUMN: Final = 50_000

RULE_TEXT: Final = {
    "missing": "is empty",
    "not_integer": "is not an integer",
    "not_number": "is not a number",
    "out_of_range": "is out of range",
    "not_allowed": "is not an allowed value",
    "bad_format": "is not 6 letters (origin and destination IATA codes)",
    "too_long": f"is longer than {MAX_BOOKING_ORIGIN_CHARS} characters",
    "control_character": "holds a control character (a line break, a tab, NUL...)",
}


@dataclass(frozen=True, slots=True)
class FieldResult:
    """The outcome of checking one cell: a value, or the rule it broke; and normalisations."""

    value: Any
    rule: str | None
    normalisations: tuple[str, ...]


class _Invalid(Exception):
    def __init__(self, rule: str) -> None:
        self.rule = rule


def _integer(field: str, text: str, kinds: list[str]) -> int:
    if _INTEGER.fullmatch(text):
        value = int(text)
    elif _DECIMAL_INTEGER.fullmatch(text):
        value = int(text.split(".", 1)[0])
        kinds.append("decimal_integer")
    elif field in FLAG_FIELDS and text.lower() in FLAG_WORDS:
        value = FLAG_WORDS[text.lower()]
        kinds.append("flag_word")
    else:
        raise _Invalid("not_integer")
    low, high = INTEGER_RANGES[field]
    if not low <= value <= high:
        raise _Invalid("out_of_range")
    return value


def _flight_duration(text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise _Invalid("not_number")
    value = float(text)
    if math.isinf(value) or not MIN_FLIGHT_DURATION_HOURS <= value <= MAX_FLIGHT_DURATION_HOURS:
        raise _Invalid("out_of_range")
    return value


def _choice(text: str, allowed: dict[str, str], kinds: list[str]) -> str:
    if text in allowed.values():
        return text
    value = allowed.get(text.lower())
    if value is None:
        raise _Invalid("not_allowed")
    kinds.append("case")
    return value


def _trip_type(text: str, kinds: list[str]) -> str:
    if text in _TRIP_TYPES.values():
        return text
    folded = text.lower()
    value = _TRIP_TYPES.get(folded)
    if value is not None:
        kinds.append("case")
        return value
    value = _TRIP_TYPES.get(re.sub(r"[\s_-]+", "", folded))
    if value is None:
        raise _Invalid("not_allowed")
    kinds.append("spelling")
    return value


def _flight_day(text: str, kinds: list[str]) -> str:
    if text in FLIGHT_DAYS:
        return text
    folded = text.lower()
    value = _FLIGHT_DAYS.get(folded)
    if value is not None:
        kinds.append("case")
        return value
    value = _FULL_DAY_NAMES.get(folded)
    if value is None:
        raise _Invalid("not_allowed")
    kinds.append("full_day_name")
    return value


def _route(text: str, kinds: list[str]) -> str:
    if _ROUTE.fullmatch(text):
        return text
    upper = text.upper()
    # Only ASCII letters upper-case to A-Z (and "ß".upper() is "SS"): check the result again.
    if text.isascii() and _ROUTE.fullmatch(upper):
        kinds.append("case")
        return upper
    raise _Invalid("bad_format")


def _booking_origin(text: str) -> str:
    if len(text) > MAX_BOOKING_ORIGIN_CHARS:
        raise _Invalid("too_long")
    return text


# One branch per kind of field in the schema: one function on purpose.
def check_field(field: str, raw: str) -> FieldResult:  # noqa: C901
    """Check one cell of ``field`` (a source field name) against its domain."""
    kinds: list[str] = []
    text = raw.strip()
    if text != raw:
        kinds.append("trimmed_spaces")
    if not text:
        return FieldResult(None, "missing", ())
    try:
        value: Any
        if field in INTEGER_RANGES:
            value = _integer(field, text, kinds)
        elif field == "flight_duration":
            value = _flight_duration(text)
        elif field == "sales_channel":
            value = _choice(text, _SALES_CHANNELS, kinds)
        elif field == "trip_type":
            value = _trip_type(text, kinds)
        elif field == "flight_day":
            value = _flight_day(text, kinds)
        elif field == "route":
            value = _route(text, kinds)
        elif field == "booking_origin":
            value = _booking_origin(text)
        else:
            raise KeyError(field)
    except _Invalid as invalid:
        return FieldResult(None, invalid.rule, ())
    return FieldResult(value, None, tuple(f"{field}:{kind}" for kind in kinds))


class ColumnChecker:
    """Checks the cells of one column, remembering results for the values it has seen.

    ``fast`` maps a cell text to its value when that text is valid as written (no normalisation):
    the pipeline looks cells up there first and only calls ``check`` on a miss.
    """

    __slots__ = ("fast", "field", "results")

    def __init__(self, field: str) -> None:
        self.field = field
        self.fast: dict[str, Any] = {}
        self.results: dict[str, FieldResult] = {}

    def check(self, raw: str) -> FieldResult:
        result = self.results.get(raw)
        if result is None:
            result = check_field(self.field, raw)
            if len(self.results) < MAX_CACHED_VALUES_PER_COLUMN:
                self.results[raw] = result
                if result.rule is None and not result.normalisations:
                    self.fast[raw] = result.value
        return result


def describe(field: str, rule: str, raw: str) -> str:
    """``field 'value' is out of range 1-9`` (the value shown bounded in size)."""
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    text = RULE_TEXT.get(rule, rule)
    if rule == "out_of_range":
        if field in INTEGER_RANGES:
            low, high = INTEGER_RANGES[field]
            text += f" {low}-{high}"
        elif field == "flight_duration":
            text += f" {MIN_FLIGHT_DURATION_HOURS}-{MAX_FLIGHT_DURATION_HOURS}"
    if rule == "missing":
        return f"{field} {text}"
    return f"{field} {shown!r} {text}"
