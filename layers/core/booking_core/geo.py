"""Airports, countries and regions from maintained data: ``airportsdata`` and ``pycountry``.

Regions are derived, not typed in: a country's region is the continent of the IANA time zones of
its airports (``Asia/...`` -> Asia, ``America/...`` -> Americas, ``Australia/...`` and
``Pacific/...`` -> Oceania, ...). Only the ocean time zones (``Atlantic/...``, ``Indian/...``) say
nothing about the continent; for the few countries whose airports all lie in them the region is
resolved by the country. Airports and booking origins use the same function, so they agree.

Booking origins are country names as analytics tools spell them, sometimes mangled by a
re-save: UTF-8 read as Latin-1 (``RÃ©union``) is repaired, and a character lost to ``?`` or
U+FFFD (``R?union``) is filled in when exactly one country's name fits.

Every lookup is cached: the tables load once per process, lazily, and each distinct code or name
is resolved once (per-value caches are bounded, so that no file can grow them without limit).
"""

from __future__ import annotations

import math
import re
import unicodedata
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

UNKNOWN_REGION: Final = "unknown"
UNKNOWN_CODE: Final = "unknown"

REGIONS: Final = ("Africa", "Americas", "Antarctica", "Asia", "Europe", "Oceania")

# The first part of an IANA time zone name -> region.
TIME_ZONE_AREA_REGIONS: Final[dict[str, str]] = {
    "Africa": "Africa",
    "America": "Americas",
    "Antarctica": "Antarctica",
    "Arctic": "Europe",
    "Asia": "Asia",
    "Australia": "Oceania",
    "Europe": "Europe",
    "Pacific": "Oceania",
}
# Countries whose time zones are all ocean zones (Atlantic/..., Indian/...): the zone name does not
# tell the continent, the UN geoscheme does.
OCEAN_ZONE_COUNTRY_REGIONS: Final[dict[str, str]] = {
    "BM": "Americas",
    "FK": "Americas",
    "GS": "Americas",
    "CV": "Africa",
    "SH": "Africa",
    "IS": "Europe",
    "FO": "Europe",
    "CC": "Oceania",
    "CX": "Oceania",
    "IO": "Africa",
    "KM": "Africa",
    "MG": "Africa",
    "MU": "Africa",
    "RE": "Africa",
    "SC": "Africa",
    "TF": "Africa",
    "YT": "Africa",
    "MV": "Asia",
}
# Transcontinental countries whose airports mostly lie in the other continent's time zones.
TRANSCONTINENTAL_COUNTRY_REGIONS: Final[dict[str, str]] = {"RU": "Europe"}

# Country names as web analytics tools (Google Analytics) spell them where ISO 3166 and its
# common names differ, keyed by their case-folded spelling.
ANALYTICS_COUNTRY_NAMES: Final[dict[str, str]] = {
    "macau": "MO",
    "turkey": "TR",
    "swaziland": "SZ",
    "cape verde": "CV",
    "kosovo": "XK",
    "congo - kinshasa": "CD",
    "congo - brazzaville": "CG",
    "north korea": "KP",
    "south korea": "KR",
    "laos": "LA",
    "vietnam": "VN",
    "micronesia": "FM",
    "caribbean netherlands": "BQ",
    "u.s. virgin islands": "VI",
    "u.s. outlying islands": "UM",
    "st. martin": "MF",
    "sint maarten": "SX",
    "falkland islands (islas malvinas)": "FK",
}
NOT_SET_NAMES: Final = frozenset({"", "(not set)", "not set", "(none)", "none", "unknown", "n/a"})

EARTH_RADIUS_KM: Final = 6371.0088


# Airports that closed and that airportsdata has since dropped, while booking files of their
# time still name them (the public reference file flies to both). Only codes missing from the
# package are taken from here.
RETIRED_AIRPORTS: Final[dict[str, Mapping[str, Any]]] = {
    "PNH": {
        "iata": "PNH",
        "name": "Phnom Penh International Airport (closed 2025, replaced by KTI)",
        "city": "Phnom Penh",
        "country": "KH",
        "tz": "Asia/Phnom_Penh",
        "lat": 11.5466,
        "lon": 104.8441,
    },
    "REP": {
        "iata": "REP",
        "name": "Siem Reap International Airport (closed 2023, replaced by SAI)",
        "city": "Siem Reap",
        "country": "KH",
        "tz": "Asia/Phnom_Penh",
        "lat": 13.4107,
        "lon": 103.8128,
    },
}


def load_tables() -> None:
    """Load the airport and country tables now rather than at the first look-up (a process
    about to fork workers loads them once for all of them)."""
    _country_zone_areas()
    _country_names()


@dataclass(frozen=True, slots=True)
class Airport:
    iata: str
    city: str | None
    country: str | None
    region: str
    timezone: str | None
    latitude: float | None
    longitude: float | None


@cache
def airports() -> Mapping[str, Mapping[str, Any]]:
    """The IATA airport table of ``airportsdata`` (loaded once per process)."""
    import airportsdata

    table: dict[str, Mapping[str, Any]] = dict(airportsdata.load("IATA"))
    for code, record in RETIRED_AIRPORTS.items():
        table.setdefault(code, record)
    return table


@cache
def _country_zone_areas() -> dict[str, Counter[str]]:
    areas: dict[str, Counter[str]] = {}
    for record in airports().values():
        country = record.get("country") or ""
        zone = record.get("tz") or ""
        if country and zone:
            areas.setdefault(country, Counter())[zone.split("/", 1)[0]] += 1
    for country, zone in _system_zone_table():
        if country not in areas:
            areas.setdefault(country, Counter())[zone.split("/", 1)[0]] += 1
    return areas


def _system_zone_table() -> list[tuple[str, str]]:
    """(country, zone) pairs of the IANA ``zone.tab``, for countries without a listed airport."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        pairs = []
        for line in text.splitlines():
            if line and not line.startswith("#"):
                parts = line.split("\t")
                if len(parts) >= 3:
                    pairs.append((parts[0], parts[2]))
        return pairs
    return []


@lru_cache(maxsize=1024)
def region_of_country(country_code: str | None) -> str:
    """The region of an ISO 3166-1 alpha-2 code, or ``unknown``."""
    if not country_code or country_code == UNKNOWN_CODE:
        return UNKNOWN_REGION
    if country_code in TRANSCONTINENTAL_COUNTRY_REGIONS:
        return TRANSCONTINENTAL_COUNTRY_REGIONS[country_code]
    areas = _country_zone_areas().get(country_code)
    if areas:
        for area, _count in areas.most_common():
            if area in TIME_ZONE_AREA_REGIONS:
                return TIME_ZONE_AREA_REGIONS[area]
    return OCEAN_ZONE_COUNTRY_REGIONS.get(country_code, UNKNOWN_REGION)


# Bounded (like every per-value cache): callers may pass any text, not only IATA codes.
@lru_cache(maxsize=20_000)
def airport(code: str) -> Airport:
    """An airport by IATA code; an unknown code gives an airport with unknown attributes."""
    record = airports().get(code)
    if record is None:
        return Airport(code, None, None, UNKNOWN_REGION, None, None, None)
    country = record.get("country") or None
    return Airport(
        iata=code,
        city=record.get("city") or None,
        country=country,
        region=region_of_country(country),
        timezone=record.get("tz") or None,
        latitude=float(record["lat"]),
        longitude=float(record["lon"]),
    )


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def airport_distance_km(origin: Airport, destination: Airport) -> float | None:
    if (
        origin.latitude is None
        or origin.longitude is None
        or destination.latitude is None
        or destination.longitude is None
    ):
        return None
    return round(
        great_circle_km(
            origin.latitude, origin.longitude, destination.latitude, destination.longitude
        ),
        1,
    )


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Latin-1/CP1252 (``RÃ©union`` -> ``Réunion``)."""
    for encoding in ("latin-1", "cp1252"):
        try:
            repaired = text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        if repaired != text:
            return repaired
    return text


_SAINT = re.compile(r"\bSt\.?\s", re.IGNORECASE)
_PARENTHESISED = re.compile(r"\s*\(([^)]*)\)\s*")


def _spellings(name: str) -> list[str]:
    """The name and the variants analytics tools use: '&' for 'and', 'St.', '(alias)'."""
    base = name.replace("\u2019", "'").replace("\u2018", "'")
    variants = [base]
    variants.append(base.replace(" & ", " and ").replace("&", "and"))
    variants.append(_SAINT.sub("Saint ", variants[-1]))
    for variant in list(variants):
        match = _PARENTHESISED.search(variant)
        if match:
            variants.append(_PARENTHESISED.sub(" ", variant).strip())
            variants.append(match.group(1).strip())
    seen: list[str] = []
    for variant in variants:
        if variant and variant not in seen:
            seen.append(variant)
    return seen


@cache
def _country_names() -> list[tuple[str, str]]:
    import pycountry

    names = []
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names.append((str(value).casefold(), str(country.alpha_2)))
    return names


def _exact_lookup(name: str) -> str | None:
    """The country whose name, code or alias is ``name``, or the one whose names contain it."""
    import pycountry

    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        pass
    # A name that is part of exactly one country's names ("Iran" in "Iran, Islamic Republic of").
    folded = name.casefold()
    if len(folded) >= 4:
        codes = {code for full, code in _country_names() if folded in full}
        if len(codes) == 1:
            return codes.pop()
    return None


def _fuzzy_lookup(name: str) -> str | None:
    import pycountry

    try:
        matches = pycountry.countries.search_fuzzy(name)
    except LookupError:
        return None
    # An ambiguous fuzzy match ("Korea") is no match.
    return str(matches[0].alpha_2) if len(matches) == 1 else None


@lru_cache(maxsize=4096)
def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name as booking files spell it, or None."""
    cleaned = unicodedata.normalize("NFC", " ".join(name.split()))
    if cleaned.casefold() in NOT_SET_NAMES:
        return None
    candidates = [cleaned]
    repaired = repair_mojibake(cleaned)
    if repaired != cleaned:
        candidates.insert(0, unicodedata.normalize("NFC", repaired))
    spellings = list(
        dict.fromkeys(
            spelling for candidate in candidates for spelling in (candidate, *_spellings(candidate))
        )
    )
    for spelling in spellings:
        alias = ANALYTICS_COUNTRY_NAMES.get(spelling.casefold())
        if alias:
            return alias
    # Every exact spelling before any fuzzy search: "Myanmar (Burma)" is "Myanmar", and a fuzzy
    # search is slow (it scores every country).
    for lookup in (_exact_lookup, _fuzzy_lookup):
        for spelling in spellings:
            code = lookup(spelling)
            if code:
                return code
    return _lost_characters_match(cleaned)


# A character a conversion could not represent became "?" or U+FFFD, one per byte of its UTF-8
# form or one per character ("R?union", "R??union", "R\ufffdunion").
_LOST = re.compile("[?\ufffd]+")
MIN_KEPT_LETTERS: Final = 4


def _lost_characters_match(name: str) -> str | None:
    """The one country whose name fits ``name`` with its lost characters filled in, if any."""
    if not _LOST.search(name) or len(_LOST.sub("", name)) < MIN_KEPT_LETTERS:
        return None
    parts = _LOST.split(name.casefold())
    runs = [len(run) for run in _LOST.findall(name)]
    pattern = re.escape(parts[0]) + "".join(
        f".{{{(run + 1) // 2},{run}}}" + re.escape(part)
        for run, part in zip(runs, parts[1:], strict=True)
    )
    matcher = re.compile(pattern)
    known = [*_country_names(), *ANALYTICS_COUNTRY_NAMES.items()]
    codes = {code for full, code in known if matcher.fullmatch(full)}
    return codes.pop() if len(codes) == 1 else None


@lru_cache(maxsize=4096)
def country_and_region(name: str) -> tuple[str, str]:
    """(ISO code or 'unknown', region or 'unknown') for a booking origin name."""
    code = country_code(name)
    if code is None:
        return UNKNOWN_CODE, UNKNOWN_REGION
    return code, region_of_country(code)
