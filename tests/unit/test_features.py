"""The feature specification and the pure-Python encoder (booking_core.features)."""

from __future__ import annotations

import json
import math

import pytest
from booking_core.features import (
    FEATURE_DEFINITIONS,
    OTHER_CODE,
    TARGET_SUFFIX,
    FeatureSpec,
    TargetEncoding,
    build_vocabulary,
    fit_spec,
    target_feature,
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


def _target_spec() -> FeatureSpec:
    base = next(f for f in FEATURE_DEFINITIONS if f.name == "route")
    twin = target_feature(base)
    encoding = TargetEncoding(rates={"KULMEL": 0.31, "PENTPE": 0.12}, other=0.15, smoothing=20.0)
    return FeatureSpec(
        features=[base, twin],
        vocabularies={"route": ["KULMEL"]},
        target_encodings={twin.name: encoding},
    )


def test_target_encoded_features_read_the_rate_of_their_category() -> None:
    spec = _target_spec()
    assert spec.feature_names == ["route", "route" + TARGET_SUFFIX]
    assert spec.encode_record({"route": "KULMEL"}) == [1.0, 0.31]
    assert spec.encode_record({"route": "PENTPE"}) == [0.0, 0.12]
    # rare in training, unseen or missing: the rate of "other"
    assert spec.encode_record({"route": "AKLDEL"}) == [0.0, 0.15]
    assert spec.encode_record({}) == [0.0, 0.15]


def test_a_target_encoded_spec_survives_a_json_round_trip() -> None:
    spec = _target_spec()
    text = json.dumps(spec.to_dict())
    restored = FeatureSpec.from_dict(json.loads(text))
    assert restored.target_encodings == spec.target_encodings
    assert restored.to_dict() == spec.to_dict()
    for route in ("KULMEL", "PENTPE", "AKLDEL", None):
        assert restored.encode_record({"route": route}) == spec.encode_record({"route": route})
    # restricting by tier keeps the encodings of the features kept
    assert spec.restricted_to(("Basic", "Pro")).target_encodings == spec.target_encodings
    assert spec.restricted_to(("Basic",)).target_encodings == {}


def test_a_spec_of_the_previous_minor_version_still_reads() -> None:
    data = _spec([{"route": "KULMEL"}] * 3).to_dict()
    data["spec_version"] = "1.0.0"
    restored = FeatureSpec.from_dict(data)
    assert restored.encode_record({"route": "KULMEL"}) == _spec(
        [{"route": "KULMEL"}] * 3
    ).encode_record({"route": "KULMEL"})


def test_a_target_feature_needs_its_encoding() -> None:
    spec = _target_spec()
    with pytest.raises(ValueError, match="no target encoding for: route_completion_rate"):
        FeatureSpec(features=spec.features, vocabularies=spec.vocabularies)
    with pytest.raises(ValueError, match="not categorical"):
        target_feature(next(f for f in FEATURE_DEFINITIONS if f.kind == "numeric"))
