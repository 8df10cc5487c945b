"""Training, calibration, packaging and loading of the booking-completion model."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from support.ml_helpers import enriched_bookings, train_small_model

import bookings.ml.inference as inference_module
from bookings.ml.frame import encode_frame, records_to_frame
from bookings.ml.inference import load_model
from bookings.ml.metrics import best_f1_threshold, calibration_table, lift_table
from bookings.ml.training import TrainingOptions, train_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    return train_small_model(tmp_path_factory.mktemp("model"), n=5000, seed=5, tiers=True)


def test_metrics_are_honest_and_beat_the_baselines(trained) -> None:
    result, _ = trained
    m = result.metrics
    assert result.data["n_train"] + result.data["n_test"] == result.data["n_labelled"]
    assert result.data["n_test"] == pytest.approx(0.2 * result.data["n_labelled"], abs=1)
    # the generator has a real signal: a working model ranks far better than chance
    assert 0.7 < m["roc_auc_cv"] < 0.95
    assert 0.7 < m["test"]["roc_auc"] < 0.95
    assert m["pr_auc_cv"] > result.data["positive_rate"]
    assert m["brier_cv"] < result.data["positive_rate"] * (1 - result.data["positive_rate"])
    assert m["test"]["always_no_accuracy"] == pytest.approx(1 - m["test"]["positive_rate"])
    assert 0.5 < m["baselines"]["logistic_regression_test"]["roc_auc"] < 1
    assert len(m["cv_best_rounds"]) == 5
    assert m["final_rounds"] >= 1


def test_tiers_are_compared_with_growing_feature_sets(trained) -> None:
    result, _ = trained
    assert [t["tiers"] for t in result.tiers] == ["Basic", "Basic+Pro", "Basic+Pro+Premium"]
    features = [t["features"] for t in result.tiers]
    assert features == sorted(features)
    assert len(set(features)) == 3
    assert result.tiers[-1]["roc_auc_cv"] == result.metrics["roc_auc_cv"]
    assert all(0.5 < t["roc_auc_cv"] < 1 for t in result.tiers)


def test_calibration_is_monotone_and_the_threshold_is_a_probability(trained) -> None:
    result, _ = trained
    calibration = result.calibration
    assert calibration.method == "isotonic"
    # interpolated between the centres of the isotonic steps: strictly increasing between them
    assert np.all(np.diff(calibration.x) > 0)
    assert np.all(np.diff(calibration.y) > 0)
    assert 0 < calibration.threshold < 1
    raw = np.linspace(0, 1, 101)
    assert np.all(np.diff(calibration.apply(raw)) >= 0)
    inside = np.linspace(calibration.x[0], calibration.x[-1], 50)[1:-1]
    assert np.all(np.diff(calibration.apply(inside)) > 0)


def test_calibration_keeps_the_ranking_of_the_scores(trained) -> None:
    result, _ = trained
    fresh = records_to_frame(enriched_bookings(2000, seed=78))
    y = fresh["booking_complete"].to_numpy()
    raw = result.booster.predict(encode_frame(result.spec, fresh))
    calibrated = result.calibration.apply(raw)
    assert roc_auc_score(y, calibrated) == pytest.approx(roc_auc_score(y, raw), abs=1e-3)
    # and it moves the probabilities towards the observed rate where the booster is off
    assert brier_score_loss(y, calibrated) < brier_score_loss(y, raw) + 1e-3


def test_the_package_has_the_sagemaker_layout(trained) -> None:
    _, written = trained
    with tarfile.open(written.archive) as archive:
        names = set(archive.getnames())
        shipped_inference = archive.extractfile("code/inference.py").read()  # type: ignore[union-attr]
        metadata = json.load(archive.extractfile("metadata.json"))  # type: ignore[arg-type]
    for name in (
        "model.txt",
        "feature_spec.json",
        "calibration.json",
        "metadata.json",
        "code/inference.py",
        "code/requirements.txt",
        "code/booking_core/features.py",
        "code/booking_core/schema.py",
    ):
        assert name in names
    assert shipped_inference == Path(inference_module.__file__).read_bytes()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{12}", metadata["model_version"])
    assert metadata["model_version"] == written.model_version
    metrics = json.loads(written.metrics.read_text())
    for key in ("roc_auc_cv", "pr_auc_cv", "brier_cv", "n_train", "test", "tiers"):
        assert key in metrics
    card = written.card.read_text()
    assert written.model_version in card
    assert "Basic+Pro+Premium" in card
    assert "Calibration" in card


def test_the_loaded_model_scores_like_the_trained_one(trained) -> None:
    result, written = trained
    model = load_model(written.archive)
    assert model.model_version == written.model_version
    fresh = enriched_bookings(300, seed=77)
    expected = result.calibration.apply(
        result.booster.predict(encode_frame(result.spec, records_to_frame(fresh)))
    )
    np.testing.assert_allclose(model.predict_records(fresh), expected, rtol=0, atol=1e-12)
    # the directory holding model.tar.gz loads too
    assert load_model(written.archive.parent).model_version == written.model_version


def test_training_refuses_data_with_too_few_of_one_outcome() -> None:
    frame = records_to_frame(enriched_bookings(200, seed=3))
    frame["booking_complete"] = 0
    frame.loc[:3, "booking_complete"] = 1
    with pytest.raises(ValueError, match="too few bookings"):
        train_model(frame, TrainingOptions(compare_tiers=False))


def test_metric_tables_on_a_known_example() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1] * 10)
    p = np.where(y == 1, 0.9, 0.1) + np.linspace(0, 0.01, 100)
    lift = lift_table(y, p)
    assert lift[0]["completion_rate"] == 1.0
    assert lift[0]["lift"] == pytest.approx(5.0)
    assert lift[-1]["cumulative_capture"] == pytest.approx(1.0)
    table = calibration_table(y, p)
    assert [row["n"] for row in table] == [10] * 10
    assert table[-1]["observed_rate"] == 1.0
    assert table[0]["observed_rate"] == 0.0
    assert 0.1 < best_f1_threshold(y, p) <= 0.91
