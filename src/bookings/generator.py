"""A faithful generator of airline booking files.

It reproduces the public "customer booking" data set: its 14 columns, their marginal
distributions, the way completion depends on origin, route, stay, lead time, hour, duration and
extra services (through non-linear shapes and interactions, so that gradient boosting clearly
beats a linear model, as on the public file), and its quirks (Latin-1 with CRLF and no final
newline, ~1.4% exact duplicates, "(not set)" origins, real IATA routes with a fixed duration per
route, gaps in length_of_stay). With ``dirty`` it also injects the faults real copies of such
files carry.

The airline's world (its airports, routes, their popularity, durations and conversion effects,
and the customers' countries) is fixed: every seed draws bookings from the same world, so a model
trained on one generated file can score another. The seed only drives the draws.

Only the standard library's ``random`` is used, so that the module imports fast; rows are
streamed, so memory stays constant whatever the number of rows.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Final

from booking_core import geo
from booking_core.schema import FLIGHT_DAYS, SOURCE_FIELDS, TRIP_TYPES

HEADER: Final = SOURCE_FIELDS
LIVE_HEADER: Final = SOURCE_FIELDS[:-1]

ENCODINGS: Final = ("latin-1", "utf-8", "utf-8-sig")
LINE_ENDINGS: Final = {"crlf": "\r\n", "lf": "\n"}

WORLD_SEED: Final = 20_190_101
ROUTE_COUNT: Final = 800
DUPLICATE_RATE: Final = 0.014
# Recent rows a duplicate may copy: exact copies sit near their original, as in the public file.
DUPLICATE_WINDOW: Final = 2_000
MIN_DURATION_HOURS: Final = 4.67
MAX_DURATION_HOURS: Final = 9.5
MAX_PURCHASE_LEAD: Final = 867
MAX_LENGTH_OF_STAY: Final = 778

# The network of the public file: Asia-Pacific, hubbed on Kuala Lumpur. Weights are relative
# traffic (how often an airport is an end of a booked route).
AIRPORT_WEIGHTS: Final[dict[str, float]] = {
    "KUL": 10, "SYD": 7, "MEL": 7, "PER": 6, "AKL": 4, "OOL": 4, "PEN": 5, "BKI": 3, "KCH": 2,
    "JHB": 1.5, "LGK": 1, "TWU": 0.5, "SIN": 3, "BKK": 3, "DMK": 4, "HKT": 4, "CNX": 1.5,
    "URT": 0.8, "KBV": 0.8, "CGK": 4, "DPS": 4, "SUB": 1.5, "LOP": 0.6, "MNL": 2.5, "CEB": 0.8,
    "CRK": 0.5, "SGN": 2, "HAN": 1.5, "DAD": 1, "RGN": 1.2, "VTE": 0.7, "BWN": 0.8, "HND": 3,
    "NRT": 2.5, "KIX": 3, "CTS": 1.5, "FUK": 0.8, "ICN": 5, "PUS": 1.2, "TPE": 4, "KHH": 0.8,
    "HKG": 3, "MFM": 2, "CAN": 2, "PVG": 2.5, "PEK": 2, "HGH": 1.5, "CTU": 1.8, "WUH": 1,
    "XIY": 1, "CKG": 1, "KWL": 0.8, "SZX": 1.2, "CSX": 0.6, "DEL": 2.5, "BOM": 2, "BLR": 1.5,
    "MAA": 1.5, "COK": 1.2, "TRZ": 0.8, "HYD": 0.8, "CCU": 0.6, "KTM": 1, "CMB": 1.5,
    "MLE": 1.2, "DAC": 0.6, "JED": 1.2, "MRU": 0.8, "IKA": 0.5, "TRV": 0.5, "BNE": 2,
    "ADL": 1.2, "DRW": 0.6, "CNS": 0.6, "CHC": 0.8,
}  # fmt: skip

# Booking origins as Google Analytics spells them, with their share of rows in the public file.
MAJOR_ORIGIN_SHARES: Final[dict[str, float]] = {
    "Australia": 35.7, "Malaysia": 14.3, "South Korea": 9.1, "Japan": 7.8, "China": 6.8,
    "Indonesia": 4.7, "Taiwan": 4.2, "Thailand": 4.1, "India": 2.5, "New Zealand": 2.1,
    "Singapore": 2.1, "United States": 0.9, "Vietnam": 0.8, "Macau": 0.6, "Hong Kong": 0.6,
    "Philippines": 0.5, "United Kingdom": 0.35, "Brunei": 0.33, "Cambodia": 0.26,
    "(not set)": 0.17,
}  # fmt: skip
TAIL_ORIGINS: Final = (
    "Sri Lanka", "Nepal", "Bangladesh", "Pakistan", "Maldives", "Saudi Arabia",
    "United Arab Emirates", "Qatar", "Oman", "Kuwait", "Bahrain", "Iran", "Iraq", "Israel",
    "Jordan", "Lebanon", "Turkey", "Cyprus", "Kazakhstan", "Mongolia", "Bhutan", "Laos",
    "Myanmar (Burma)", "Timor-Leste", "Papua New Guinea", "Fiji", "New Caledonia", "Vanuatu",
    "Solomon Islands", "Tonga", "Guam", "Norfolk Island", "Germany", "France", "Netherlands",
    "Switzerland", "Italy", "Spain", "Portugal", "Ireland", "Belgium", "Austria", "Denmark",
    "Norway", "Sweden", "Finland", "Poland", "Czech Republic", "Czechia", "Hungary", "Romania",
    "Greece", "Russia", "Ukraine", "Estonia", "Slovenia", "Slovakia", "Croatia", "Canada",
    "Mexico", "Brazil", "Chile", "Argentina", "Peru", "Colombia", "Guatemala", "Panama", "Egypt",
    "Kenya", "South Africa", "Nigeria", "Ghana", "Tanzania", "Mauritius", "Seychelles",
    "Réunion", "Algeria", "Tunisia", "Morocco", "Zimbabwe", "Svalbard & Jan Mayen", "Iceland",
    "Afghanistan", "Bulgaria",
)  # fmt: skip
TAIL_ORIGINS_SHARE: Final = 2.21

# Completion rate by origin in the public file's spirit: Malaysians and Indonesians convert
# far above the average, Australians far below.
ORIGIN_COMPLETION: Final[dict[str, float]] = {
    "Australia": 0.06, "Malaysia": 0.36, "South Korea": 0.09, "Japan": 0.10, "China": 0.24,
    "Indonesia": 0.30, "Taiwan": 0.12, "Thailand": 0.15, "India": 0.12, "New Zealand": 0.08,
    "Singapore": 0.17, "United States": 0.10, "Vietnam": 0.11, "Macau": 0.10, "Hong Kong": 0.12,
    "Philippines": 0.09, "United Kingdom": 0.09, "Brunei": 0.16, "Cambodia": 0.15,
    "(not set)": 0.09,
}  # fmt: skip
# Each origin's own term of the completion log-odds, calibrated (over 300,000 generated rows) so
# that its completion rate matches ORIGIN_COMPLETION once every other term is added.
ORIGIN_LOGITS: Final[dict[str, float]] = {
    "Australia": -4.828, "Malaysia": -1.403, "South Korea": -3.446, "Japan": -3.54, "China": -1.856,
    "Indonesia": -1.354, "Taiwan": -2.827, "Thailand": -2.365, "India": -3.095,
    "New Zealand": -4.239, "Singapore": -2.57, "United States": -2.924, "Vietnam": -2.758,
    "Macau": -3.865, "Hong Kong": -2.652, "Philippines": -2.877, "United Kingdom": -2.933,
    "Brunei": -2.161, "Cambodia": -2.315, "(not set)": -2.904,
}  # fmt: skip
TAIL_ORIGIN_LOGIT: Final = -2.76
# Share of an origin's bookings on routes touching its own country (the rest: anywhere).
HOME_ROUTE_SHARE: Final = 0.75
HOME_ROUTE_BONUS: Final = 0.8
COMPLETION_INTERCEPT: Final = -0.85
ROUTE_EFFECT_SD: Final = 0.4
# Completion against purchase lead: a bump on the log-days scale, peaking near two months.
LEAD_PEAK_LOG_DAYS: Final = 4.0
LEAD_WIDTH_LOG_DAYS: Final = 1.2
LEAD_EFFECT_RANGE: Final = 2.0
LONG_HAUL_HOURS: Final = 8.0
# Origins whose home routes average this many hours or fewer count as short-haul (haul 0), and
# this many more as fully long-haul (haul 1).
SHORT_HAUL_ORIGIN_HOURS: Final = 6.0
HAUL_SPAN_HOURS: Final = 2.5

PASSENGER_WEIGHTS: Final = (62.7, 25.6, 5.9, 3.6, 1.1, 0.6, 0.23, 0.18, 0.13)
INTERNET_SHARE: Final = 0.888
TRIP_TYPE_WEIGHTS: Final = (99.0, 0.77, 0.23)  # RoundTrip, OneWay, CircleTrip
FLIGHT_DAY_WEIGHTS: Final = (16.2, 15.3, 15.3, 14.8, 13.5, 11.6, 13.1)
# Relative departures by hour 0-23: a morning bank, a midday bank, few evening departures.
FLIGHT_HOUR_WEIGHTS: Final = (
    4.0, 4.4, 4.8, 4.8, 4.8, 5.2, 6.0, 6.2, 6.6, 6.6, 6.4, 6.2,
    6.2, 5.8, 5.4, 4.6, 3.8, 3.4, 2.0, 1.4, 1.0, 0.8, 0.6, 0.5,
)  # fmt: skip
EXTRA_BAGGAGE_RATE: Final = 0.669
PREFERRED_SEAT_RATE: Final = 0.297
IN_FLIGHT_MEALS_RATE: Final = 0.427


# Faults injected by ``dirty``: kind -> relative weight. Every kind but "mangled_origin" makes
# the raw row fail the source schema (normalisable case and padding included).
FAULT_WEIGHTS: Final[dict[str, float]] = {
    "out_of_range": 3,
    "blank_field": 2,
    "unknown_category": 2,
    "case_or_padding": 2,
    "malformed_route": 1.5,
    "non_numeric": 1.5,
    "extra_field": 1,
    "mangled_origin": 1,
    "repeated_header": 0.5,
}
SCHEMA_VALID_FAULTS: Final = frozenset({"mangled_origin"})
# Blank lines are not rows: one is inserted for this fraction of the dirty rows.
BLANK_LINE_RATE: Final = 0.1


def _cumulative(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


@dataclass(frozen=True, slots=True)
class Route:
    code: str
    duration: float
    countries: frozenset[str]
    effect: float


@dataclass(frozen=True)
class World:
    routes: tuple[Route, ...]
    route_cumulative: list[float]
    origins: tuple[str, ...]
    origin_cumulative: list[float]
    origin_effects: dict[str, float]
    # per origin: 0 (its customers fly short-haul) to 1 (long-haul)
    origin_haul: dict[str, float]
    # per origin: (its home routes, cumulative popularity) or None
    home_routes: dict[str, tuple[tuple[Route, ...], list[float]] | None]
    allowed_long_stays: list[int] = field(default_factory=list)


def route_duration_hours(distance_km: float) -> float:
    """Scheduled hours of a route from its great-circle distance (taxi, climb, cruise)."""
    hours = 0.6 + distance_km / 780.0
    return round(min(MAX_DURATION_HOURS, max(MIN_DURATION_HOURS, hours)), 2)


@cache
def world() -> World:
    """The airline's world, the same for every seed."""
    rng = random.Random(WORLD_SEED)
    codes = sorted(AIRPORT_WEIGHTS)
    airports = {code: geo.airport(code) for code in codes}
    candidates: list[tuple[str, float]] = []
    for i, first in enumerate(codes):
        for second in codes[i + 1 :]:
            a, b = airports[first], airports[second]
            if a.country == b.country and a.country != "MY":
                continue
            # Popularity: both ends' traffic, a skewed random factor (some routes are hits).
            weight = AIRPORT_WEIGHTS[first] * AIRPORT_WEIGHTS[second] * rng.paretovariate(1.6)
            candidates.append((first + second, weight))
    # Weighted sampling without replacement of the network's routes.
    keyed = sorted(candidates, key=lambda item: rng.random() ** (1.0 / item[1]), reverse=True)
    chosen = sorted(keyed[:ROUTE_COUNT])
    routes = []
    popularity = []
    for code, weight in chosen:
        a, b = airports[code[:3]], airports[code[3:]]
        distance = geo.airport_distance_km(a, b) or 0.0
        duration = route_duration_hours(distance)
        effect = rng.gauss(0.0, ROUTE_EFFECT_SD)
        routes.append(
            Route(code, duration, frozenset(c for c in (a.country, b.country) if c), effect)
        )
        popularity.append(weight * (1.3 if duration >= 7 else 1.0))
    route_cumulative = _cumulative(popularity)

    tail_weights = [1.0 / (rank + 2) ** 1.1 for rank in range(len(TAIL_ORIGINS))]
    tail_scale = TAIL_ORIGINS_SHARE / sum(tail_weights)
    origins = (*MAJOR_ORIGIN_SHARES, *TAIL_ORIGINS)
    shares = [*MAJOR_ORIGIN_SHARES.values(), *(w * tail_scale for w in tail_weights)]
    home_routes: dict[str, tuple[tuple[Route, ...], list[float]] | None] = {}
    origin_haul: dict[str, float] = {}
    network_hours = sum(r.duration * w for r, w in zip(routes, popularity, strict=True))
    network_hours /= sum(popularity)
    for name in origins:
        country = geo.country_code(name)
        indexes = [i for i, route in enumerate(routes) if country in route.countries]
        home_hours = network_hours
        if indexes:
            home_hours = sum(routes[i].duration * popularity[i] for i in indexes)
            home_hours /= sum(popularity[i] for i in indexes)
        origin_haul[name] = min(
            1.0, max(0.0, (home_hours - SHORT_HAUL_ORIGIN_HOURS) / HAUL_SPAN_HOURS)
        )
        if not indexes:
            home_routes[name] = None
            continue
        home_routes[name] = (
            tuple(routes[i] for i in indexes),
            _cumulative(popularity[i] for i in indexes),
        )

    origin_effects = dict(ORIGIN_LOGITS)
    for name in TAIL_ORIGINS:
        origin_effects[name] = TAIL_ORIGIN_LOGIT + rng.gauss(0.0, 0.6)

    # Long stays occur only on some values: the public file's gaps above two months.
    long_stays = sorted(rng.sample(range(61, MAX_LENGTH_OF_STAY + 1), 90))
    return World(
        routes=tuple(routes),
        route_cumulative=route_cumulative,
        origins=origins,
        origin_cumulative=_cumulative(shares),
        origin_effects=origin_effects,
        origin_haul=origin_haul,
        home_routes=home_routes,
        allowed_long_stays=[*range(61), *long_stays],
    )


def _pick(rng: random.Random, items: tuple[Any, ...], cumulative: list[float]) -> Any:
    return items[bisect_left(cumulative, rng.random() * cumulative[-1])]


def _purchase_lead(rng: random.Random) -> int:
    while True:
        if rng.random() < 0.03:
            days = rng.expovariate(1 / 130.0) + 150
        else:
            days = rng.gammavariate(0.95, 80.0)
        if days <= MAX_PURCHASE_LEAD:
            return int(days)


def _length_of_stay(rng: random.Random, allowed: list[int]) -> int:
    u = rng.random()
    if u < 0.03:
        days = rng.randint(0, 3)
    elif u < 0.38:
        days = round(rng.triangular(2, 9, 5))
    elif u < 0.855:
        days = round(rng.gauss(22, 6))
    elif u < 0.997:
        days = round(27 + rng.expovariate(1 / 42.0))
    else:
        days = rng.randint(61, MAX_LENGTH_OF_STAY)
    days = min(MAX_LENGTH_OF_STAY, max(0, days))
    # Snap to a value that occurs in the public file (exact below two months).
    index = bisect_left(allowed, days)
    return allowed[min(index, len(allowed) - 1)]


def _lead_effect(lead: int) -> float:
    """Completion peaks for bookings made one to three months ahead, on a log-days scale."""
    distance = (math.log1p(lead) - LEAD_PEAK_LOG_DAYS) / LEAD_WIDTH_LOG_DAYS
    return LEAD_EFFECT_RANGE * (math.exp(-distance * distance) - 0.5)


def _stay_effect(stay: int) -> float:
    """Short holidays complete far more often; beyond a month the stay no longer matters."""
    if stay < 3:
        return -0.3
    if stay <= 6:
        return 1.0
    if stay <= 30:
        return 0.9 - 1.5 * (stay - 6) / 24
    return -0.6


def _hour_effect(hour: int, duration: float) -> float:
    """Long-haul flights sell best as overnight departures, shorter ones in the morning."""
    if duration >= LONG_HAUL_HOURS:
        if hour <= 4 or hour >= 21:
            return 0.8
        return -0.5 if 10 <= hour <= 16 else 0.0
    if 6 <= hour <= 11:
        return 0.6
    return -0.5 if hour >= 18 or hour <= 3 else 0.0


def _completion_logit(
    row: dict[str, Any], route: Route, origin_effect: float, origin_haul: float, home: bool
) -> float:
    """The log-odds that a booking is completed: origin and route effects, non-linear shapes of
    lead time, stay and hour, and interactions between them, the services and the origin."""
    stay = row["length_of_stay"]
    lead = row["purchase_lead"]
    hour = row["flight_hour"]
    meals = row["wants_in_flight_meals"]
    extras = row["wants_extra_baggage"] + row["wants_preferred_seat"] + meals
    logit: float = origin_effect + route.effect + COMPLETION_INTERCEPT
    # Extra baggage matters to customers of long-haul origins, hardly to short-haul ones.
    logit += row["wants_extra_baggage"] * (0.05 + 0.9 * origin_haul)
    logit += 0.3 * row["wants_preferred_seat"]
    logit += 0.35 if extras == 3 else 0.0
    # Meals matter on long flights only.
    logit += meals * (0.6 if route.duration >= 8 else -0.3)
    # Customers on routes touching their own country convert better, the more so on long flights.
    if home:
        logit += HOME_ROUTE_BONUS + 0.15 * (route.duration - 7.0)
    else:
        logit -= 0.3 * (route.duration - 7.0)
    logit += _stay_effect(stay) + _lead_effect(lead) + _hour_effect(hour, route.duration)
    # Short-notice short trips (business) convert, other last-minute searches do not.
    if lead <= 14:
        logit += 0.8 if stay <= 3 else -0.3
    # Mobile converts worse, except in the evening and for customers at home.
    if row["sales_channel"] == "Mobile":
        logit += 0.2 if hour >= 18 else -0.3 if home else -0.75
    logit -= 0.8 if row["trip_type"] != "RoundTrip" else 0.0
    logit += 0.1 * (row["num_passengers"] == 1) - 0.15 * (row["num_passengers"] >= 4)
    logit += 0.1 if row["flight_day"] in ("Sat", "Wed") else 0.0
    return logit


def _booking(rng: random.Random, world_: World) -> dict[str, Any]:
    origin = _pick(rng, world_.origins, world_.origin_cumulative)
    home = world_.home_routes[origin]
    if home is not None and rng.random() < HOME_ROUTE_SHARE:
        route = _pick(rng, home[0], home[1])
        at_home = True
    else:
        route = _pick(rng, world_.routes, world_.route_cumulative)
        at_home = home is not None and route in home[0]
    trip_type = TRIP_TYPES[bisect_left(_TRIP_CUMULATIVE, rng.random() * _TRIP_CUMULATIVE[-1])]
    stay = _length_of_stay(rng, world_.allowed_long_stays)
    # Longer stays travel with more luggage; seat and meal choices go together.
    baggage_rate = min(0.95, EXTRA_BAGGAGE_RATE + 0.004 * (stay - 23))
    comfort = rng.random()
    row: dict[str, Any] = {
        "num_passengers": bisect_left(_PASSENGER_CUMULATIVE, rng.random() * 100.0) + 1,
        "sales_channel": "Internet" if rng.random() < INTERNET_SHARE else "Mobile",
        "trip_type": trip_type,
        "purchase_lead": _purchase_lead(rng),
        "length_of_stay": stay,
        "flight_hour": bisect_left(_HOUR_CUMULATIVE, rng.random() * _HOUR_CUMULATIVE[-1]),
        "flight_day": FLIGHT_DAYS[bisect_left(_DAY_CUMULATIVE, rng.random() * _DAY_CUMULATIVE[-1])],
        "route": route.code,
        "booking_origin": origin,
        "wants_extra_baggage": int(rng.random() < baggage_rate),
        "wants_preferred_seat": int(
            rng.random() < (PREFERRED_SEAT_RATE * (1.5 if comfort < 0.4 else 0.67))
        ),
        "wants_in_flight_meals": int(
            rng.random() < (IN_FLIGHT_MEALS_RATE * (1.3 if comfort < 0.4 else 0.8))
        ),
        "flight_duration": route.duration,
    }
    logit = _completion_logit(
        row, route, world_.origin_effects[origin], world_.origin_haul[origin], at_home
    )
    row["booking_complete"] = int(rng.random() < 1.0 / (1.0 + math.exp(-logit)))
    return row


_PASSENGER_CUMULATIVE: Final = _cumulative(PASSENGER_WEIGHTS)
_HOUR_CUMULATIVE: Final = _cumulative(FLIGHT_HOUR_WEIGHTS)
_DAY_CUMULATIVE: Final = _cumulative(FLIGHT_DAY_WEIGHTS)
_TRIP_CUMULATIVE: Final = _cumulative(TRIP_TYPE_WEIGHTS)


def generate_rows(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """``n`` bookings (the 14 source fields, typed), deterministic for ``seed``.

    About 1.4% are exact copies of a recent earlier row, as in the public file.
    """
    rng = random.Random(seed)
    world_ = world()
    recent: deque[dict[str, Any]] = deque(maxlen=DUPLICATE_WINDOW)
    for index in range(n):
        if index > 0 and rng.random() < DUPLICATE_RATE:
            original = recent[int(rng.random() * len(recent))]
            yield dict(original)
            continue
        row = _booking(rng, world_)
        recent.append(row)
        yield dict(row)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if value != int(value) else f"{value:.1f}"
    return str(value)


@dataclass
class WriteSummary:
    rows: int = 0
    lines: int = 0
    blank_lines: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    @property
    def faulty_rows(self) -> int:
        return sum(self.faults.values())


_FAULT_KINDS: Final = tuple(FAULT_WEIGHTS)
_FAULT_CUMULATIVE: Final = _cumulative(FAULT_WEIGHTS.values())
_NUMERIC_FIELDS: Final = (
    "num_passengers",
    "purchase_lead",
    "length_of_stay",
    "flight_hour",
    "flight_duration",
)


def _inject_fault(
    kind: str, values: list[str], header: tuple[str, ...], rng: random.Random
) -> list[str]:
    """A copy of the row's text fields with one realistic fault of the given kind."""
    position = {name: i for i, name in enumerate(header)}
    faulty = list(values)
    if kind == "out_of_range":
        name, bad = rng.choice(
            (
                ("num_passengers", "0"),
                ("num_passengers", "12"),
                ("purchase_lead", "-3"),
                ("purchase_lead", "4380"),
                ("length_of_stay", "99999"),
                ("flight_hour", "24"),
                ("flight_duration", "0.0"),
                ("flight_duration", "31.5"),
                ("wants_extra_baggage", "2"),
                ("wants_in_flight_meals", "-1"),
            )
        )
        faulty[position[name]] = bad
    elif kind == "blank_field":
        name = rng.choice(header[:13])
        # A blank origin is empty: a space is a (meaningless) country name to the schema.
        faulty[position[name]] = "" if name == "booking_origin" else rng.choice(("", " "))
    elif kind == "unknown_category":
        name, bad = rng.choice(
            (
                ("sales_channel", "Internat"),
                ("sales_channel", "Tablet"),
                ("trip_type", "Return"),
                ("flight_day", "Mnd"),
            )
        )
        faulty[position[name]] = bad
    elif kind == "case_or_padding":
        name = rng.choice(("sales_channel", "trip_type", "flight_day"))
        text = faulty[position[name]]
        faulty[position[name]] = rng.choice((text.lower(), text.upper(), f" {text} ", f"{text} "))
    elif kind == "malformed_route":
        route = faulty[position["route"]]
        faulty[position["route"]] = rng.choice(
            (
                f"{route[:3]}-{route[3:]}",
                route[:5],
                f"{route}X",
                "123456",
                f"{route[:3]} {route[3:]}",
            )
        )
    elif kind == "non_numeric":
        name = rng.choice(_NUMERIC_FIELDS)
        faulty[position[name]] = rng.choice(("N/A", "abc", "two", "#VALUE!", "5 days"))
    elif kind == "extra_field":
        # An unquoted comma, as when a country name with a comma is pasted in.
        faulty[position["booking_origin"]] = rng.choice(
            ("Korea, Republic of", "Taiwan, Province of China", "Iran, Islamic Republic of")
        )
    elif kind == "mangled_origin":
        origin = faulty[position["booking_origin"]]
        mangled = origin.encode("utf-8").decode("latin-1")
        faulty[position["booking_origin"]] = mangled if mangled != origin else "RÃ©union"
    elif kind == "repeated_header":
        faulty = list(header)
    return faulty


def write_csv(
    path: str | Path,
    rows: Iterable[dict[str, Any]],
    *,
    encoding: str = "latin-1",
    line_endings: str = "crlf",
    dirty: float = 0.0,
    outcome: bool = True,
    seed: int = 0,
) -> WriteSummary:
    """Write bookings as the public file is written: no quoting, no final newline by default.

    ``dirty`` is the fraction of rows that get one fault (see ``FAULT_WEIGHTS``), drawn from
    ``seed``; ``outcome=False`` leaves out ``booking_complete`` (live bookings).
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    if line_endings not in LINE_ENDINGS:
        raise ValueError(f"line endings must be crlf or lf, not {line_endings!r}")
    if not 0.0 <= dirty <= 1.0:
        raise ValueError(f"dirty must be a fraction between 0 and 1, not {dirty}")
    newline = LINE_ENDINGS[line_endings]
    header = HEADER if outcome else LIVE_HEADER
    fault_rng = random.Random(f"faults:{seed}")
    summary = WriteSummary()
    buffer: list[str] = [",".join(header)]
    separator = ""
    with open(path, "w", encoding=encoding, newline="") as handle:
        for row in rows:
            values = [_format(row[name]) for name in header]
            if dirty and fault_rng.random() < dirty:
                kind = _FAULT_KINDS[
                    bisect_left(_FAULT_CUMULATIVE, fault_rng.random() * _FAULT_CUMULATIVE[-1])
                ]
                values = _inject_fault(kind, values, header, fault_rng)
                summary.faults[kind] = summary.faults.get(kind, 0) + 1
                if fault_rng.random() < BLANK_LINE_RATE:
                    buffer.append("")
                    summary.blank_lines += 1
            buffer.append(",".join(values))
            summary.rows += 1
            if len(buffer) >= 4096:
                # Each line after the first is preceded by a separator: no final newline.
                handle.write(separator + newline.join(buffer))
                summary.lines += len(buffer)
                separator = newline
                buffer = []
        if buffer:
            handle.write(separator + newline.join(buffer))
            summary.lines += len(buffer)
    return summary
