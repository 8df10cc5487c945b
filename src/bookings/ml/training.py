"""Training the booking-completion model, with an evaluation that does not fool itself.

1. A stratified 20% test split is set aside first and used for nothing but the final report.
2. The feature spec (category vocabularies) is learned on the training part only.
3. Stratified 5-fold cross-validation on the training part; inside each fold, early stopping watches
   an inner stratified validation split carved from the fold's training rows, never the fold's
   held-out rows. The out-of-fold predictions give the CV metrics, the isotonic calibration and the
   decision threshold (maximum F1).
4. The final model is trained on the whole training part with the median best round count of the
   folds, scaled up for the larger training set.
5. Baselines: always "no" (accuracy) and a logistic regression on the same features.
Nothing is resampled: the class balance of every split is the data's own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
from booking_core.features import (
    DEFAULT_MIN_CATEGORY_COUNT,
    FEATURE_DEFINITIONS,
    FeatureSpec,
    tiers_up_to,
)
from booking_core.schema import OUTCOME_FIELD, TIERS
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bookings.ml.frame import encode_frame, fit_spec_frame
from bookings.ml.inference import Calibration
from bookings.ml.metrics import (
    best_f1_threshold,
    calibration_table,
    lift_table,
    probability_metrics,
    threshold_metrics,
)

# Conservative settings that suit tabular data of this size (tens of thousands of rows, a few
# high-cardinality categories): a small learning rate with early stopping, leaves that need 50
# bookings, row and column subsampling, and smoothed categorical splits so that a rare route or
# country cannot carry a split on its own.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 20.0,
    "cat_l2": 10.0,
    "min_data_per_group": 50,
    "max_cat_threshold": 32,
    "num_threads": 2,
    "verbosity": -1,
}
MAX_ROUNDS = 2000
EARLY_STOPPING_ROUNDS = 50
# The final model sees all training rows, about 1/(0.8*0.9) times a fold's fitting rows; more
# data supports somewhat more rounds, but far less than proportionally.
FINAL_ROUNDS_FACTOR = 1.1


@dataclass
class TrainingOptions:
    folds: int = 5
    test_fraction: float = 0.2
    inner_validation_fraction: float = 0.1
    seed: int = 42
    min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT
    compare_tiers: bool = True
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    max_rounds: int = MAX_ROUNDS
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS


@dataclass
class CrossValidation:
    oof: np.ndarray
    best_rounds: list[int]
    metrics: dict[str, float]


@dataclass
class TrainingResult:
    booster: lightgbm.Booster
    spec: FeatureSpec
    calibration: Calibration
    metrics: dict[str, Any]
    importance: list[dict[str, Any]]
    tiers: list[dict[str, Any]]
    hyperparameters: dict[str, Any]
    data: dict[str, Any]
    seconds: float


def _categorical_positions(spec: FeatureSpec) -> list[int]:
    return [i for i, f in enumerate(spec.features) if f.kind == "categorical"]


def _dataset(spec: FeatureSpec, x: np.ndarray, y: np.ndarray) -> lightgbm.Dataset:
    return lightgbm.Dataset(
        x,
        label=y,
        feature_name=spec.feature_names,
        categorical_feature=_categorical_positions(spec),
        free_raw_data=False,
        params={"verbosity": -1},
    )


def _fit_with_early_stopping(
    spec: FeatureSpec, x: np.ndarray, y: np.ndarray, options: TrainingOptions, seed: int
) -> lightgbm.Booster:
    fit_idx, valid_idx = train_test_split(
        np.arange(len(y)),
        test_size=options.inner_validation_fraction,
        stratify=y,
        random_state=seed,
    )
    train_set = _dataset(spec, x[fit_idx], y[fit_idx])
    valid_set = train_set.create_valid(x[valid_idx], label=y[valid_idx])
    return lightgbm.train(
        {**options.params, "seed": seed, "metric": "binary_logloss"},
        train_set,
        num_boost_round=options.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lightgbm.early_stopping(options.early_stopping_rounds, verbose=False)],
    )


def cross_validate(
    spec: FeatureSpec, x: np.ndarray, y: np.ndarray, options: TrainingOptions
) -> CrossValidation:
    folds = StratifiedKFold(n_splits=options.folds, shuffle=True, random_state=options.seed)
    oof = np.zeros(len(y), dtype=np.float64)
    best_rounds: list[int] = []
    for fold, (fit_idx, held_idx) in enumerate(folds.split(x, y)):
        booster = _fit_with_early_stopping(
            spec, x[fit_idx], y[fit_idx], options, seed=options.seed + fold
        )
        best_rounds.append(int(booster.best_iteration or booster.current_iteration()))
        oof[held_idx] = booster.predict(x[held_idx], num_iteration=booster.best_iteration)
    return CrossValidation(oof=oof, best_rounds=best_rounds, metrics=probability_metrics(y, oof))


def fit_calibration(y: np.ndarray, raw: np.ndarray) -> Calibration:
    """Isotonic regression on out-of-fold predictions, stored as its breakpoints."""
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    calibrated = isotonic.predict(raw)
    return Calibration(
        method="isotonic",
        x=[float(v) for v in isotonic.X_thresholds_],
        y=[float(v) for v in isotonic.y_thresholds_],
        threshold=best_f1_threshold(y, calibrated),
    )


def logistic_baseline(spec: FeatureSpec, x: np.ndarray, y: np.ndarray) -> Pipeline:
    """Logistic regression on the same encoded features: one-hot categories, scaled numbers."""
    categorical = _categorical_positions(spec)
    numeric = [i for i in range(len(spec.features)) if i not in categorical]
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        (
                            "numeric",
                            Pipeline(
                                [
                                    ("impute", SimpleImputer(strategy="median")),
                                    ("scale", StandardScaler()),
                                ]
                            ),
                            numeric,
                        ),
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=2000, C=1.0)),
        ]
    )
    return model.fit(x, y)


def _importance(booster: lightgbm.Booster, spec: FeatureSpec) -> list[dict[str, Any]]:
    gains = booster.feature_importance(importance_type="gain")
    total = float(np.sum(gains)) or 1.0
    rows = [
        {"feature": f.name, "tier": f.tier, "gain": float(g), "share": float(g) / total}
        for f, g in zip(spec.features, gains, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["gain"])


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    return frame[OUTCOME_FIELD].astype(np.int64).to_numpy()


def train_model(frame: pd.DataFrame, options: TrainingOptions | None = None) -> TrainingResult:
    """Train and evaluate on a frame of labelled enriched bookings (one booking per row)."""
    options = options or TrainingOptions()
    started = time.perf_counter()
    y_all = labels_of(frame)
    positives = int(y_all.sum())
    if positives < options.folds * 2 or len(y_all) - positives < options.folds * 2:
        raise ValueError(
            f"too few bookings of each outcome to train ({positives} completed, "
            f"{len(y_all) - positives} not completed; need at least {options.folds * 2} of each)"
        )
    train_idx, test_idx = train_test_split(
        np.arange(len(frame)),
        test_size=options.test_fraction,
        stratify=y_all,
        random_state=options.seed,
    )
    train_frame = frame.iloc[train_idx]
    test_frame = frame.iloc[test_idx]
    y_train, y_test = y_all[train_idx], y_all[test_idx]

    spec = fit_spec_frame(
        train_frame, min_category_count=options.min_category_count, definitions=FEATURE_DEFINITIONS
    )
    x_train = encode_frame(spec, train_frame)
    x_test = encode_frame(spec, test_frame)

    cv = cross_validate(spec, x_train, y_train, options)
    calibration = fit_calibration(y_train, cv.oof)
    oof_calibrated = calibration.apply(cv.oof)

    final_rounds = max(1, math.ceil(float(np.median(cv.best_rounds)) * FINAL_ROUNDS_FACTOR))
    booster = lightgbm.train(
        {**options.params, "seed": options.seed},
        _dataset(spec, x_train, y_train),
        num_boost_round=final_rounds,
    )
    test_probability = calibration.apply(booster.predict(x_test))

    baseline = logistic_baseline(spec, x_train, y_train)
    baseline_test = baseline.predict_proba(x_test)[:, 1]

    metrics: dict[str, Any] = {
        "roc_auc_cv": cv.metrics["roc_auc"],
        "pr_auc_cv": cv.metrics["pr_auc"],
        "brier_cv": cv.metrics["brier"],
        "log_loss_cv": cv.metrics["log_loss"],
        "cv_best_rounds": cv.best_rounds,
        "final_rounds": final_rounds,
        "cv_at_threshold": threshold_metrics(y_train, oof_calibrated, calibration.threshold),
        "test": {
            **probability_metrics(y_test, test_probability),
            **threshold_metrics(y_test, test_probability, calibration.threshold),
            "n": len(y_test),
            "positive_rate": float(np.mean(y_test)),
        },
        "baselines": {
            "always_no_accuracy_test": float(1.0 - np.mean(y_test)),
            "logistic_regression_test": probability_metrics(y_test, baseline_test),
        },
        "calibration_test": calibration_table(y_test, test_probability),
        "lift_test": lift_table(y_test, test_probability),
    }

    tiers: list[dict[str, Any]] = []
    if options.compare_tiers:
        for tier in TIERS:
            included = tiers_up_to(tier)
            if tier == TIERS[-1]:
                tier_metrics = cv.metrics
            else:
                tier_spec = spec.restricted_to(included)
                columns = [spec.feature_names.index(name) for name in tier_spec.feature_names]
                tier_metrics = cross_validate(
                    tier_spec, x_train[:, columns], y_train, options
                ).metrics
            tiers.append(
                {
                    "tiers": "+".join(included),
                    "features": len(spec.restricted_to(included).features),
                    "roc_auc_cv": tier_metrics["roc_auc"],
                    "pr_auc_cv": tier_metrics["pr_auc"],
                    "brier_cv": tier_metrics["brier"],
                }
            )

    return TrainingResult(
        booster=booster,
        spec=spec,
        calibration=calibration,
        metrics=metrics,
        importance=_importance(booster, spec),
        tiers=tiers,
        hyperparameters={
            **options.params,
            "max_rounds": options.max_rounds,
            "early_stopping_rounds": options.early_stopping_rounds,
            "inner_validation_fraction": options.inner_validation_fraction,
            "folds": options.folds,
            "test_fraction": options.test_fraction,
            "seed": options.seed,
            "min_category_count": options.min_category_count,
            "final_rounds_factor": FINAL_ROUNDS_FACTOR,
        },
        data={
            "n_labelled": len(y_all),
            "n_train": len(y_train),
            "n_test": len(y_test),
            "positive_rate": float(np.mean(y_all)),
        },
        seconds=time.perf_counter() - started,
    )
