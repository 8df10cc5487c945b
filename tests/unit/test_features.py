"""The feature specification and the pure-Python encoder (booking_core.features)."""

from __future__ import annotations

import json
import math

import pytest
from booking_core.features import (
    FEATURE_DEFINITIONS,
    OTHER_CODE,
    FeatureSpec,
    build_vocabulary,
    fit_spec,
    tiers_up_to,
    to_number,
)
from booking_core.schema import FIELD_TIERS, TIERS


def _spec(records: list[dict[str, object]], min_count: int = 2) -> FeatureSpec:
    return fit_spec(records, min_category_count=min_count)


def test_vocabulary_keeps_frequent_values_most_frequent_first() -> None:
    counts = {"AU": 5, "MY": 9, "NZ": 1, "CN": 5}
    assert build_vocabulary(counts, 2) == ["MY", "AU", "CN"]
    assert build_vocabulary(counts, 10) == []


def test_rare_unseen_and_missing_categories_share_the_other_code() -> None:
    records = [{"booking_origin_code": "AU"}] * 3 + [{"booking_origin_code": "NZ"}]
    spec = _spec(records)
    position = spec.feature_names.index("booking_origin")
    assert spec.vocabularies["booking_origin"] == ["AU"]
    assert spec.encode_record({"booking_origin_code": "AU"})[position] == 1.0
    for value in ("NZ", "ZZ", None):
        assert spec.encode_record({"booking_origin_code": value})[position] == OTHER_CODE


def test_numbers_booleans_and_missing_values() -> None:
    assert to_number(3) == 3.0
    assert to_number(True) == 1.0
    assert to_number(False) == 0.0
    assert to_number("4.5") == 4.5
    assert math.isnan(to_number(None))
    assert math.isnan(to_number("n/a"))
    spec = _spec([{}])
    row = spec.encode_record({"is_domestic": None, "is_weekend": True, "purchase_lead": 21})
    assert math.isnan(row[spec.feature_names.index("is_domestic")])
    assert row[spec.feature_names.index("is_weekend")] == 1.0
    assert row[spec.feature_names.index("purchase_lead")] == 21.0


def test_every_feature_belongs_to_the_tier_of_its_source_field() -> None:
    names = [f.name for f in FEATURE_DEFINITIONS]
    assert len(names) == len(set(names))
    for tier, fields in FIELD_TIERS.items():
        # each collected field of the tier is used by at least one feature of that tier
        for field in fields:
            assert any(
                f.tier == tier and field in (f.name, f.source.removesuffix("_code"))
                for f in FEATURE_DEFINITIONS
            ), field
    assert {f.tier for f in FEATURE_DEFINITIONS} == set(TIERS)


def test_tiers_are_cumulative_and_restrict_the_spec() -> None:
    assert tiers_up_to("Basic") == ("Basic",)
    assert tiers_up_to("Premium") == TIERS
    with pytest.raises(ValueError, match="unknown tier"):
        tiers_up_to("Gold")
    spec = _spec([{"route": "KULMEL", "booking_origin_code": "MY"}] * 3)
    basic = spec.restricted_to(tiers_up_to("Basic"))
    assert {f.tier for f in basic.features} == {"Basic"}
    assert "route" not in basic.feature_names
    assert "booking_origin" in basic.feature_names
    record = {"route": "KULMEL", "booking_origin_code": "MY", "num_passengers": 2}
    full_row = spec.encode_record(record)
    assert basic.encode_record(record) == [
        full_row[spec.feature_names.index(name)] for name in basic.feature_names
    ]


def test_spec_survives_a_json_round_trip() -> None:
    records = [
        {"route": "KULMEL", "booking_origin_code": "MY", "sales_channel": "Internet"},
        {"route": "KULMEL", "booking_origin_code": "AU", "sales_channel": "Mobile"},
    ] * 3
    spec = _spec(records)
    restored = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert restored.feature_names == spec.feature_names
    assert restored.vocabularies == spec.vocabularies
    probe = {"route": "KULMEL", "booking_origin_code": "AU", "sales_channel": "Web"}
    assert restored.encode_record(probe) == spec.encode_record(probe)


def test_a_spec_of_another_major_version_is_refused() -> None:
    data = _spec([{}]).to_dict()
    data["spec_version"] = "2.0.0"
    with pytest.raises(ValueError, match="not readable"):
        FeatureSpec.from_dict(data)
