"""Evaluating a trained model on labelled bookings it has not seen."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from bookings.ml.baselines import logistic_baseline
from bookings.ml.frame import encode_frame
from bookings.ml.inference import BookingModel
from bookings.ml.metrics import (
    calibration_table,
    lift_table,
    probability_metrics,
    threshold_metrics,
)
from bookings.ml.training import labels_of

BASELINE_FOLDS = 5


def evaluate_model(model: BookingModel, frame: pd.DataFrame, seed: int = 42) -> dict[str, Any]:
    """Metrics of ``model`` on ``frame`` (labelled enriched bookings), with two baselines: always
    "no", and a logistic regression on the same features, cross-validated on this same data (so
    it is a fair reference without a second data set)."""
    if frame.empty:
        raise ValueError("no labelled bookings to evaluate on (rows need booking_complete)")
    y = labels_of(frame)
    if y.min() == y.max():
        raise ValueError("the evaluation data has only one outcome; ROC AUC is undefined")
    matrix = encode_frame(model.spec, frame)
    probability = model.probabilities(matrix)
    folds = StratifiedKFold(
        n_splits=min(BASELINE_FOLDS, int(np.bincount(y).min())), shuffle=True, random_state=seed
    )
    baseline = cross_val_predict(
        logistic_baseline(model.spec, matrix, y), matrix, y, cv=folds, method="predict_proba"
    )[:, 1]
    return {
        "model_version": model.model_version,
        "n": len(y),
        "positive_rate": float(np.mean(y)),
        "model": probability_metrics(y, probability),
        "at_threshold": threshold_metrics(y, probability, model.threshold),
        "baselines": {
            "always_no_accuracy": float(1.0 - np.mean(y)),
            "logistic_regression_cv": probability_metrics(y, baseline),
        },
        "calibration": calibration_table(y, probability),
        "lift": lift_table(y, probability),
    }
