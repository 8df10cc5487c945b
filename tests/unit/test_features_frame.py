"""The vectorised encoder (bookings.ml.frame) against the pure-Python one, on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from booking_core.features import TargetEncoding, fit_spec, target_feature
from support.ml_helpers import enriched_bookings

from bookings.ml.frame import encode_frame, fit_spec_frame


def test_both_fitters_learn_the_same_spec() -> None:
    records = enriched_bookings(3000, seed=21)
    python_spec = fit_spec(records, min_category_count=10)
    frame_spec = fit_spec_frame(pd.DataFrame.from_records(records), min_category_count=10)
    assert frame_spec.to_dict() == python_spec.to_dict()
    assert len(python_spec.vocabularies["route"]) > 10


def test_both_encoders_build_exactly_the_same_matrix() -> None:
    train = enriched_bookings(3000, seed=22)
    spec = fit_spec(train, min_category_count=10)
    # other data than the spec was learned on: unseen categories, missing values, odd types
    scored = enriched_bookings(2000, seed=23)
    scored[0]["route_distance_km"] = None
    scored[1]["is_domestic"] = None
    scored[2]["booking_origin_code"] = "ZZ"
    scored[3]["route"] = None
    expected = np.asarray(spec.encode_records(scored), dtype=np.float64)
    actual = encode_frame(spec, pd.DataFrame.from_records(scored))
    assert actual.shape == (len(scored), len(spec.features))
    np.testing.assert_array_equal(actual, expected)
    assert np.isnan(actual[0, spec.feature_names.index("route_distance_km")])
    assert actual[3, spec.feature_names.index("route")] == 0.0
    # the data exercises the "other" code and real categories alike
    route_codes = actual[:, spec.feature_names.index("route")]
    assert (route_codes == 0).any()
    assert (route_codes > 0).any()


def test_missing_columns_encode_as_missing() -> None:
    spec = fit_spec(enriched_bookings(500, seed=24), min_category_count=5)
    frame = pd.DataFrame({"num_passengers": [1, 2]})
    matrix = encode_frame(spec, frame)
    expected = np.asarray(spec.encode_records([{"num_passengers": 1}, {"num_passengers": 2}]))
    np.testing.assert_array_equal(matrix, expected)


def test_both_encoders_agree_on_target_encoded_features() -> None:
    spec = fit_spec(enriched_bookings(2000, seed=25), min_category_count=5)
    bases = [f for f in spec.features if f.name in ("route", "booking_origin")]
    twins = [target_feature(f) for f in bases]
    encodings = {
        twin.name: TargetEncoding(
            rates={v: 0.05 + i / 1000 for i, v in enumerate(spec.vocabularies[base.name])},
            other=0.151,
            smoothing=20.0,
        )
        for twin, base in zip(twins, bases, strict=True)
    }
    route_twin = twins[[b.name for b in bases].index("route")]
    target_spec = type(spec)(
        features=[*spec.features, *twins],
        vocabularies=spec.vocabularies,
        target_encodings=encodings,
    )
    scored = enriched_bookings(1500, seed=26)
    scored[0]["route"] = None
    scored[1]["booking_origin_code"] = "ZZ"
    expected = np.asarray(target_spec.encode_records(scored), dtype=np.float64)
    actual = encode_frame(target_spec, pd.DataFrame.from_records(scored))
    np.testing.assert_array_equal(actual, expected)
    route_rates = actual[:, target_spec.feature_names.index(route_twin.name)]
    assert route_rates[0] == 0.151
    assert len(set(route_rates.tolist())) > 5
    # a column missing from the frame encodes as "other", like a missing value
    without_route = encode_frame(
        target_spec, pd.DataFrame.from_records(scored).drop(columns="route")
    )
    assert np.all(without_route[:, target_spec.feature_names.index(route_twin.name)] == 0.151)
