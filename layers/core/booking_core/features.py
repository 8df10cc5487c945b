"""The model's features: their specification and the encoder that turns a booking into numbers.

One code path builds features at training time and at inference time: the training code fits a
``FeatureSpec`` on enriched bookings (it learns the category vocabularies), saves it with the model
as ``feature_spec.json``, and the scorer loads it back and encodes with the same ``encode_record``.
The batch scorer in ``bookings.ml`` has a vectorised twin of ``encode_record`` built from the same
spec; the tests hold the two to exactly the same matrix.

Encoding rules:

- numeric features: ``float(value)``; booleans become 1.0/0.0; missing or unparsable values
  become NaN (the boosting library routes missing values on its own).
- categorical features: the 1-based position of ``str(value)`` in the vocabulary learned from the
  training data; 0 stands for "other": rare in training, unseen, or missing.
- target-encoded features (``kind == "target"``): the smoothed completion rate of the category in
  the training data, ``(completions + m * prior) / (bookings + m)``; categories rare in training,
  unseen or missing share the rate of the "other" group. The trainer chooses, by
  cross-validation, whether a high-cardinality category (route, country, airport) is a native
  categorical, a target-encoded number, or both.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from booking_core.schema import FIELD_TIERS, SCHEMA_VERSION, TIERS

# 1.1: target-encoded features (readers of 1.0 refuse them by their unknown kind).
FEATURE_SPEC_VERSION: Final = "1.1.0"
OTHER_CODE: Final = 0
# A category seen fewer times than this in the training data falls into "other": rare values
# carry too little evidence and would let the trees memorise single bookings.
DEFAULT_MIN_CATEGORY_COUNT: Final = 20

FeatureKind = Literal["numeric", "categorical", "target"]
FEATURE_KINDS: Final = ("numeric", "categorical", "target")


@dataclass(frozen=True)
class FeatureDefinition:
    """One model input: the enriched field it reads, its encoding and its tier."""

    name: str
    kind: FeatureKind
    source: str
    tier: str
    description: str


def _tier_of(source_field: str) -> str:
    for tier, fields in FIELD_TIERS.items():
        if source_field in fields:
            return tier
    raise KeyError(source_field)


def _feature(
    name: str, kind: FeatureKind, description: str, *, source: str | None = None, base: str
) -> FeatureDefinition:
    return FeatureDefinition(
        name=name, kind=kind, source=source or name, tier=_tier_of(base), description=description
    )


# Every derived feature belongs to the tier of the source field it is derived from, so that the
# tier comparison measures what each group of collected fields is worth.
FEATURE_DEFINITIONS: Final[tuple[FeatureDefinition, ...]] = (
    _feature("num_passengers", "numeric", "passengers in the booking", base="num_passengers"),
    _feature("sales_channel", "categorical", "Internet or Mobile", base="sales_channel"),
    _feature("trip_type", "categorical", "RoundTrip, OneWay, CircleTrip", base="trip_type"),
    _feature(
        "purchase_lead", "numeric", "days between purchase and departure", base="purchase_lead"
    ),
    _feature("length_of_stay", "numeric", "days at the destination", base="length_of_stay"),
    _feature(
        "booking_origin",
        "categorical",
        "country the booking was made from (ISO code)",
        source="booking_origin_code",
        base="booking_origin",
    ),
    _feature(
        "booking_origin_region",
        "categorical",
        "region of the booking country",
        base="booking_origin",
    ),
    _feature("route", "categorical", "origin + destination airport codes", base="route"),
    _feature("origin_airport", "categorical", "departure airport", base="route"),
    _feature("destination_airport", "categorical", "arrival airport", base="route"),
    _feature("origin_region", "categorical", "region of the departure airport", base="route"),
    _feature("destination_region", "categorical", "region of the arrival airport", base="route"),
    _feature("route_distance_km", "numeric", "great-circle distance of the route", base="route"),
    _feature("is_domestic", "numeric", "both airports in one country", base="route"),
    _feature("flight_hour", "numeric", "hour of departure", base="flight_hour"),
    _feature("flight_day", "categorical", "day of the week of departure", base="flight_day"),
    _feature("is_weekend", "numeric", "departure on a weekend day", base="flight_day"),
    _feature(
        "flight_duration", "numeric", "scheduled flight time in hours", base="flight_duration"
    ),
    _feature(
        "wants_extra_baggage", "numeric", "extra baggage requested", base="wants_extra_baggage"
    ),
    _feature(
        "wants_preferred_seat", "numeric", "preferred seat requested", base="wants_preferred_seat"
    ),
    _feature(
        "wants_in_flight_meals",
        "numeric",
        "in-flight meals requested",
        base="wants_in_flight_meals",
    ),
    _feature(
        "extra_services_count",
        "numeric",
        "number of extra services requested (0-3)",
        base="wants_extra_baggage",
    ),
)


# The features that are the reference file's 13 input columns as they are, plus the route's two
# airports: what a plain model on the source columns sees.
SOURCE_FEATURE_NAMES: Final = frozenset(
    {
        "num_passengers",
        "sales_channel",
        "trip_type",
        "purchase_lead",
        "length_of_stay",
        "flight_hour",
        "flight_day",
        "route",
        "origin_airport",
        "destination_airport",
        "booking_origin",
        "wants_extra_baggage",
        "wants_preferred_seat",
        "wants_in_flight_meals",
        "flight_duration",
    }
)
TARGET_SUFFIX: Final = "_completion_rate"


def target_feature(categorical: FeatureDefinition) -> FeatureDefinition:
    """The target-encoded twin of a categorical feature (same source field, same tier)."""
    if categorical.kind != "categorical":
        raise ValueError(f"{categorical.name} is not categorical")
    return FeatureDefinition(
        name=categorical.name + TARGET_SUFFIX,
        kind="target",
        source=categorical.source,
        tier=categorical.tier,
        description=f"smoothed completion rate in training of: {categorical.description}",
    )


@dataclass(frozen=True)
class TargetEncoding:
    """The completion rate of each category kept, and of "other" (rare, unseen or missing)."""

    rates: dict[str, float]
    other: float
    smoothing: float

    def rate(self, value: Any) -> float:
        key = category_key(value)
        return self.other if key is None else self.rates.get(key, self.other)


def tiers_up_to(tier: str) -> tuple[str, ...]:
    """The cumulative tiers: ``tiers_up_to("Pro") == ("Basic", "Pro")``."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    return TIERS[: TIERS.index(tier) + 1]


def to_number(value: Any) -> float:
    """The numeric encoding of one value (NaN when missing or unparsable)."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return 1.0 if text.lower() == "true" else 0.0
        try:
            return float(text)
        except ValueError:
            return math.nan
    return math.nan


def category_key(value: Any) -> str | None:
    """The vocabulary key of one categorical value (None when missing)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def build_vocabulary(counts: Mapping[str, int], min_count: int) -> list[str]:
    """The categories kept: seen at least ``min_count`` times, most frequent first, ties by name."""
    kept = [(value, n) for value, n in counts.items() if n >= min_count]
    kept.sort(key=lambda item: (-item[1], item[0]))
    return [value for value, _ in kept]


@dataclass
class FeatureSpec:
    """The features a model was trained on, with the category vocabularies it learned."""

    features: list[FeatureDefinition]
    vocabularies: dict[str, list[str]]
    min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT
    target_encodings: dict[str, TargetEncoding] = field(default_factory=dict)
    spec_version: str = FEATURE_SPEC_VERSION
    schema_version: str = SCHEMA_VERSION
    _lookups: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lookups = {
            name: {value: position + 1 for position, value in enumerate(vocabulary)}
            for name, vocabulary in self.vocabularies.items()
        }
        missing = [
            f.name
            for f in self.features
            if f.kind == "categorical" and f.name not in self.vocabularies
        ]
        if missing:
            raise ValueError("feature spec has no vocabulary for: " + ", ".join(missing))
        unencoded = [
            f.name
            for f in self.features
            if f.kind == "target" and f.name not in self.target_encodings
        ]
        if unencoded:
            raise ValueError("feature spec has no target encoding for: " + ", ".join(unencoded))

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical_names(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "categorical"]

    def lookup(self, feature_name: str) -> dict[str, int]:
        """Category -> code for one categorical feature."""
        return self._lookups[feature_name]

    def restricted_to(self, tiers: Sequence[str]) -> FeatureSpec:
        """The same spec limited to the features of the given tiers."""
        return self.selected([f.name for f in self.features if f.tier in tiers])

    def selected(self, names: Iterable[str]) -> FeatureSpec:
        """The same spec limited to the named features (in the spec's order)."""
        wanted = set(names)
        features = [f for f in self.features if f.name in wanted]
        return FeatureSpec(
            features=features,
            vocabularies={
                f.name: self.vocabularies[f.name] for f in features if f.kind == "categorical"
            },
            min_category_count=self.min_category_count,
            target_encodings={
                f.name: self.target_encodings[f.name] for f in features if f.kind == "target"
            },
            spec_version=self.spec_version,
            schema_version=self.schema_version,
        )

    def encode_record(self, record: Mapping[str, Any]) -> list[float]:
        """One enriched booking as the model's input row (same order as ``feature_names``)."""
        row: list[float] = []
        for feature in self.features:
            value = record.get(feature.source)
            if feature.kind == "numeric":
                row.append(to_number(value))
            elif feature.kind == "target":
                row.append(self.target_encodings[feature.name].rate(value))
            else:
                key = category_key(value)
                code = (
                    OTHER_CODE if key is None else self._lookups[feature.name].get(key, OTHER_CODE)
                )
                row.append(float(code))
        return row

    def encode_records(self, records: Iterable[Mapping[str, Any]]) -> list[list[float]]:
        return [self.encode_record(record) for record in records]

    def _kind_fields(self, feature: FeatureDefinition) -> dict[str, Any]:
        if feature.kind == "categorical":
            return {"vocabulary": self.vocabularies[feature.name]}
        if feature.kind == "target":
            encoding = self.target_encodings[feature.name]
            return {
                "smoothing": encoding.smoothing,
                "other_rate": encoding.other,
                "rates": encoding.rates,
            }
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec_version": self.spec_version,
            "schema_version": self.schema_version,
            "min_category_count": self.min_category_count,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "source": f.source,
                    "tier": f.tier,
                    "description": f.description,
                    **self._kind_fields(f),
                }
                for f in self.features
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        spec_version = str(data.get("spec_version", ""))
        if spec_version.split(".")[0] != FEATURE_SPEC_VERSION.split(".")[0]:
            raise ValueError(
                f"feature spec version {spec_version!r} is not readable by this code "
                f"(expects {FEATURE_SPEC_VERSION})"
            )
        features: list[FeatureDefinition] = []
        vocabularies: dict[str, list[str]] = {}
        target_encodings: dict[str, TargetEncoding] = {}
        for item in data["features"]:
            kind = item["kind"]
            if kind not in FEATURE_KINDS:
                raise ValueError(f"feature {item['name']!r} has unknown kind {kind!r}")
            features.append(
                FeatureDefinition(
                    name=str(item["name"]),
                    kind=kind,
                    source=str(item["source"]),
                    tier=str(item["tier"]),
                    description=str(item.get("description", "")),
                )
            )
            if kind == "categorical":
                vocabularies[str(item["name"])] = [str(v) for v in item["vocabulary"]]
            elif kind == "target":
                target_encodings[str(item["name"])] = TargetEncoding(
                    rates={str(k): float(v) for k, v in item["rates"].items()},
                    other=float(item["other_rate"]),
                    smoothing=float(item["smoothing"]),
                )
        return cls(
            features=features,
            vocabularies=vocabularies,
            target_encodings=target_encodings,
            min_category_count=int(data.get("min_category_count", DEFAULT_MIN_CATEGORY_COUNT)),
            spec_version=spec_version,
            schema_version=str(data.get("schema_version", SCHEMA_VERSION)),
        )


def fit_spec_from_counts(
    category_counts: Mapping[str, Mapping[str, int]],
    *,
    min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT,
    definitions: Sequence[FeatureDefinition] = FEATURE_DEFINITIONS,
) -> FeatureSpec:
    """A spec from per-feature category counts (how the vectorised trainer fits it)."""
    vocabularies = {
        f.name: build_vocabulary(category_counts.get(f.name, {}), min_category_count)
        for f in definitions
        if f.kind == "categorical"
    }
    return FeatureSpec(
        features=list(definitions),
        vocabularies=vocabularies,
        min_category_count=min_category_count,
    )


def fit_spec(
    records: Iterable[Mapping[str, Any]],
    *,
    min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT,
    definitions: Sequence[FeatureDefinition] = FEATURE_DEFINITIONS,
) -> FeatureSpec:
    """Learn the category vocabularies from training bookings."""
    categorical = [f for f in definitions if f.kind == "categorical"]
    counts: dict[str, Counter[str]] = {f.name: Counter() for f in categorical}
    for record in records:
        for feature in categorical:
            key = category_key(record.get(feature.source))
            if key is not None:
                counts[feature.name][key] += 1
    return fit_spec_from_counts(
        counts, min_category_count=min_category_count, definitions=definitions
    )
